"""Dedup: an article is fetched once, across runs and across crawls running side by side, and
again only when there is a reason (it changed, or it is due for a recheck or a retry). How it
decides: docs/store.md ("The dedup middleware"); the change signals: docs/updates.md.
"""

from __future__ import annotations

import logging

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from crawler import ledger
from crawler.paths import fits_template
from crawler.render.profiles import profile_from_settings
from crawler.stats import (
    DEDUP_CLAIMED,
    DEDUP_FETCHED_AGAIN,
    DEDUP_SKIPPED,
    DEDUP_SKIPPED_OTHER_LAYOUT,
    DEDUP_SKIPPED_STATE,
    DEDUP_STORE_ERROR,
    inc,
)
from crawler.store import StoreError
from crawler.store.base import WRITTEN, parse_time
from crawler.store.extension import StoreExtension, store_of

logger = logging.getLogger(__name__)


class DedupMiddleware:
    def __init__(self, crawler: Crawler) -> None:
        if not crawler.settings.getbool("DEDUP_ENABLED"):
            raise NotConfigured("DEDUP_ENABLED is off")
        self.crawler = crawler
        self.refresh = crawler.settings.getbool("DEDUP_REFRESH")
        self.store: StoreExtension | None = None
        self.profile = crawler.settings["OUTPUT_PROFILE"]
        self.layout = ""  # the profile's path template, read when first needed
        self.warned = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> DedupMiddleware:
        middleware = cls(crawler)
        crawler.signals.connect(middleware.spider_opened, signal=signals.spider_opened)
        return middleware

    def spider_opened(self) -> None:
        spider = self.crawler.spider
        # The qq spider's resolves -a refresh=1 and DEDUP_REFRESH (crawler.qq.arguments).
        self.refresh = bool(getattr(spider, "refresh", self.refresh))
        if self.refresh:
            logger.info("Refresh: articles already written are fetched and rewritten")

    def _skip(self, counted: str, request: Request, why: str, outcome: tuple[str, str], **parts: str) -> None:
        inc(self.crawler, counted, **parts)
        logger.debug("Skipped %s (%s): %s", request.meta["qq_id"], request.url, why)
        raise ledger.Settled(why, outcome)

    def process_request(self, request: Request) -> None:
        ident = request.meta.get("qq_id")
        if not ident or request.meta.get("dont_dedup") or request.meta.get("qq_dedup_passed"):
            return  # not an article, or a redirect or retry of one already let through
        if self.store is None:
            self.store = store_of(self.crawler)
        try:
            claimed = self.store.store.claim(ident)
            state, why = self._settled(ident, request) if claimed and not self.refresh else (None, "")
            if state is not None:
                self.store.store.release(ident)
        except StoreError as exc:
            # Not fetched, so not lost: the next run asks again.
            logger.error("Not fetched %s (%s): %s", ident, request.url, exc)
            self._skip(DEDUP_STORE_ERROR, request, "the article store failed", (ledger.NOT_FETCHED, "store_error"))
        if not claimed:
            self._skip(DEDUP_CLAIMED, request, "being fetched by another crawl", (ledger.SKIPPED, "claimed"))
        if state is not None:
            inc(self.crawler, DEDUP_SKIPPED)
            other = state == WRITTEN and self._other_layout(ident)
            outcome = (ledger.SKIPPED, "written_other_layout" if other else state)
            self._skip(DEDUP_SKIPPED_STATE, request, f"already {state}", outcome, state=state)
        if why:
            inc(self.crawler, DEDUP_FETCHED_AGAIN, why=why)
            if why == "updated":
                logger.info("Updated %s: its source says %s, newer than its file", ident, request.meta["qq_updated"])
            elif why == "listing":
                logger.info("Updated %s: its feed listing (title, abstract or image) changed", ident)
            request.meta["qq_refetch"] = why  # crawler.middlewares.conditional, the plan pipeline
        request.meta["qq_dedup_passed"] = True

    def _other_layout(self, ident: str) -> bool:
        """Whether an article was written in a layout other than this crawl's (``OUTPUT_PROFILE`` or
        ``OUTPUT_PATH`` switched on a root that holds articles): counted, and said once, clearly."""
        assert self.store is not None
        if not self.layout:
            self.layout = profile_from_settings(self.crawler.settings).path  # checked at start: no ValueError here
        try:
            record = self.store.store.get(ident)
        except StoreError:
            return False  # skipped all the same; the store's failure shows on the next question
        if record is None or not record.path or fits_template(record.path, self.layout):
            return False
        inc(self.crawler, DEDUP_SKIPPED_OTHER_LAYOUT)
        if not self.warned:
            self.warned = True
            logger.warning(
                "%s was written as %s, not in this crawl's layout (%s, OUTPUT_PROFILE %s): articles this "
                "OUTPUT_ROOT already holds are not written again for another profile. To write them for %s, "
                "crawl into a fresh OUTPUT_ROOT (the other site's folder); docs/profiles.md#switching-profiles",
                ident, record.path, self.layout, self.profile, self.profile,
            )  # fmt: skip
        return True

    def _settled(self, ident: str, request: Request) -> tuple[str | None, str]:
        """The store extension's answer (``StoreExtension.settled``) for this request."""
        assert self.store is not None
        updated = parse_time(request.meta.get("qq_updated") or "")
        recheck = bool(request.meta.get("qq_recheck"))
        return self.store.settled(ident, updated, recheck=recheck, listing=request.meta.get("qq_listing", ""))
