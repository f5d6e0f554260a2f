"""The crawl's output root and its article store, opened once per crawl and shared by every component.

``StoreExtension`` (in ``EXTENSIONS``) checks ``OUTPUT_ROOT`` and opens the store
(``crawler.store.open_store``) when the spider opens, before any request; components get it with
``crawler.get_extension(StoreExtension)`` (``store_of(crawler)``) and never open a store of their
own. So one crawl has one connection, one set of claims, and one answer to "written?".

* The output root must already exist and be a writable directory: it is never created, so a
  mistyped path, or a relative ``output`` under a Scrapyd whose working directory is unknown, stops
  the crawl instead of writing somewhere else. If it is not, the crawl closes at once with the
  reason ``bad_output_root`` and one ERROR line, and nothing is created.
* A store that cannot be used (corrupt, unreadable) closes the crawl at once with the reason
  ``bad_store`` and an error naming it and how to mend it; a store server that does not answer
  (Redis down) with the reason ``redis_unreachable`` and one ERROR line (none of its own when the
  shared scheduler of distributed mode has already said Redis is unreachable); it is never replaced by
  an empty one (which would fetch and rewrite every article). A store that does not exist yet (a
  first crawl) is made on first use, so a crawl refused at start (e.g. ``bad_arguments``) leaves
  nothing behind.
* Claims of this process are released when its article leaves the pipelines (written or dropped)
  or its outcome is recorded (``crawler.store.outcomes``), and all at once when the crawl closes; ``keep_alive`` runs every ``STORE_KEEPALIVE_INTERVAL``
  seconds.

Settings: ``OUTPUT_ROOT``, ``STORE_*``. Stats: ``store/bad_output_root``, ``store/bad_store``,
``store/unreachable``,
``store/errors`` (a release or keep-alive that failed; the claim then lapses by itself).
"""

from __future__ import annotations

import logging
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import CloseSpider
from twisted.internet import task

from crawler.items import Article
from crawler.store import ArticleStore, StoreError, StoreUnreachable, open_store, store_exists
from crawler.store.base import DROPPED, VIDEO, WRITTEN, Record, changed_since_written, duration, parse_time

logger = logging.getLogger(__name__)


def root_problem(root: Path) -> str | None:
    """Why ``root`` cannot take the crawl's files, or None when it is a writable directory."""
    if not root.exists():
        return "does not exist"
    if not root.is_dir():
        return "is not a directory"
    try:
        # Creating a file the way the writer does is the only reliable test (os.access misses
        # read-only mounts, ACLs and root's privileges).
        with tempfile.NamedTemporaryFile(dir=root, prefix=".write-check-"):
            pass
    except OSError as exc:
        return f"is not writable ({exc.strerror or exc})"
    return None


class StoreExtension:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.root = Path(crawler.settings["OUTPUT_ROOT"]).expanduser()
        self.interval = crawler.settings.getfloat("STORE_KEEPALIVE_INTERVAL")
        # What "settled" means for a video or a dropped article (see settled()).
        self.videos = crawler.settings["QQ_VIDEOS"]
        self.retry_dropped = duration(crawler.settings["DEDUP_RETRY_DROPPED"], "DEDUP_RETRY_DROPPED")
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

    def _inc(self, key: str) -> None:
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(key)

    def spider_opened(self) -> None:
        problem = root_problem(self.root)
        if problem is not None:
            self._inc("store/bad_output_root")
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
            self._inc("store/unreachable")
            assert self.crawler.stats is not None
            if not self.crawler.stats.get_value("redis/errors"):  # the shared scheduler said it already
                logger.error("%s: nothing crawled", exc)
            raise CloseSpider("redis_unreachable") from exc
        except StoreError as exc:
            self._inc("store/bad_store")
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
            self._inc("store/errors")
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
            self._inc("store/errors")
            lost = self.crawler.stats is not None and self.crawler.stats.get_value("output/lost")
            logger.log(logging.DEBUG if lost else logging.WARNING, "%s", exc)

    def spider_closed(self) -> None:
        if self._keepalive is not None and self._keepalive.running:
            self._keepalive.stop()
        if self._store is not None:
            self._store.close()
            self._store = None
        self._opened = False

    def settled(
        self, article_id: str, updated: datetime | None = None, *, recheck: bool = False
    ) -> tuple[str | None, str]:
        """The one answer to "is there anything to fetch for this article?", for the dedup
        middleware (which acts on it) and the spider's feed paging (which stops at a page of settled
        articles): ``(state, why)``.

        ``state`` is what makes fetching it pointless, or None: ``written`` (its file on disk, and
        ``updated``, its source's update time, no newer than what the file was written from),
        ``deleted``, ``paid``, ``video`` (while ``QQ_VIDEOS`` is ``skip``), ``dropped`` (until
        ``DEDUP_RETRY_DROPPED`` has passed since it was last tried). ``why`` says why an article the
        store knows is fetched again: ``recheck`` (an ``UPDATE_WINDOW`` one), ``updated``,
        ``retried`` (a dropped one, due), else empty.
        """
        record = self.store.get(article_id)
        if record is None:
            return None, ""
        if record.written:
            target = self.root / record.path if record.path else None
            if target is None or not target.is_file():
                return None, ""
            if recheck:
                return None, "recheck"
            if changed_since_written(record, updated, target):
                return None, "updated"
            return WRITTEN, ""
        if record.state == VIDEO and self.videos != "skip":
            return None, ""
        if record.state == DROPPED:
            last = parse_time(record.seen)
            if last is None or (datetime.now(timezone.utc) - last).total_seconds() >= self.retry_dropped:
                return None, "retried"
        return record.state, ""

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
