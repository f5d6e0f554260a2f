"""Downloader middlewares: dedup (50, first), delay (60), throttle (560)."""
