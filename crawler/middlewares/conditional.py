"""Conditional requests for articles fetched again (a ``304`` is "unchanged", not parsed), and the
count of every article page answer. Docs: docs/updates.md ("Conditional requests").
"""

from __future__ import annotations

import logging
from dataclasses import replace

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.http import Response

from crawler import ledger
from crawler.stats import (
    CONDITIONAL_ARTICLE_PAGES,
    CONDITIONAL_ERRORS,
    CONDITIONAL_NOT_MODIFIED,
    CONDITIONAL_SENT,
    inc,
)
from crawler.store import StoreError
from crawler.store.base import now, parse_time
from crawler.store.extension import StoreExtension, store_of

logger = logging.getLogger(__name__)

MAX_VALIDATOR = 200  # longer header values are not remembered (a page's bytes are hostile)
LOCK_KEY = "write"  # the plan pipeline's: a record is never put by two components at once


def header(response: Response, name: str) -> str:
    value = response.headers.get(name)
    if not value:
        return ""
    text = value.decode("latin-1").strip()
    return text if len(text) <= MAX_VALIDATOR and text.isprintable() else ""


class ConditionalMiddleware:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.enabled = crawler.settings.getbool("CONDITIONAL_ENABLED")
        self._store: StoreExtension | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ConditionalMiddleware:
        return cls(crawler)

    @property
    def store(self) -> StoreExtension:
        if self._store is None:
            self._store = store_of(self.crawler)
        return self._store

    def process_request(self, request: Request) -> None:
        ident = request.meta.get("qq_id")
        if not self.enabled or not ident or not request.meta.get("qq_refetch") or "qq_conditional" in request.meta:
            return
        request.meta["qq_conditional"] = False
        try:
            record = self.store.store.get(ident)
        except StoreError as exc:
            logger.warning("No validators for %s: %s", ident, exc)
            return
        if record is None or not record.written or not (record.etag or record.last_modified):
            return
        if record.etag:
            request.headers["If-None-Match"] = record.etag
        if record.last_modified:
            request.headers["If-Modified-Since"] = record.last_modified
        request.meta["qq_conditional"] = True
        inc(self.crawler, CONDITIONAL_SENT)

    def process_response(self, request: Request, response: Response) -> Response:
        ident = request.meta.get("qq_id")
        if not ident:
            return response
        inc(self.crawler, CONDITIONAL_ARTICLE_PAGES)
        if response.status == 304 and request.meta.get("qq_conditional"):
            inc(self.crawler, CONDITIONAL_NOT_MODIFIED)
            self._unchanged(ident, request)
            raise ledger.Settled(f"{ident} not modified (304)", (ledger.UNCHANGED, "not_modified"))
        if response.status == 200:
            request.meta["qq_validators"] = (header(response, "ETag"), header(response, "Last-Modified"))
        return response

    def _unchanged(self, ident: str, request: Request) -> None:
        """Record a 304: what the source said of the article, as if its text had been found the same."""
        announced = parse_time(request.meta.get("qq_updated") or "")
        try:
            with self.store.store.lock(LOCK_KEY):
                record = self.store.store.get(ident)
                if record is not None and record.written:
                    written_from = parse_time(record.updated)
                    newer = announced is not None and (written_from is None or announced > written_from)
                    quiet = record.quiet_count + (request.meta.get("qq_refetch") == "updated")
                    self.store.store.put(replace(
                        record, seen=now(), listing=request.meta.get("qq_listing") or record.listing,
                        updated=announced.isoformat() if newer and announced else record.updated,
                        announced=announced.isoformat() if announced else record.announced, quiet=str(quiet) if quiet else "",
                    ))  # fmt: skip
            logger.info("Not modified (304): %s (%s)", ident, request.url)
        except StoreError as exc:
            inc(self.crawler, CONDITIONAL_ERRORS)
            logger.error("Could not record that %s is not modified: %s", ident, exc)
        finally:
            self.store.release(ident)
