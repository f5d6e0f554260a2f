"""Dedup: an article is fetched once, across runs and across crawls running side by side.

A downloader middleware, so it sees every request whatever path it came by (start requests, the
spider's callbacks, distributed mode's Redis feed, retries and redirects). A request is an article
request when ``meta["qq_id"]`` holds its canonical id. Before it is downloaded, the middleware asks
the crawl's article store (``crawler.store.extension``):

1. ``claim(id)``: another live crawl process is fetching it -> dropped (``dedup/claimed``);
2. written (a record whose file is on disk) -> dropped (``dedup/skipped``) and the claim let go;
3. otherwise it goes on, holding the claim until the article leaves the pipelines (or the crawl
   ends), so two overlapping crawls fetch each article once between them.

Claiming first and asking "written?" second leaves no gap: the other process records the article
before it lets its claim go. A dropped request raises ``IgnoreRequest``, which the spider's errback
ignores. A retried or redirected request is claimed again by its own process, which succeeds.

Settings: ``DEDUP_ENABLED``; ``DEDUP_REFRESH`` (or the spider argument ``refresh=1``): fetch and
rewrite articles already written (claims still apply). Meta keys: ``qq_id``, ``dont_dedup`` (never
dropped). Stats: ``dedup/skipped``, ``dedup/claimed``, ``dedup/store_error`` (the store could not
answer: not fetched this run, logged).
"""

from __future__ import annotations

import logging

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest, NotConfigured

from crawler.store import StoreError
from crawler.store.extension import StoreExtension, store_of

logger = logging.getLogger(__name__)


class DedupMiddleware:
    def __init__(self, crawler: Crawler) -> None:
        if not crawler.settings.getbool("DEDUP_ENABLED"):
            raise NotConfigured("DEDUP_ENABLED is off")
        self.crawler = crawler
        self.refresh = crawler.settings.getbool("DEDUP_REFRESH")
        self.store: StoreExtension | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> DedupMiddleware:
        middleware = cls(crawler)
        crawler.signals.connect(middleware.spider_opened, signal=signals.spider_opened)
        return middleware

    def spider_opened(self) -> None:
        self.refresh = self.refresh or bool(getattr(self.crawler.spider, "refresh", False))
        if self.refresh:
            logger.info("Refresh: articles already written are fetched and rewritten")

    def _skip(self, key: str, request: Request, why: str) -> None:
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(key)
        logger.debug("Skipped %s (%s): %s", request.meta["qq_id"], request.url, why)
        raise IgnoreRequest(why)

    def process_request(self, request: Request) -> None:
        ident = request.meta.get("qq_id")
        if not ident or request.meta.get("dont_dedup"):
            return
        if self.store is None:
            self.store = store_of(self.crawler)
        try:
            claimed = self.store.store.claim(ident)
            written = claimed and not self.refresh and self.store.is_written(ident)
            if written:
                self.store.store.release(ident)
        except StoreError as exc:
            # Not fetched, so not lost: the next run asks again.
            logger.error("Not fetched %s (%s): %s", ident, request.url, exc)
            self._skip("dedup/store_error", request, "the article store failed")
        if not claimed:
            self._skip("dedup/claimed", request, "being fetched by another crawl")
        if written:
            self._skip("dedup/skipped", request, "already written")
