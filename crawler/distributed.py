"""Distributed crawling: several crawl processes share one Redis (scrapy-redis), switched on by settings.

With ``REDIS_URL`` set, ``DistributedAddon`` (in ``ADDONS``) switches the crawl to:

* ``RedisScheduler``: scrapy-redis's scheduler, one request queue (``SCHEDULER_QUEUE_KEY``,
  default ``<spider>:requests``) that every process pops from;
* ``RedisDupeFilter``: scrapy-redis's dupefilter, one set of request fingerprints
  (``SCHEDULER_DUPEFILTER_KEY``, default ``<spider>:dupefilter``), so a request is fetched once
  by all processes together; persisted (``SCHEDULER_PERSIST = True``), so a later run does not
  fetch it again;
* ``RedisFeed``: work pushed to the start-URLs list (``REDIS_START_URLS_KEY``, default
  ``<spider>:start_urls``) is read by idle crawlers; a crawler closes after
  ``MAX_IDLE_TIME_BEFORE_CLOSE`` seconds with nothing to do (0: never);
* ``STORE_BACKEND = "redis"`` (unless given on the command line), the article store on the same Redis.

What scrapy-redis 0.9.1 gets wrong on Scrapy 2.19, and is adapted here rather than patched:
its scheduler passes ``spider=`` to the stats collector and calls ``spider.log()`` (both
deprecated, warnings in every crawl) and builds the dupefilter
through ``from_spider``/``from_settings`` (never called by Scrapy any more); its dupefilter uses
its own fingerprint instead of the crawler's ``REQUEST_FINGERPRINTER``; its ``RedisSpider``
relies on ``start_requests`` (gone since 2.16), turns plain-string entries into ``FormRequest``
with ``dont_filter=True`` (so two crawlers given the same id would both fetch it) and has no
handling for a lost Redis; the blocking pop of ``SCHEDULER_IDLE_BEFORE_CLOSE`` would freeze the
reactor, so it is not used. Its scheduler adds the fingerprint and pushes the request in two
calls (a Redis lost between them loses the request for good); here one Lua script does both.

A lost Redis: every call retries a bounded number of times (redis-py ``Retry``); while Redis stays
away the crawl keeps its in-flight work going and retries on every engine tick, and after
``REDIS_LOST_TIMEOUT`` seconds it closes with finish reason ``redis_lost``. Items already
downloaded are still written; requests still queued stay in Redis for the next run. Redis
unreachable at start: finish reason ``redis_unreachable``, an error naming the URL.

The shared dupefilter expires ``REDIS_DUPEFILTER_TTL`` seconds after the last request queued
(default one hour), so that whatever a lost Redis or a killed crawler left unwritten is fetched
by a later run; the article store (``crawler.store.redis``) keeps what was written for ever.

Stats: ``redis/fed`` (entries read from the start-URLs list), ``redis/errors`` (failed Redis
calls), ``redis/unqueued`` (requests not queued because Redis was away; logged with their URL),
``scheduler/enqueued/redis``, ``scheduler/dequeued/redis``, ``dupefilter/filtered``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from typing import Any

import redis
from redis.exceptions import RedisError
from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import CloseSpider, DontCloseSpider, NotConfigured
from scrapy.settings import BaseSettings
from scrapy.utils.defer import deferred_from_coro
from scrapy.utils.misc import build_from_crawler, load_object
from scrapy_redis import defaults
from scrapy_redis.dupefilter import RFPDupeFilter
from scrapy_redis.queue import FifoQueue, LifoQueue, PriorityQueue
from scrapy_redis.scheduler import Scheduler
from twisted.python.failure import Failure

from crawler.store.redis import redis_client, safe_url

logger = logging.getLogger(__name__)

# KEYS: dupefilter set, queue; ARGV: fingerprint, queue kind, score, request, dupefilter TTL.
ENQUEUE_SCRIPT = """
if redis.call('SADD', KEYS[1], ARGV[1]) == 0 then return 0 end
if tonumber(ARGV[5]) > 0 then redis.call('EXPIRE', KEYS[1], ARGV[5]) end
if ARGV[2] == 'zset' then redis.call('ZADD', KEYS[2], ARGV[3], ARGV[4]) else redis.call('LPUSH', KEYS[2], ARGV[4]) end
return 1
"""
_QUEUE_KINDS = {PriorityQueue: "zset", FifoQueue: "list", LifoQueue: "list"}

# Entries of the start-URLs list that are not article URLs or ids: "<kind>:<value>" is handed to
# the spider's method of this name (a list of values), when the spider has it.
FEED_KINDS = {"channel": "channel_requests"}


def client_for(settings: BaseSettings) -> redis.Redis:
    return redis_client(settings["REDIS_URL"], retries=settings.getint("REDIS_RETRIES", 3))


class DistributedAddon:
    """Switches the crawl to the shared Redis components when ``REDIS_URL`` is set (else nothing)."""

    def update_settings(self, settings: BaseSettings) -> None:
        if not settings.get("REDIS_URL"):
            return
        settings.set("SCHEDULER", "crawler.distributed.RedisScheduler", priority="addon")
        settings.set("DUPEFILTER_CLASS", "crawler.distributed.RedisDupeFilter", priority="addon")
        settings["EXTENSIONS"]["crawler.distributed.RedisFeed"] = 500
        # These have project-wide defaults in settings.py (for one machine); "project" priority
        # replaces those but not a value given on the command line or by a Scrapyd job.
        settings.set("STORE_BACKEND", "redis", priority="project")
        settings.set("SCHEDULER_PERSIST", True, priority="project")


class Outage:
    """How long Redis has been away; logs the start and the end of an outage."""

    def __init__(self, url: str, timeout: float, crawler: Crawler) -> None:
        self.url = url
        self.timeout = timeout
        self.crawler = crawler
        self.since: float | None = None

    def failed(self, exc: Exception, doing: str) -> bool:
        """Count a failure; True once Redis has been away for longer than the timeout."""
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value("redis/errors")
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


class RedisDupeFilter(RFPDupeFilter):
    """scrapy-redis's shared request dupefilter, built by ``from_crawler``, using the crawler's
    request fingerprinter. Key: ``SCHEDULER_DUPEFILTER_KEY`` % spider name."""

    def __init__(self, server: redis.Redis, key: str, crawler: Crawler, debug: bool = False) -> None:
        super().__init__(server, key, debug=debug)
        self.crawler = crawler
        self.fingerprinter = crawler.request_fingerprinter

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RedisDupeFilter:
        assert crawler.spider is not None
        settings = crawler.settings
        key = settings.get("SCHEDULER_DUPEFILTER_KEY", defaults.SCHEDULER_DUPEFILTER_KEY) % {"spider": crawler.spider.name}
        return cls(client_for(settings), key, crawler, debug=settings.getbool("DUPEFILTER_DEBUG"))

    def request_fingerprint(self, request: Request) -> str:
        return self.fingerprinter.fingerprint(request).hex()

    def log(self, request: Request, spider: Spider | None = None) -> None:
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value("dupefilter/filtered")
        if self.debug or self.logdupes:
            logger.debug("Filtered duplicate request (seen by this or another crawler): %s", request)
            self.logdupes = self.debug

    def close(self, reason: str = "") -> None:
        # scrapy-redis deletes the shared fingerprints here; the scheduler decides that (persist).
        pass


class RedisScheduler(Scheduler):
    """scrapy-redis's shared scheduler, adapted to Scrapy 2.19 and to a Redis that goes away.

    Settings: ``REDIS_URL``, ``SCHEDULER_PERSIST``, ``SCHEDULER_FLUSH_ON_START``,
    ``SCHEDULER_QUEUE_KEY``, ``SCHEDULER_QUEUE_CLASS``, ``SCHEDULER_DUPEFILTER_KEY``,
    ``DUPEFILTER_CLASS``, ``SCHEDULER_SERIALIZER``, ``REDIS_LOST_TIMEOUT``, ``REDIS_RETRIES``.
    """

    def __init__(self, crawler: Crawler, server: redis.Redis, **kwargs: Any) -> None:
        super().__init__(server, **kwargs)
        self.crawler = crawler
        self.stats = crawler.stats
        self.url = safe_url(crawler.settings["REDIS_URL"])
        self.outage = Outage(self.url, crawler.settings.getfloat("REDIS_LOST_TIMEOUT", 60), crawler)
        # The shared dupefilter remembers what was *queued*, not what was written: an article in
        # flight when a crawler died would be skipped for ever. It is forgotten this long after
        # the last request was queued; from then on the article store alone says what is written.
        self.dupefilter_ttl = crawler.settings.getint("REDIS_DUPEFILTER_TTL", 3600)
        self.opened = False
        self.closing: Any = None
        self.unqueued = 0  # requests not queued because Redis was away (RedisFeed keeps their entries)
        self._enqueue_script = server.register_script(ENQUEUE_SCRIPT)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RedisScheduler:
        settings = crawler.settings
        serializer = settings.get("SCHEDULER_SERIALIZER")
        scheduler = cls(
            crawler,
            client_for(settings),
            persist=settings.getbool("SCHEDULER_PERSIST"),
            flush_on_start=settings.getbool("SCHEDULER_FLUSH_ON_START"),
            queue_key=settings.get("SCHEDULER_QUEUE_KEY") or defaults.SCHEDULER_QUEUE_KEY,
            queue_cls=settings.get("SCHEDULER_QUEUE_CLASS") or defaults.SCHEDULER_QUEUE_CLASS,
            dupefilter_key=settings.get("SCHEDULER_DUPEFILTER_KEY") or defaults.SCHEDULER_DUPEFILTER_KEY,
            dupefilter=build_from_crawler(load_object(settings["DUPEFILTER_CLASS"]), crawler),
            serializer=load_object(serializer) if serializer else None,
        )
        crawler.signals.connect(scheduler.spider_opened, signal=signals.spider_opened)
        return scheduler

    def open(self, spider: Spider) -> None:
        self.spider = spider
        try:
            self.server.ping()
            # scrapy-redis's open() minus its deprecated spider.log() call.
            self.queue = load_object(self.queue_cls)(
                server=self.server, spider=spider, key=self.queue_key % {"spider": spider.name},
                serializer=self.serializer,
            )  # fmt: skip
            if self.flush_on_start:
                self.flush()
            queued = len(self.queue)
        except RedisError as exc:
            assert self.stats is not None
            self.stats.inc_value("redis/errors")
            logger.error(
                "Redis at %s is unreachable (%s): cannot start the shared crawl. Start redis-server "
                "there or fix REDIS_URL (empty REDIS_URL: crawl alone, without Redis).", self.url, exc,
            )  # fmt: skip
            return
        self.opened = True
        if queued:
            logger.info("Resuming the shared crawl: %d requests queued at %s", queued, self.url)

    def spider_opened(self, spider: Spider) -> None:
        # Closing from here rather than from open(): Scrapy 2.19 opens the item pipelines after
        # the scheduler, and a CloseSpider from open() would close them unopened (a traceback).
        if not self.opened:
            raise CloseSpider("redis_unreachable")

    def close(self, reason: str) -> None:
        if not self.opened or self.persist or reason in {"redis_unreachable", "redis_lost"}:
            return
        try:
            self.flush()
        except RedisError as exc:
            logger.error("Could not clear the shared queue at %s: %s", self.url, exc)

    def _lost(self, exc: Exception, doing: str) -> None:
        if not self.outage.failed(exc, doing) or self.closing is not None:
            return
        assert self.crawler.engine is not None
        self.closing = deferred_from_coro(self.crawler.engine.close_spider_async(reason=self.outage.give_up()))
        self.closing.addErrback(_log_failure)

    def enqueue_request(self, request: Request) -> bool:
        assert self.stats is not None
        try:
            queued = self._push(request)
        except RedisError as exc:
            self.unqueued += 1
            self.stats.inc_value("redis/unqueued")
            logger.error("Not queued, Redis at %s is away: %s", self.url, request.url)
            self._lost(exc, "queueing a request")
            return False
        self.outage.recovered()
        if not queued:
            self.df.log(request, self.spider)
            return False
        self.stats.inc_value("scheduler/enqueued/redis")
        return True

    def _push(self, request: Request) -> bool:
        """Queue the request unless its fingerprint was seen; False if seen."""
        if request.dont_filter:
            self.queue.push(request)
            return True
        kind = _QUEUE_KINDS.get(type(self.queue))
        if kind is None or not isinstance(self.df, RFPDupeFilter):
            if self.df.request_seen(request):
                return False
            self.queue.push(request)
            return True
        # One script, so Redis runs "remember the fingerprint" and "queue the request" together:
        # a connection lost between the two would leave a request seen but never queued, lost.
        keys = [self.df.key, self.queue.key]
        data = self.queue._encode_request(request)  # noqa: SLF001 (scrapy-redis's own encoding)
        args = [self.df.request_fingerprint(request), kind, -request.priority, data, self.dupefilter_ttl]
        return bool(self._enqueue_script(keys=keys, args=args))

    def next_request(self) -> Request | None:
        assert self.stats is not None
        try:
            request: Request | None = self.queue.pop()
        except RedisError as exc:
            self._lost(exc, "taking a request from the queue")
            return None
        self.outage.recovered()
        if request is not None:
            self.stats.inc_value("scheduler/dequeued/redis")
        return request

    def has_pending_requests(self) -> bool:
        if not self.opened:
            return False
        try:
            return len(self.queue) > 0
        except RedisError as exc:
            self._lost(exc, "counting queued requests")
            # Unknown: keep the crawl from finishing as if all were done; it closes as redis_lost.
            return True


class RedisFeed:
    """Gives an idle crawler work from the start-URLs list; closes it after an idle time.

    Entries are article URLs or ids (as ``-a urls=``/``ids=``), or ``<kind>:<value>`` for the
    kinds in ``FEED_KINDS`` (``channel:<name>``: the spider's ``channel_requests``).
    Push with ``redis-cli rpush qq:start_urls 20250207A090J800`` (read from the head: first in,
    first out). Entries are read, turned into requests, queued, and only then removed, so a Redis
    lost in between leaves them for the next run (where the shared dupefilter skips whatever was
    queued already) instead of losing them; two crawlers reading the same entries queue each
    request once for the same reason. Settings: ``REDIS_URL`` (empty: not enabled), ``REDIS_START_URLS_KEY`` (default
    ``%(name)s:start_urls``), ``MAX_IDLE_TIME_BEFORE_CLOSE``, ``CONCURRENT_REQUESTS`` (entries
    read at a time), ``REDIS_LOST_TIMEOUT``. The shared dupefilter expires ``REDIS_DUPEFILTER_TTL`` seconds after the last request queued
(default one hour), so that whatever a lost Redis or a killed crawler left unwritten is fetched
by a later run; the article store (``crawler.store.redis``) keeps what was written for ever.

Stats: ``redis/fed`` (entries this crawler took),
    ``redis/errors``.
    """

    def __init__(self, crawler: Crawler) -> None:
        settings = crawler.settings
        if not settings.get("REDIS_URL"):
            raise NotConfigured("REDIS_URL is empty")
        self.crawler = crawler
        self.server = client_for(settings)
        self.url = safe_url(settings["REDIS_URL"])
        self.key_template: str = settings.get("REDIS_START_URLS_KEY") or defaults.START_URLS_KEY
        self.key = ""
        self.batch = settings.getint("CONCURRENT_REQUESTS", 16)
        self.max_idle = settings.getfloat("MAX_IDLE_TIME_BEFORE_CLOSE", 0)
        self.outage = Outage(self.url, settings.getfloat("REDIS_LOST_TIMEOUT", 60), crawler)
        self.idle_since: float | None = None  # since the crawler found nothing to do

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RedisFeed:
        feed = cls(crawler)
        crawler.signals.connect(feed.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(feed.spider_idle, signal=signals.spider_idle)
        return feed

    def spider_opened(self, spider: Spider) -> None:
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
            for request in self.requests(spider, entries):
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

    def requests(self, spider: Spider, entries: list[str]) -> Iterable[Request]:
        articles: list[str] = []
        by_kind: dict[str, list[str]] = {}
        for entry in entries:
            kind, _, value = entry.partition(":")
            if kind in FEED_KINDS:
                by_kind.setdefault(kind, []).append(value)
            else:
                articles.append(entry)
        # Articles already written are dropped by the dedup downloader middleware, like any request.
        yield from spider.article_requests(articles)  # type: ignore[attr-defined]
        for kind, values in by_kind.items():
            method = getattr(spider, FEED_KINDS[kind], None)
            if method is None:
                assert self.crawler.stats is not None
                self.crawler.stats.inc_value("qq/bad_input", len(values))
                logger.error("Entries %s:%s need a spider with %s(), skipped", kind, values, FEED_KINDS[kind])
                continue
            yield from method(values)


def _log_failure(failure: Failure) -> None:
    logger.error("Closing the crawl failed: %s", failure.getErrorMessage())
