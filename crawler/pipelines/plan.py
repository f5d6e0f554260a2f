"""Planning: where each article's files go, decided once under the store's lock, before any of them
is written; duplicates dropped, the store record put. How: docs/store.md ("Planning").
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from scrapy.crawler import Crawler

from crawler.extensions.output import output_lost
from crawler.files import output_root
from crawler.items import Article, Paths
from crawler.ledger import Dropped
from crawler.paths import Layout, plan_paths
from crawler.render.profiles import profile_from_settings
from crawler.stats import PLAN_DROPPED, PLAN_DUPLICATE, PLAN_RENAMED, PLAN_UPDATED, inc
from crawler.store import ArticleStore, Record, StoreError, content_fingerprint
from crawler.store.base import WRITTEN, now, parse_time, stamp
from crawler.store.extension import store_of
from crawler.times import BEIJING

logger = logging.getLogger(__name__)


def change_evidence(record: Record | None, item: Article, fingerprint: str) -> dict[str, str]:
    """The record's fields that judge the article's next change (docs/updates.md): its listing
    digest (kept when this fetch had none, e.g. from a sitemap), the own stamp it was fetched on,
    how many stamp-driven fetches in a row found its text unchanged (reset by a change), and its
    page's validators (this answer's: none kept from an older one)."""
    quiet = record.quiet_count if record is not None else 0
    if record is not None and record.fingerprint and record.fingerprint != fingerprint:
        quiet = 0
    elif item.refetch == "updated":
        quiet += 1
    return {
        "listing": item.listing or (record.listing if record else ""),
        "announced": item.updated.isoformat() if item.updated else (record.announced if record else ""),
        "quiet": str(quiet) if quiet else "",
        "etag": item.etag,
        "last_modified": item.last_modified,
    }


class PlanPipeline:
    # One lock for every plan: two crawls planning two articles whose slugs collide, or the same
    # content under two ids, must not interleave. A plan takes a millisecond.
    LOCK_KEY = "write"

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.root = output_root(crawler.settings)
        self.layout = Layout.from_settings(crawler.settings, profile_from_settings(crawler.settings))

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PlanPipeline:
        return cls(crawler)

    def _drop(self, counted: str, reason: str, item: Article, detail: str, level: int = logging.WARNING) -> Dropped:
        inc(self.crawler, counted, reason=reason)
        logger.log(level, "Dropped %s (%s): %s", item.id, item.source_url, detail)
        return Dropped(reason, detail)

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, Article):
            return item
        store = store_of(self.crawler).store
        fingerprint = content_fingerprint(item.title, item.blocks)
        try:
            with store.lock(self.LOCK_KEY):
                item.paths = self._plan(store, item, fingerprint)
        except (StoreError, OSError) as exc:
            if output_lost(self.crawler, exc):  # closes the crawl, said in one line there
                raise self._drop(PLAN_DROPPED, "output_lost", item, str(exc), logging.DEBUG) from exc
            raise self._drop(PLAN_DROPPED, "store", item, str(exc), logging.ERROR) from exc
        return item

    def _plan(self, store: ArticleStore, item: Article, fingerprint: str) -> Paths:
        record = store.get(item.id)
        if record is None or not record.written:
            duplicate = store.find_fingerprint(fingerprint)
            # Its file may not be on disk yet (still in the pipelines) or any more (removed by hand, a
            # failed write): either way that id is fetched again until it is written, so the content
            # is not lost by dropping this copy.
            if duplicate is not None and duplicate.id != item.id:
                raise self._drop(PLAN_DUPLICATE, "duplicate", item, f"same content as {duplicate.id} in {duplicate.path}", logging.INFO)
        held: list[str] = []  # the path another article holds, when the planned one is taken

        def taken(path: str) -> bool:
            if self._taken(store, path, item):
                held.append(path)
                return True
            return False

        try:
            paths = plan_paths(item, self.layout, (record.path if record else "") or None, taken)
        except ValueError as exc:
            raise self._drop(PLAN_DROPPED, "bad_path", item, str(exc), logging.ERROR) from exc
        if held:
            inc(self.crawler, PLAN_RENAMED)
            logger.info("Another article has %s's name: writing it to %s", item.id, paths.markdown)
        item.modified = self._modified(record, item, fingerprint)
        fetched = item.updated or datetime.now(BEIJING)
        updated = parse_time(record.updated) if record else None
        if updated is not None and updated > fetched:
            fetched = updated
        store.put(
            Record(
                item.id, paths.markdown, fingerprint, WRITTEN, updated=fetched.isoformat(),
                modified=item.modified.isoformat() if item.modified else "", published=stamp(item.published), seen=now(),
                **change_evidence(record, item, fingerprint),
            )
        )  # fmt: skip
        return paths

    def _modified(self, record: Record | None, item: Article, fingerprint: str) -> datetime | None:
        """When the article's text was last corrected: now, if it differs from what its file was
        written from; else what the record says (None for an article never corrected)."""
        if record is None:
            return None
        corrected = (
            record.written and record.fingerprint and record.fingerprint != fingerprint
            and record.path and (self.root / record.path).is_file()
        )  # fmt: skip
        if not corrected:
            return parse_time(record.modified)
        inc(self.crawler, PLAN_UPDATED)
        modified = item.updated or datetime.now(BEIJING)
        logger.info("Corrected %s (%s): its text changed; rewriting %s with lastmod %s", item.id, item.title, record.path, modified)
        return modified

    def _taken(self, store: ArticleStore, path: str, item: Article) -> bool:
        """Whether ``path`` belongs to another article: recorded for another id, or a file on disk
        that is not this article's (its link back names another article)."""
        owner = store.path_owner(path)
        if owner is not None:
            return owner != item.id
        try:
            return f"({item.url})" not in (self.root / path).read_text(encoding="utf-8")
        except FileNotFoundError:
            return False
        except (OSError, UnicodeDecodeError):
            return True
