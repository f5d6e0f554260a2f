"""Helpers shared by the test modules: project components without a reactor, real crawl subprocesses."""
