"""The crawl's output root and article store, checked and opened once per crawl and shared by every component.

Components get it with ``store_of(crawler)``, never a store of their own: one connection, one set
of claims, one answer to "written?". Docs: docs/store.md (failures: docs/monitoring.md).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import CloseSpider
from twisted.internet import task

from crawler.config import config_of
from crawler.files import root_problem
from crawler.items import Article
from crawler.stats import (
    OUTPUT_LOST,
    REDIS_ERRORS,
    STORE_BAD_OUTPUT_ROOT,
    STORE_BAD_STORE,
    STORE_ERRORS,
    STORE_UNREACHABLE,
    inc,
)
from crawler.stats import value as stat_value
from crawler.store import ArticleStore, StoreError, StoreUnreachable, open_store, store_exists
from crawler.store.base import DROPPED, VIDEO, WRITTEN, Record, changed_since_written, parse_time

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Verdict:
    """``StoreExtension.judge()``'s answer: see there. ``record``: the store's, when it has one."""

    state: str | None
    why: str = ""
    record: Record | None = None
    note: str = ""

    @property
    def seen(self) -> str:
        return self.record.seen if self.record is not None else ""


class StoreExtension:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        config = config_of(crawler)
        self.root = config.output_root_path
        self.interval = config.store_keepalive_interval
        # What "settled" means for a video or a dropped article (see settled()).
        self.videos = config.qq_videos
        self.retry_dropped = config.dedup_retry_dropped
        self.stamp_misses = config.update_stamp_misses
        self._store: ArticleStore | None = None
        self._opened = False  # spider_opened checked the root and the store
        self._keepalive: task.LoopingCall | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StoreExtension:
        extension = cls(crawler)
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        for signal in (signals.item_scraped, signals.item_dropped, signals.item_error):
            crawler.signals.connect(extension.item_done, signal=signal)
        return extension

    @property
    def store(self) -> ArticleStore:
        if self._store is None:
            if not self._opened:
                raise RuntimeError("the article store is opened when the spider opens")
            self._store = open_store(self.crawler.settings)
        return self._store

    def spider_opened(self) -> None:
        problem = root_problem(self.root)
        if problem is not None:
            inc(self.crawler, STORE_BAD_OUTPUT_ROOT)
            where = str(self.root) if self.root.is_absolute() else f"{self.root} (in {Path.cwd()})"
            logger.error(
                "OUTPUT_ROOT %s %s: nothing crawled. Create it, or set OUTPUT_ROOT (-s, or Scrapyd's "
                "-d setting=OUTPUT_ROOT=...) or the environment's QQ_OUTPUT_ROOT to an absolute path.",
                where, problem,
            )  # fmt: skip
            raise CloseSpider("bad_output_root")
        try:
            if store_exists(self.crawler.settings):
                self._store = open_store(self.crawler.settings)
        except StoreUnreachable as exc:
            inc(self.crawler, STORE_UNREACHABLE)
            if not stat_value(self.crawler, REDIS_ERRORS):  # the shared scheduler said it already
                logger.error("%s: nothing crawled", exc)
            raise CloseSpider("redis_unreachable") from exc
        except StoreError as exc:
            inc(self.crawler, STORE_BAD_STORE)
            logger.error("%s: nothing crawled", exc)
            raise CloseSpider("bad_store") from exc
        self._opened = True
        if self.interval > 0:
            self._keepalive = task.LoopingCall(self._keep_alive)
            self._keepalive.start(self.interval, now=False)
        logger.info("Writing under %s", self.root.absolute())

    def _keep_alive(self) -> None:
        if self._store is None:
            return
        try:
            self._store.keep_alive()
        except StoreError as exc:
            inc(self.crawler, STORE_ERRORS)
            logger.warning("%s", exc)

    def item_done(self, item: Any) -> None:
        if isinstance(item, Article):
            self.release(item.id)

    def release(self, article_id: str) -> None:
        """Let this process's claim on the article go (its item or outcome is done)."""
        if self._store is None:
            return
        try:
            self._store.release(article_id)
        except StoreError as exc:
            inc(self.crawler, STORE_ERRORS)
            lost = self.crawler.stats is not None and stat_value(self.crawler, OUTPUT_LOST)
            logger.log(logging.DEBUG if lost else logging.WARNING, "%s", exc)

    def spider_closed(self) -> None:
        if self._keepalive is not None and self._keepalive.running:
            self._keepalive.stop()
        if self._store is not None:
            self._store.close()
            self._store = None
        self._opened = False

    def settled(
        self, article_id: str, updated: datetime | None = None, *, recheck: bool = False, listing: str = ""
    ) -> tuple[str | None, str]:
        """The one answer to "is there anything to fetch for this article?", for the dedup
        middleware: ``(state, why)`` of ``judge()``. A written record without a listing digest yet
        takes ``listing`` (the caller holds the article's claim)."""
        verdict = self.judge(article_id, updated, listing, recheck=recheck)
        record = verdict.record
        if verdict.state == WRITTEN and listing and record is not None and not record.listing:
            self.store.put(replace(record, listing=listing))
        return verdict.state, verdict.why

    def judge(self, article_id: str, updated: datetime | None = None, listing: str = "", *, recheck: bool = False) -> Verdict:
        """What the store says of an article a source lists (read only). ``state``: what makes
        fetching it pointless, or None; ``why``: why a known article is fetched again (``recheck``,
        ``listing``, ``updated``, ``retried``); ``note``: a stamp not taken as a change (``backwards``,
        ``distrusted``). The rules: docs/store.md ("The dedup middleware"), docs/updates.md."""
        record = self.store.get(article_id)
        if record is None:
            return Verdict(None)
        if record.written:
            target = self.root / record.path if record.path else None
            if target is None or not target.is_file():
                return Verdict(None, record=record)
            if recheck:
                return Verdict(None, "recheck", record)
            if listing and record.listing and listing != record.listing:
                return Verdict(None, "listing", record)
            announced = parse_time(record.announced)
            if updated is not None and announced is not None and updated < announced:
                return Verdict(WRITTEN, "", record, "backwards")
            if changed_since_written(record, updated, target):
                if self.stamp_misses and record.quiet_count >= self.stamp_misses:
                    return Verdict(WRITTEN, "", record, "distrusted")
                return Verdict(None, "updated", record)
            return Verdict(WRITTEN, "", record)
        if record.state == VIDEO and self.videos != "skip":
            return Verdict(None, record=record)
        if record.state == DROPPED:
            last = parse_time(record.seen)
            if last is None or (datetime.now(timezone.utc) - last).total_seconds() >= self.retry_dropped:
                return Verdict(None, "retried", record)
        return Verdict(record.state, "", record)

    def due_rechecks(self, window: float, after: float, budget: int) -> list[Record]:
        """The written articles published within the last ``window`` seconds and not seen for
        ``after`` seconds, at most ``budget``, the longest unseen first (``UPDATE_WINDOW``)."""
        moment = datetime.now(timezone.utc)
        return self.store.recent(moment - timedelta(seconds=window), moment - timedelta(seconds=after), budget)


def store_of(crawler: Crawler) -> StoreExtension:
    """The crawl's store extension (``EXTENSIONS`` must enable it)."""
    extension = crawler.get_extension(StoreExtension)
    if extension is None:
        raise RuntimeError("crawler.store.extension.StoreExtension is not enabled in EXTENSIONS")
    return extension
