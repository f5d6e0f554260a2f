"""Distributed crawling: several crawl processes share one Redis (scrapy-redis), switched on by
``REDIS_URL`` (``addon``). How it works, the settings, what Redis keeps: docs/distributed.md.
"""

from crawler.distributed.addon import DistributedAddon

__all__ = ["DistributedAddon"]
