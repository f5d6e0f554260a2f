"""Downloader middlewares: urlpolicy (40), dedup (50), delay (60), network (540 robots.txt, 590), throttle (560)."""
