"""Switches a crawl to the shared Redis components when ``REDIS_URL`` is set (see the package docstring)."""

from __future__ import annotations

from scrapy.settings import BaseSettings


class DistributedAddon:
    """In ``ADDONS``: with ``REDIS_URL`` set, the Redis scheduler, dupefilter, work feed and store."""

    def update_settings(self, settings: BaseSettings) -> None:
        if not settings["REDIS_URL"]:
            return
        settings.set("SCHEDULER", "crawler.distributed.scheduler.RedisScheduler", priority="addon")
        settings["EXTENSIONS"]["crawler.distributed.feed.RedisFeed"] = 500
        # These have project-wide defaults in settings.py (for one machine); "project" priority
        # replaces those but not a value given on the command line or by a Scrapyd job.
        settings.set("DUPEFILTER_CLASS", "crawler.distributed.scheduler.RedisDupeFilter", priority="project")
        settings.set("STORE_BACKEND", "redis", priority="project")
        settings.set("SCHEDULER_PERSIST", True, priority="project")
