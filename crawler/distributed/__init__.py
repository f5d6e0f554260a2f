"""Distributed crawling: several crawl processes share one Redis (scrapy-redis), switched on by settings.

The package: ``addon`` (switches the components on when ``REDIS_URL`` is set), ``scheduler`` (the
shared request queue and dupefilter), ``feed`` (idle crawlers take work from a Redis list, through
the spider's declared ``WorkSpider`` interface), ``connection`` (the Redis client and outages).

With ``REDIS_URL`` set, ``DistributedAddon`` (in ``ADDONS``) switches the crawl to:

* ``RedisScheduler`` (``scheduler``): scrapy-redis's scheduler, one request queue (``SCHEDULER_QUEUE_KEY``,
  default ``<spider>:requests``) that every process pops from;
* ``RedisDupeFilter`` (``scheduler``): scrapy-redis's dupefilter, one set of request fingerprints
  (``SCHEDULER_DUPEFILTER_KEY``, default ``<spider>:dupefilter``), so a request is fetched once
  by all processes together; persisted (``SCHEDULER_PERSIST = True``), so a later run does not
  fetch it again;
* ``RedisFeed`` (``feed``): work pushed to the start-URLs list (``REDIS_START_URLS_KEY``, default
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

from crawler.distributed.addon import DistributedAddon

__all__ = ["DistributedAddon"]
