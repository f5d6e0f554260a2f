"""Idle crawlers take work from a Redis list: article URLs or ids, and ``channel:<name>`` entries.

The feed asks the spider only through ``WorkSpider``. Docs: docs/distributed.md.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from redis.exceptions import RedisError
from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import CloseSpider, DontCloseSpider, NotConfigured

from crawler.distributed.connection import Outage
from crawler.stats import REDIS_FED, inc
from crawler.store.redis import safe_url

if TYPE_CHECKING:
    from crawler.distributed.scheduler import RedisScheduler

logger = logging.getLogger(__name__)

# The prefix of a start-URLs entry that names a channel rather than an article.
CHANNEL_PREFIX = "channel:"


@runtime_checkable
class WorkSpider(Protocol):
    """What the Redis feed asks of a spider (the qq spider implements it)."""

    def article_requests(self, inputs: list[str]) -> Iterable[Request]:
        """Requests for article URLs or ids (bad ones logged and counted by the spider)."""
        ...

    def channel_requests(self, names: list[str]) -> Iterable[Request]:
        """Requests for the first feed page of each channel name or id."""
        ...


class RedisFeed:
    """Gives an idle crawler work from the start-URLs list (leased, queued, then acknowledged);
    closes it after ``MAX_IDLE_TIME_BEFORE_CLOSE`` seconds with nothing to do anywhere."""

    def __init__(self, crawler: Crawler) -> None:
        settings = crawler.settings
        if not settings["REDIS_URL"]:
            raise NotConfigured
        self.crawler = crawler
        self.url = safe_url(settings["REDIS_URL"])
        self.key_template: str = settings["REDIS_START_URLS_KEY"]
        self.key = ""
        self.batch = settings.getint("CONCURRENT_REQUESTS")
        self.max_idle = settings.getfloat("MAX_IDLE_TIME_BEFORE_CLOSE")
        self.outage = Outage(self.url, settings.getfloat("REDIS_LOST_TIMEOUT"), crawler)
        self.idle_since: float | None = None  # since the crawler found nothing to do

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RedisFeed:
        feed = cls(crawler)
        crawler.signals.connect(feed.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(feed.spider_idle, signal=signals.spider_idle)
        crawler.signals.connect(feed.scheduler_empty, signal=signals.scheduler_empty)
        return feed

    def spider_opened(self, spider: Spider) -> None:
        if not isinstance(spider, WorkSpider):
            logger.error("Spider %r cannot take work from Redis: it has no article_requests()/channel_requests()", spider.name)
            raise CloseSpider("bad_spider")
        self.key = self.key_template % {"name": spider.name}
        logger.info("Reading work from Redis list %r at %s (closing after %g s idle)", self.key, self.url, self.max_idle)

    def spider_idle(self, spider: Spider) -> None:
        assert self.crawler.engine is not None
        scheduler = self.crawler.engine.scheduler
        try:
            scheduler.sweep()  # type: ignore[union-attr]
            scheduler.return_overdue()  # type: ignore[union-attr]
            taken = scheduler.leases.take_entries(self.batch)  # type: ignore[union-attr]
            leased = 0 if taken else scheduler.leases.leased_anywhere()  # type: ignore[union-attr]
        except RedisError as exc:
            if self.outage.failed(exc, "reading the start-URLs list"):
                raise CloseSpider(self.outage.give_up()) from exc
            raise DontCloseSpider from exc
        self.outage.recovered()
        if taken:
            self.queue(spider, scheduler, taken)  # type: ignore[arg-type]
            self.idle_since = None
            raise DontCloseSpider
        if leased:
            # Work in flight somewhere: if its crawler dies, it comes back for us to do.
            self.idle_since = None
            raise DontCloseSpider
        now = time.monotonic()
        self.idle_since = self.idle_since or now
        idle = now - self.idle_since
        if self.max_idle and idle >= self.max_idle:
            logger.info("Nothing to do for %.0f s (MAX_IDLE_TIME_BEFORE_CLOSE): closing", idle)
            return
        raise DontCloseSpider

    def scheduler_empty(self) -> None:
        """The shared queue ran dry while this crawler has room for more: lease entries now rather
        than when it is idle (its last pages done), so the queue never stalls crawlers."""
        assert self.crawler.engine is not None
        scheduler = self.crawler.engine.scheduler
        spider = self.crawler.spider
        if not getattr(scheduler, "drained", False) or not isinstance(spider, WorkSpider):
            return
        try:
            taken = scheduler.leases.take_entries(self.batch)  # type: ignore[union-attr]
        except RedisError:
            return  # counted and handled when the crawler is idle (spider_idle)
        if taken:
            self.queue(spider, scheduler, taken)  # type: ignore[arg-type]

    def queue(self, spider: WorkSpider, scheduler: RedisScheduler, taken: list[tuple[str, bytes]]) -> None:
        """Queue the requests of leased entries, then acknowledge the entries (if all were queued)."""
        assert self.crawler.engine is not None
        unqueued = scheduler.unqueued
        entries = [entry.decode("utf-8", errors="replace").strip() for _, entry in taken]
        for request in self.requests(spider, entries):
            self.crawler.engine.crawl(request)
        if scheduler.unqueued != unqueued:
            logger.warning("Entries given back (Redis at %s was away), to be read again from %r", self.url, self.key)
            scheduler.unreturned += [lease for lease, _ in taken]
            return
        try:
            scheduler.leases.ack([(lease, "") for lease, _ in taken])
        except RedisError as exc:
            logger.warning("Entries stay leased (Redis at %s: %s); the dupefilter skips what was queued", self.url, exc)
            return
        inc(self.crawler, REDIS_FED, len(taken))
        logger.info("Took %d entries from %r", len(taken), self.key)

    def requests(self, spider: WorkSpider, entries: list[str]) -> Iterable[Request]:
        """The requests for entries: channels' first feed pages after the articles. Articles
        already written are dropped by the dedup downloader middleware, like any request."""
        channels = [e.removeprefix(CHANNEL_PREFIX) for e in entries if e.startswith(CHANNEL_PREFIX)]
        yield from spider.article_requests([e for e in entries if not e.startswith(CHANNEL_PREFIX)])
        yield from spider.channel_requests(channels)


