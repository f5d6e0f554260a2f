"""The shared request queue and dupefilter: scrapy-redis's, adapted to Scrapy 2.19 and to a Redis that goes away."""

from __future__ import annotations

import logging
from typing import Any

import redis
from redis.exceptions import RedisError
from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import CloseSpider
from scrapy.utils.defer import deferred_from_coro
from scrapy.utils.misc import build_from_crawler, load_object
from scrapy_redis import defaults
from scrapy_redis.dupefilter import RFPDupeFilter
from scrapy_redis.queue import FifoQueue, LifoQueue, PriorityQueue
from scrapy_redis.scheduler import Scheduler

from crawler.distributed.connection import Outage, client_for, log_failure
from crawler.store.redis import safe_url

logger = logging.getLogger(__name__)

# KEYS: dupefilter set, queue; ARGV: fingerprint, queue kind, score, request, dupefilter TTL.
ENQUEUE_SCRIPT = """
if redis.call('SADD', KEYS[1], ARGV[1]) == 0 then return 0 end
if tonumber(ARGV[5]) > 0 then redis.call('EXPIRE', KEYS[1], ARGV[5]) end
if ARGV[2] == 'zset' then redis.call('ZADD', KEYS[2], ARGV[3], ARGV[4]) else redis.call('LPUSH', KEYS[2], ARGV[4]) end
return 1
"""
_QUEUE_KINDS = {PriorityQueue: "zset", FifoQueue: "list", LifoQueue: "list"}

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
        self.outage = Outage(self.url, crawler.settings.getfloat("REDIS_LOST_TIMEOUT"), crawler)
        # The shared dupefilter remembers what was *queued*, not what was written: an article in
        # flight when a crawler died would be skipped for ever. It is forgotten this long after
        # the last request was queued; from then on the article store alone says what is written.
        self.dupefilter_ttl = crawler.settings.getint("REDIS_DUPEFILTER_TTL")
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
        self.closing.addErrback(log_failure)

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

