"""The shared request queue and dupefilter: scrapy-redis's, adapted to Scrapy 2.19 and to a Redis that goes away."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import redis
from redis.exceptions import RedisError
from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import CloseSpider
from scrapy.utils.asyncio import call_later
from scrapy.utils.defer import deferred_from_coro
from scrapy.utils.misc import build_from_crawler, load_object
from scrapy_redis import defaults
from scrapy_redis.dupefilter import RFPDupeFilter
from scrapy_redis.queue import PriorityQueue
from scrapy_redis.scheduler import Scheduler
from twisted.internet import task

from crawler.distributed.connection import Outage, client_for, log_failure
from crawler.distributed.leases import Leases
from crawler.stats import (
    DUPEFILTER_FILTERED,
    REDIS_ACKED,
    REDIS_ERRORS,
    REDIS_GIVEN_BACK,
    REDIS_LAPSED,
    REDIS_RETURNED,
    REDIS_UNQUEUED,
    SCHEDULER_DEQUEUED_QUEUE,
    SCHEDULER_ENQUEUED_QUEUE,
    inc,
)
from crawler.store.redis import safe_url

if TYPE_CHECKING:
    from scrapy.core.downloader import Slot
    from scrapy.core.engine import ExecutionEngine

logger = logging.getLogger(__name__)

# KEYS: dupefilter set, queue (zset); ARGV: fingerprint ("" for a dont_filter request), score, request.
# No expiry: a fingerprint leaves the set when its work is acknowledged (crawler.distributed.leases).
ENQUEUE_SCRIPT = """
if ARGV[1] ~= '' and redis.call('SADD', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
return 1
"""
# Queued requests looked at for one with room in its downloader slot (fair sharing).
PEEK = 32


def in_progress(engine: ExecutionEngine) -> set[Request]:
    """The requests the engine took from the scheduler and has not finished with: Scrapy sends no
    signal when a scheduled request is done, so this set is the one record of "done"."""
    slot = engine._slot  # noqa: SLF001 (see above)
    return slot.inprogress if slot is not None else set()


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
        inc(self.crawler, DUPEFILTER_FILTERED)
        if self.debug or self.logdupes:
            logger.debug("Filtered duplicate request (queued or leased by this or another crawler): %s", request)
            self.logdupes = self.debug

    def close(self, reason: str = "") -> None:
        # scrapy-redis deletes the shared fingerprints here; the scheduler decides that (persist).
        pass


class RedisScheduler(Scheduler):
    """scrapy-redis's shared scheduler, with leases instead of pops, fair sharing, and a Redis that
    goes away (docs/distributed.md). Only its priority queue (a sorted set) is used: the lease script moves a member."""

    def __init__(self, crawler: Crawler, server: redis.Redis, **kwargs: Any) -> None:
        super().__init__(server, **kwargs)
        self.crawler = crawler
        self.stats = crawler.stats
        settings = crawler.settings
        self.url = safe_url(settings["REDIS_URL"])
        self.outage = Outage(self.url, settings.getfloat("REDIS_LOST_TIMEOUT"), crawler)
        self.lease_seconds = settings.getfloat("REDIS_LEASE_SECONDS")
        self.start_urls_key: str = settings["REDIS_START_URLS_KEY"]
        self.problem: str | None = "redis_unreachable"  # why the crawl cannot start; None once open
        self.closing: Any = None
        self.unqueued = 0  # requests not queued because Redis was away (RedisFeed keeps their entries)
        self.unacked: list[tuple[str, str]] = []  # done, but Redis was away when acknowledging
        self.unreturned: list[str] = []  # to be done again, but Redis was away when giving them back
        self.drained = False  # the shared queue was empty when last asked
        self.leases: Leases
        self._renewal: task.LoopingCall | None = None
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
            queue_cls=PriorityQueue,
            dupefilter_key=settings.get("SCHEDULER_DUPEFILTER_KEY") or defaults.SCHEDULER_DUPEFILTER_KEY,
            dupefilter=build_from_crawler(load_object(settings["DUPEFILTER_CLASS"]), crawler),
            serializer=load_object(serializer) if serializer else None,
        )
        crawler.signals.connect(scheduler.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(scheduler.request_reached_downloader, signal=signals.request_reached_downloader)
        return scheduler

    def open(self, spider: Spider) -> None:
        self.spider = spider
        try:
            self.server.ping()
            # scrapy-redis's open() minus its deprecated spider.log() call.
            self.queue = PriorityQueue(
                server=self.server, spider=spider, key=self.queue_key % {"spider": spider.name},
                serializer=self.serializer,
            )  # fmt: skip
            self.leases = Leases(
                self.server, spider.name, queue=self.queue.key, seconds=self.lease_seconds,
                start_urls=self.start_urls_key % {"name": spider.name}, dupefilter=self.df.key,
            )  # fmt: skip
            if self.flush_on_start:
                self.flush()
            self.leases.renew()
            self.return_overdue()
            queued = len(self.queue)
        except RedisError as exc:
            inc(self.crawler, REDIS_ERRORS)
            logger.error(
                "Redis at %s is unreachable (%s): cannot start the shared crawl. Start redis-server "
                "there or fix REDIS_URL (empty REDIS_URL: crawl alone, without Redis).", self.url, exc,
            )  # fmt: skip
            return
        self.problem = None
        self._renewal = task.LoopingCall(self.renew)
        self._renewal.start(self.lease_seconds / 3, now=False)
        if queued:
            logger.info("Resuming the shared crawl: %d requests queued at %s", queued, self.url)

    def spider_opened(self, spider: Spider) -> None:
        # Closing from here rather than from open(): Scrapy 2.19 opens the item pipelines after
        # the scheduler, and a CloseSpider from open() would close them unopened (a traceback).
        if self.problem is not None:
            raise CloseSpider(self.problem)

    def close(self, reason: str) -> None:
        if self._renewal is not None and self._renewal.running:
            self._renewal.stop()
        if self.problem is not None:
            return
        try:
            # The engine has finished every request by now: what is done is acknowledged, and
            # what is still leased (entries whose requests could not be queued) goes back.
            self.sweep()
            returned = self.leases.return_own()
            if returned:
                logger.warning("Returned %d leases to the shared queue at %s", returned, self.url)
            if not self.persist and reason not in {"redis_unreachable", "redis_lost"}:
                self.flush()
        except RedisError as exc:
            logger.error(
                "Redis at %s away at close (%s): this crawler's leases return to the queue by themselves "
                "after REDIS_LEASE_SECONDS (%g s)", self.url, exc, self.lease_seconds,
            )  # fmt: skip

    def _lost(self, exc: Exception, doing: str) -> None:
        if not self.outage.failed(exc, doing) or self.closing is not None:
            return
        assert self.crawler.engine is not None
        self.closing = deferred_from_coro(self.crawler.engine.close_spider_async(reason=self.outage.give_up()))
        self.closing.addErrback(log_failure)

    # -- leases ----------------------------------------------------------------------------------------

    def renew(self) -> None:
        """Every third of REDIS_LEASE_SECONDS: renew ours, return lapsed crawlers', acknowledge what is done."""
        try:
            if not self.leases.renew():
                inc(self.crawler, REDIS_LAPSED)
                logger.warning(
                    "This crawler's leases lapsed (not renewed within REDIS_LEASE_SECONDS, %g s): another "
                    "crawler returned them to the queue; the article store skips what is written twice",
                    self.lease_seconds,
                )  # fmt: skip
            self.return_overdue()
            self.sweep()
        except RedisError as exc:
            self._lost(exc, "renewing leases")
            return
        self.outage.recovered()

    def return_overdue(self) -> None:
        for token, count in self.leases.return_overdue().items():
            if count:
                inc(self.crawler, REDIS_RETURNED, count)
                logger.warning("Crawler %s stopped renewing its leases: %d returned to the shared queue", token, count)

    def sweep(self) -> None:
        """Acknowledge the leases of requests the engine is done with (RedisError propagates)."""
        assert self.crawler.engine is not None
        done = self.leases.finished(in_progress(self.crawler.engine))
        self.unacked += [(held.lease, held.fingerprint) for held in done if not held.kept]
        self.unreturned += [held.lease for held in done if held.kept]
        if self.unacked:
            acked = self.leases.ack(self.unacked)
            self.unacked = []
            inc(self.crawler, REDIS_ACKED, acked)
        if self.unreturned:
            given = self.leases.give_back(self.unreturned)
            self.unreturned = []
            inc(self.crawler, REDIS_GIVEN_BACK, given)
            logger.warning("Gave %d leases back to the shared queue, to be done again (Redis was away)", given)

    def request_reached_downloader(self, request: Request) -> None:
        """One of ours left the downloader middlewares for its slot's queue: the slot may have room
        for another when it starts this one (now without a delay, within 1.5 delays with one:
        Scrapy's jitter); have the engine ask then, or it would wait for a download to end."""
        if self.problem is not None or request not in self.leases.held:
            return
        self.leases.started(request)
        assert self.crawler.engine is not None
        slot = self.crawler.engine.downloader.slots.get(self.leases.held[request].slot)
        call_later(1.5 * slot.delay if slot is not None else 0, self._ask)

    def _ask(self) -> None:
        assert self.crawler.engine is not None
        slot = self.crawler.engine._slot  # noqa: SLF001 (the engine's own "ask the scheduler again")
        if slot is not None:
            slot.nextcall.schedule()

    # -- the queue -------------------------------------------------------------------------------------

    def enqueue_request(self, request: Request) -> bool:
        try:
            queued = self._push(request)
        except RedisError as exc:
            self.unqueued += 1
            inc(self.crawler, REDIS_UNQUEUED)
            logger.error("Not queued, Redis at %s is away: %s", self.url, request.url)
            # Whichever request in hand made this one, it must be done again: none is acknowledged;
            # each is given back to the queue when done (the article store skips what is written).
            self.leases.keep_all()
            self._lost(exc, "queueing a request")
            return False
        self.outage.recovered()
        if not queued:
            self.df.log(request, self.spider)
            return False
        inc(self.crawler, SCHEDULER_ENQUEUED_QUEUE, queue="redis")
        return True

    def _push(self, request: Request) -> bool:
        """Queue the request unless its fingerprint is queued or leased; False if it is."""
        # One script, so Redis runs "remember the fingerprint" and "queue the request" together:
        # a connection lost between the two would leave a request seen but never queued, lost.
        fingerprint = "" if request.dont_filter else self.df.request_fingerprint(request)
        data = self.queue._encode_request(request)  # noqa: SLF001 (scrapy-redis's own encoding)
        return bool(self._enqueue_script(keys=[self.df.key, self.queue.key], args=[fingerprint, -request.priority, data]))

    def next_request(self) -> Request | None:
        if self.problem is not None:
            return None
        try:
            self.sweep()
            request = self._take()
        except RedisError as exc:
            self._lost(exc, "taking a request from the queue")
            return None
        self.outage.recovered()
        if request is not None:
            inc(self.crawler, SCHEDULER_DEQUEUED_QUEUE, queue="redis")
        return request

    def _take(self) -> Request | None:
        """Lease the first of the first PEEK queued requests whose downloader slot has room."""
        assert self.crawler.engine is not None
        downloader = self.crawler.engine.downloader
        waiting = self.leases.waiting()
        members = self.server.zrange(self.queue.key, 0, PEEK - 1)
        self.drained = not members
        for member in members:
            request = self.queue._decode_request(member)  # noqa: SLF001
            slot = downloader.get_slot_key(request)
            if not has_room(downloader.slots.get(slot), waiting[slot]):
                continue
            fingerprint = "" if request.dont_filter else self.df.request_fingerprint(request)
            if self.leases.take_request(member, request, fingerprint, slot):
                return request
        return None

    def has_pending_requests(self) -> bool:
        if self.problem is not None:
            return False
        try:
            self.sweep()
            return len(self.queue) > 0
        except RedisError as exc:
            self._lost(exc, "counting queued requests")
            # Unknown: keep the crawl from finishing as if all were done; it closes as redis_lost.
            return True


def has_room(slot: Slot | None, waiting: int) -> bool:
    """Whether a downloader slot can start one more request soon, with ``waiting`` of ours still in
    the downloader middlewares (requests in the slot's own queue wait too)."""
    # With a delay a slot starts one request per delay: one waiting is all it can start soon.
    # Without, it starts up to its concurrency at once. A slot not made yet: one request makes it.
    if slot is None:
        return waiting == 0
    waiting += len(slot.queue)
    if slot.delay > 0:
        return waiting == 0 and len(slot.transferring) < slot.concurrency
    return waiting + len(slot.transferring) < slot.concurrency
