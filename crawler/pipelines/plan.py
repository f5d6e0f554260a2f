"""Planning: where each article's files go, decided once, before any of them is written.

Under the store's lock (so parallel crawls agree), for each article:

1. an article the store has no record of, whose content (``content_fingerprint``: title and block
   text) is already written under another id, is a duplicate: dropped (``plan/duplicate``), no file;
2. ``crawler.paths.plan_paths`` plans the Markdown file and every image from the article, the
   layout (``OUTPUT_PROFILE``, ``OUTPUT_PATH``, ``THUMBNAILS_*``) and the store's record: an
   article already recorded keeps its path (even after a title change); a path another article
   holds (in the store, or a file on disk that is not this article's) gets ``-<id>``
   (``plan/renamed``);
3. the record is put in the store (state ``written``, path, fingerprint, the update time it is
   written from, its publish time, ``seen``), which reserves the path; the article counts as
   written once its file is on disk (the writer's job).

The record also keeps what judges the article's next change (``change_evidence()``: its listing
digest, the stamp it was fetched on, stamp-driven fetches that found nothing, its validators).

Updates: an article already written whose text changed (its fingerprint is not the recorded one)
is a correction: ``Article.modified`` becomes its source's update time (``Article.updated``, else
now), which the renderer writes as the profile's ``lastmod`` key, and the record keeps it
(``plan/updated``). Text unchanged: the recorded ``modified`` stays (none for an article never
corrected), so the file renders to the same bytes and the writer leaves it untouched. The recorded
update time is the source's (else the fetch time), never moved back.

A path that would leave the output root is dropped (``plan/dropped/bad_path``); a store that fails
(e.g. its lock timed out) drops the article (``plan/dropped/store``): nothing was recorded, so the
next run fetches it again; an output root lost mid-crawl (read-only, removed) closes the crawl
(``crawler.extensions.output``) and drops the article quietly (``plan/dropped/output_lost``). Sets ``Article.paths`` and ``Article.modified``. Stats: ``plan/duplicate``,
``plan/renamed``, ``plan/updated``, ``plan/dropped/<reason>``.
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
