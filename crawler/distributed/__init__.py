"""Distributed crawling: several crawl processes share one Redis (scrapy-redis), switched on by settings.

The package: ``addon`` (switches the components on when ``REDIS_URL`` is set), ``scheduler`` (the
shared request queue and dupefilter), ``feed`` (idle crawlers take work from a Redis list, through
the spider's declared ``WorkSpider`` interface), ``connection`` (the Redis client and outages).

With ``REDIS_URL`` set, ``DistributedAddon`` (in ``ADDONS``) switches the crawl to:

* ``RedisScheduler`` (``scheduler``): scrapy-redis's scheduler with one request queue
  (``SCHEDULER_QUEUE_KEY``, default ``<spider>:requests``) that every process takes from, by
  *lease* (``leases``): taken work stays recorded in Redis until it is done, and returns to the
  queue by itself when its crawler stops renewing it (``REDIS_LEASE_SECONDS``); a crawler takes a
  request only when its download slot can start it soon, so crawlers share a backlog;
* ``RedisDupeFilter`` (``scheduler``): one set of request fingerprints
  (``SCHEDULER_DUPEFILTER_KEY``, default ``<spider>:dupefilter``) holding the requests queued or
  leased, so a request is queued once by all processes together; a fingerprint leaves it when its
  work is done (the article store says what is written);
* ``RedisFeed`` (``feed``): work pushed to the start-URLs list (``REDIS_START_URLS_KEY``, default
  ``<spider>:start_urls``) is leased by crawlers whose queue runs dry; a crawler closes after
  ``MAX_IDLE_TIME_BEFORE_CLOSE`` seconds with nothing to do anywhere (0: never);
* ``STORE_BACKEND = "redis"`` (unless given on the command line), the article store on the same Redis.

What scrapy-redis 0.9.1 gets wrong on Scrapy 2.19, and is adapted here rather than patched:
its scheduler passes ``spider=`` to the stats collector and calls ``spider.log()`` (both
deprecated, warnings in every crawl) and builds the dupefilter
through ``from_spider``/``from_settings`` (never called by Scrapy any more); its dupefilter uses
its own fingerprint instead of the crawler's ``REQUEST_FINGERPRINTER``; its queues pop and forget
(a crawler killed with work in hand loses it), and its dupefilter remembers for ever what was
queued (work lost in flight is locked out): replaced by leases; its ``RedisSpider``
relies on ``start_requests`` (gone since 2.16), turns plain-string entries into ``FormRequest``
with ``dont_filter=True`` (so two crawlers given the same id would both fetch it) and has no
handling for a lost Redis; the blocking pop of ``SCHEDULER_IDLE_BEFORE_CLOSE`` would freeze the
reactor, so it is not used. Its scheduler adds the fingerprint and pushes the request in two
calls (a Redis lost between them loses the request for good); here one Lua script does both.

A lost Redis: every call retries a bounded number of times (redis-py ``Retry``); while Redis stays
away the crawl keeps its in-flight work going and retries on every engine tick, and after
``REDIS_LOST_TIMEOUT`` seconds it closes with finish reason ``redis_lost``. Items already
downloaded are still written; requests queued or leased stay in Redis for the others or the next
run. Redis unreachable at start: finish reason ``redis_unreachable``, an error naming the URL.

How it works, the settings, and what Redis persistence keeps: ``docs/distributed.md``.

Stats: ``redis/fed``, ``redis/acked``, ``redis/returned``, ``redis/lapsed``, ``redis/errors``,
``redis/unqueued`` (requests not queued because Redis was away; logged with their URL),
``scheduler/enqueued/redis``, ``scheduler/dequeued/redis``,
``dupefilter/filtered``.
"""

from crawler.distributed.addon import DistributedAddon

__all__ = ["DistributedAddon"]
