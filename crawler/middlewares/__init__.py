"""Downloader middlewares (throttling and dedup live here)."""
