"""What an article a feed or sitemap lists becomes: fetched now, skipped by rule, left as written,
or held as a change (``crawler.qq.changes``) and fetched when every source is read, within
``UPDATE_REFETCH_BUDGET``. Docs: docs/updates.md (the change signal), docs/arguments.md.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider

from crawler import ledger
from crawler.config import config_of
from crawler.qq.arguments import Arguments
from crawler.qq.changes import own_stamps
from crawler.qq.feeds import Entry
from crawler.qq.refetch import Refetches
from crawler.qq.rules import skip_reason
from crawler.spiders.articles import Articles
from crawler.stats import QQ_REFETCH, QQ_REFETCH_HELD, QQ_REFETCH_QUEUED, QQ_SKIPPED, QQ_STAMP, inc
from crawler.stats import value as stat_value
from crawler.store.extension import Verdict, store_of

logger = logging.getLogger("crawler.spiders.qq")  # the spider's lines


class Listings:
    def __init__(self, crawler: Crawler, args: Arguments, articles: Articles) -> None:
        config = config_of(crawler)
        self.crawler = crawler
        self.args = args
        self.articles = articles
        # Every listed article is fetched (and the store not asked) on a refresh or without dedup.
        self.ask_store = config.dedup_enabled and not args.refresh
        self.refetches: Refetches[Entry] = Refetches(config.update_refetch_budget)
        self._verdicts: dict[tuple[str, datetime | None, str], Verdict | None] = {}
        crawler.signals.connect(self.refetch_due, signal=signals.spider_idle)
        crawler.signals.connect(self.closed, signal=signals.spider_closed)

    def page(self, entries: list[Entry], answered: datetime | None, counted: str, *, publish_known: bool = True) -> list[Entry]:
        """A new source page's entries, every stamp that is no change signal cleared
        (``crawler.qq.changes``) and counted under ``counted`` (a template with a ``kind``)."""
        self._verdicts.clear()
        kept, odd = own_stamps(entries, answered, publish_known=publish_known)
        for kind, count in odd.items():
            inc(self.crawler, counted, count, kind=kind)
        return kept

    def judged(self, ident: str, updated: datetime | None = None, listing: str = "") -> Verdict | None:
        """The store's verdict on a listed article (read only), asked once per source page; None
        when every article is fetched anyway."""
        if not self.ask_store:
            return None
        key = (ident, updated, listing)
        if key not in self._verdicts:
            self._verdicts[key] = store_of(self.crawler).judge(ident, updated, listing)
        return self._verdicts[key]

    def stale(self, entry: Entry) -> bool:
        """Older than ``since``, or written and not changed since: a feed page of only such entries
        ends the paging (a page listing a change goes on: changes may be deeper)."""
        since = self.args.since
        old = since is not None and entry.older_than(since)
        return old or self.already_written(entry.id, entry.updated, entry.listing)

    def already_written(self, ident: str, updated: datetime | None = None, listing: str = "") -> bool:
        """Whether the store has nothing to fetch for the article as things stand (for paging only:
        the dedup middleware alone decides what is fetched)."""
        verdict = self.judged(ident, updated, listing)
        return verdict is not None and verdict.state is not None

    def follow(self, entry: Entry, source: str) -> Request | None:
        """The request for a listed entry, or None: seen this run, skipped (counted), or a change
        held until every source is read (``refetch_due``)."""
        if not self.articles.seen.add(entry.id):
            return None
        skip = skip_reason(entry, self.args.since, self.args.videos)
        if skip is not None:
            inc(self.crawler, QQ_SKIPPED, reason=skip)
            ledger.take_on(self.crawler)
            ledger.settle(self.crawler, ledger.SKIPPED, skip)
            logger.debug("Skipped %s from %s: %s", entry.id, source, skip)
            return None
        verdict = self.judged(entry.id, entry.updated, entry.listing)
        if verdict is not None and verdict.note:
            inc(self.crawler, QQ_STAMP, note=verdict.note)
            logger.info("%s from %s: its stamp %s is %s; taken as unchanged", entry.id, source, entry.updated, verdict.note)
        if verdict is not None and verdict.why in ("updated", "listing"):
            inc(self.crawler, QQ_REFETCH_QUEUED)
            self.refetches.offer(entry, verdict.seen)
            return None
        return self.articles.request(entry.id, entry.url, entry.updated, listing=entry.listing)

    def refetch_due(self) -> None:
        """On spider_idle (every source read): the held changes crawled, the crawl kept open."""
        requests = list(self.refetch_requests())
        if requests:
            assert self.crawler.engine is not None
            for request in requests:
                self.crawler.engine.crawl(request)
            raise DontCloseSpider

    def refetch_requests(self) -> Iterator[Request]:
        """The held changes, at most ``UPDATE_REFETCH_BUDGET`` a run, the least recently seen
        first; the rest wait for a later run (``qq/refetch/held``)."""
        entries = self.refetches.take()
        self._hold(self.refetches.held - stat_value(self.crawler, QQ_REFETCH_HELD))
        if entries:
            logger.info(
                "Fetching %s articles their sources say changed, the least recently seen first (%s held back by "
                "UPDATE_REFETCH_BUDGET = %s this run)", len(entries), self.refetches.held, self.refetches.budget,
            )  # fmt: skip
        for entry in entries:
            inc(self.crawler, QQ_REFETCH)
            yield self.articles.request(entry.id, entry.url, entry.updated, listing=entry.listing)

    def closed(self) -> None:
        """On spider_closed: changes still held when the crawl closed before every source was read
        are held back too (a later run fetches them), so the ledger accounts for them."""
        self._hold(len(self.refetches) + self.refetches.held - stat_value(self.crawler, QQ_REFETCH_HELD))

    def _hold(self, count: int) -> None:
        if count > 0:
            inc(self.crawler, QQ_REFETCH_HELD, count)
            ledger.take_on(self.crawler, count)  # found changed, fetched on a later run
            ledger.settle(self.crawler, ledger.SKIPPED, "held_back", count)
