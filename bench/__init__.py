"""Benchmarks (not part of the crawler or its tests): see docs/BENCHMARKS.md for the commands."""
