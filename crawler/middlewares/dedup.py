"""Dedup across runs: article requests for articles already written are dropped before download.

A spider middleware (it sees start requests and every request the spider yields, and drops one
without an errback firing, so nothing is counted as a failure). A request is an article request
when its ``meta["qq_id"]`` holds the canonical article id; it is dropped when the article store
(``crawler.store``) has a record for that id whose file is still on disk. A record whose file was
deleted by hand is fetched again (the writer rewrites it at its recorded path).

The store is opened on first use: by then the writer has opened it when the spider opened, or
closed the crawl (``bad_store``, ``bad_output_root``) before any request.

Settings: ``DEDUP_ENABLED`` (default ``True``) and the ``STORE_*`` settings.
Spider argument: ``-a refresh=1`` (the spider's ``refresh``) fetches and rewrites every article anyway.
Meta keys: ``qq_id`` (the article id), ``dont_dedup`` (``True``: never dropped).
Stats: ``qq/dedup/skipped``.
"""

from __future__ import annotations

import logging
from pathlib import Path

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Response
from scrapy.spidermiddlewares.base import BaseSpiderMiddleware

from crawler.store import ArticleStore, is_written, open_store

logger = logging.getLogger(__name__)


class DedupMiddleware(BaseSpiderMiddleware):
    def __init__(self, crawler: Crawler) -> None:
        if not crawler.settings.getbool("DEDUP_ENABLED", True):
            raise NotConfigured("DEDUP_ENABLED is off")
        super().__init__(crawler)
        self.root = Path(crawler.settings.get("OUTPUT_ROOT", "output")).expanduser()
        self.store: ArticleStore | None = None
        self._refresh: bool | None = None
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @property
    def refresh(self) -> bool:
        if self._refresh is None:
            self._refresh = bool(getattr(self.crawler.spider, "refresh", False))
            if self._refresh:
                logger.info("refresh: articles already written are fetched and rewritten")
        return self._refresh

    def get_processed_request(self, request: Request, response: Response | None) -> Request | None:
        ident = request.meta.get("qq_id")
        if not ident or request.meta.get("dont_dedup") or self.refresh:
            return request
        if self.store is None:
            self.store = open_store(self.crawler.settings)
        if not is_written(self.store, self.root, ident):
            return request
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value("qq/dedup/skipped")
        logger.debug("Skipped %s (%s): already written", ident, request.url)
        return None

    def spider_closed(self) -> None:
        if self.store is not None:
            self.store.close()
