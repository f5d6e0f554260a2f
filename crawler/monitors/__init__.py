"""Monitors of every crawl (Spidermon): is qq.com still giving what the crawler expects? The suite
(``suite.py``), its checks, the schema and the validation pipeline, the actions on failure: what each
monitor checks and what a failure does is docs/monitoring.md.
"""
