"""The Redis client of the distributed components, and how long Redis has been away."""

from __future__ import annotations

import logging
import time

import redis
from scrapy.crawler import Crawler
from scrapy.settings import BaseSettings
from twisted.python.failure import Failure

from crawler.stats import REDIS_ERRORS, inc
from crawler.store.redis import redis_client

logger = logging.getLogger(__name__)


def client_for(settings: BaseSettings) -> redis.Redis:
    return redis_client(settings["REDIS_URL"], retries=settings.getint("REDIS_RETRIES"))


class Outage:
    """How long Redis has been away; logs the start and the end of an outage."""

    def __init__(self, url: str, timeout: float, crawler: Crawler) -> None:
        self.url = url
        self.timeout = timeout
        self.crawler = crawler
        self.since: float | None = None

    def failed(self, exc: Exception, doing: str) -> bool:
        """Count a failure; True once Redis has been away for longer than the timeout."""
        inc(self.crawler, REDIS_ERRORS)
        now = time.monotonic()
        if self.since is None:
            self.since = now
            logger.warning(
                "Redis at %s failed while %s (%s); retrying for up to %g s (REDIS_LOST_TIMEOUT)",
                self.url, doing, exc, self.timeout,
            )  # fmt: skip
        return now - self.since >= self.timeout

    def give_up(self) -> str:
        """Log why the crawl stops; the finish reason."""
        logger.error(
            "Redis at %s unreachable for more than %g s (REDIS_LOST_TIMEOUT): closing the crawl. "
            "Requests still queued stay in Redis for the next run; pages in progress are still written.",
            self.url, self.timeout,
        )  # fmt: skip
        return "redis_lost"

    def recovered(self) -> None:
        if self.since is not None:
            logger.warning("Redis at %s is back after %.1f s", self.url, time.monotonic() - self.since)
            self.since = None



def log_failure(failure: Failure) -> None:
    logger.error("Closing the crawl failed: %s", failure.getErrorMessage())
