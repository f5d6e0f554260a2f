"""Idle crawlers take work from a Redis list: article URLs or ids, and ``channel:<name>`` entries.

The feed talks to the spider through ``WorkSpider``, the one interface it needs: requests for a
list of article inputs, and for the first feed pages of a list of channels.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from typing import Protocol, runtime_checkable

from redis.exceptions import RedisError
from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import CloseSpider, DontCloseSpider, NotConfigured

from crawler.distributed.connection import Outage, client_for
from crawler.store.redis import safe_url

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
    """Gives an idle crawler work from the start-URLs list; closes it after an idle time.

    Entries are article URLs or ids (as ``-a urls=``/``ids=``), or ``channel:<name>`` (the first
    feed page of a channel). Push with ``redis-cli rpush qq:start_urls 20250207A090J800`` (read from
    the head: first in, first out). Entries are read, turned into requests, queued, and only then
    removed, so a Redis lost in between leaves them for the next run (where the shared dupefilter
    skips whatever was queued already) instead of losing them; two crawlers reading the same entries
    queue each request once for the same reason. A spider that is not a ``WorkSpider`` closes the
    crawl at start (``bad_spider``).

    Settings: ``REDIS_URL`` (empty: not enabled), ``REDIS_START_URLS_KEY``,
    ``MAX_IDLE_TIME_BEFORE_CLOSE``, ``CONCURRENT_REQUESTS`` (entries read at a time),
    ``REDIS_LOST_TIMEOUT``. Stats: ``redis/fed`` (entries this crawler took), ``redis/errors``.
    """

    def __init__(self, crawler: Crawler) -> None:
        settings = crawler.settings
        if not settings["REDIS_URL"]:
            raise NotConfigured
        self.crawler = crawler
        self.server = client_for(settings)
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
        return feed

    def spider_opened(self, spider: Spider) -> None:
        if not isinstance(spider, WorkSpider):
            logger.error("Spider %r cannot take work from Redis: it has no article_requests()/channel_requests()", spider.name)
            raise CloseSpider("bad_spider")
        self.key = self.key_template % {"name": spider.name}
        logger.info("Reading work from Redis list %r at %s (closing after %g s idle)", self.key, self.url, self.max_idle)

    def spider_idle(self, spider: Spider) -> None:
        try:
            # Read, queue, then remove: a Redis lost in between leaves the entries in the list for
            # the next run (whose dupefilter skips what was queued), never popped and lost.
            raw: list[bytes] = self.server.lrange(self.key, 0, self.batch - 1)
        except RedisError as exc:
            if self.outage.failed(exc, "reading the start-URLs list"):
                raise CloseSpider(self.outage.give_up()) from exc
            raise DontCloseSpider from exc
        self.outage.recovered()
        if raw:
            assert self.crawler.stats is not None and self.crawler.engine is not None
            scheduler = self.crawler.engine.scheduler
            unqueued = getattr(scheduler, "unqueued", 0)
            entries = [entry.decode("utf-8", errors="replace").strip() for entry in raw]
            for request in self.requests(spider, entries):  # type: ignore[arg-type]
                self.crawler.engine.crawl(request)
            if getattr(scheduler, "unqueued", 0) == unqueued:
                self._remove(raw)
            self.idle_since = None
            raise DontCloseSpider
        now = time.monotonic()
        self.idle_since = self.idle_since or now
        idle = now - self.idle_since
        if self.max_idle and idle >= self.max_idle:
            logger.info("Nothing to do for %.0f s (MAX_IDLE_TIME_BEFORE_CLOSE): closing", idle)
            return
        raise DontCloseSpider

    def _remove(self, raw: list[bytes]) -> None:
        try:
            with self.server.pipeline(transaction=False) as pipe:
                for entry in raw:
                    pipe.lrem(self.key, 1, entry)
                removed = sum(pipe.execute())
        except RedisError as exc:
            logger.warning("Entries stay in %r (Redis at %s: %s); the next run skips what was queued", self.key, self.url, exc)
            return
        # Another crawler may have read (and removed) the same entries: count only ours.
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value("redis/fed", removed)
        logger.info("Took %d entries from %r", removed, self.key)

    def requests(self, spider: WorkSpider, entries: list[str]) -> Iterable[Request]:
        """The requests for entries: channels' first feed pages after the articles. Articles
        already written are dropped by the dedup downloader middleware, like any request."""
        channels = [e.removeprefix(CHANNEL_PREFIX) for e in entries if e.startswith(CHANNEL_PREFIX)]
        yield from spider.article_requests([e for e in entries if not e.startswith(CHANNEL_PREFIX)])
        yield from spider.channel_requests(channels)


