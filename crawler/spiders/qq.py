"""The ``qq`` spider: reads what the crawl was asked for (``crawler.qq.arguments``), discovers articles
(named ones, channel feeds, sitemaps: ``crawler.qq.feeds``) and hands each page to
``crawler.qq.judge``; a gone URL's retry is ``crawler.spiders.fallback``'s, a failed request
``crawler.spiders.failures``'. What is fetched and skipped: docs/arguments.md; updates and rechecks:
docs/updates.md; faults: docs/limits.md; settings and stats: docs/settings.md, docs/stats.md.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from typing import Any

import scrapy
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import CloseSpider, DontCloseSpider
from scrapy.http import Response
from twisted.python.failure import Failure

from crawler import ledger
from crawler.config import config_of
from crawler.extensions.outcomes import DROPPED, PAID, VIDEO, Outcome, send_outcome
from crawler.items import Article
from crawler.qq import feeds
from crawler.qq.arguments import ARGUMENTS, SCRAPYD_ARGUMENTS, Arguments, parse_arguments
from crawler.qq.changes import own_stamps
from crawler.qq.fallback import is_deleted_page
from crawler.qq.feeds import Entry, SourceError, channel_id, parse_feed, parse_sitemap
from crawler.qq.ids import NOT_ARTICLE_FORMS, article_input, fallback_url, fetch_url, not_article_form
from crawler.qq.judge import judge_page
from crawler.qq.refetch import Refetches
from crawler.qq.rules import skip_reason
from crawler.qq.seen import SeenIds
from crawler.spiders.failures import Failures
from crawler.spiders.fallback import Fallback
from crawler.stats import (
    QQ_ARTICLES,
    QQ_BAD_ARGUMENTS,
    QQ_BAD_INPUT,
    QQ_BAD_INPUT_FORM,
    QQ_CHARSET_MISMATCH,
    QQ_DROPPED,
    QQ_EXTRACTION,
    QQ_FEED_BAD,
    QQ_FEED_BAD_UPDATE_TIME,
    QQ_FEED_PAGES,
    QQ_FEED_STAMP,
    QQ_RECHECK,
    QQ_REFETCH,
    QQ_REFETCH_HELD,
    QQ_REFETCH_QUEUED,
    QQ_REQUESTED,
    QQ_SEEN_IN_MEMORY,
    QQ_SITEMAP_BAD,
    QQ_SITEMAP_REPEATED,
    QQ_SITEMAP_SKIPPED_OLD,
    QQ_SITEMAP_STAMP,
    QQ_SITEMAP_URLSETS,
    QQ_SKIPPED,
    QQ_STAMP,
    inc,
)
from crawler.stats import value as stat_value
from crawler.store.extension import Verdict, store_of

logger = logging.getLogger(__name__)


class QqSpider(scrapy.Spider):
    name = "qq"
    # Set in from_crawler: the parsed arguments (and their errors), then settings read once.
    args: Arguments
    argument_errors: list[str]
    refresh: bool  # read by already_written() and the dedup middleware
    feed_url: str
    busy_retries: int
    busy_delay: float
    sitemap_url: str
    fetch_template: str
    link_template: str
    max_size: int
    update_window: float  # seconds (0: no rechecks)
    update_budget: int
    recheck_after: float
    update_slot: str
    failures: Failures  # what a failed request becomes (crawler.spiders.failures)
    fallback: Fallback  # an article whose given URL is gone (crawler.spiders.fallback)
    seen: SeenIds  # the articles this run has requested (crawler.qq.seen)
    refetches: Refetches[Entry]  # listed articles their source says changed, until the crawl is idle
    _verdicts: dict[tuple[str, datetime | None, str], Verdict | None]  # judged() of the page being read

    def __init__(self, **arguments: str) -> None:
        # Only Scrapyd's own arguments become attributes, as Scrapy does with every argument; the
        # rest are parsed in from_crawler, where the settings they fall back to are known.
        super().__init__(**{k: v for k, v in arguments.items() if k in SCRAPYD_ARGUMENTS})
        self.given = arguments
        # One bound method for every article request: Scrapy checks each callback's source
        # (warn_on_generator_with_return_value) in a cache keyed weakly on the callable, which a
        # fresh bound method per request kept missing (2.5% of the crawl's time: issue 18).
        self._on_article = self.parse_article
        self._on_article_error = self.article_failed
        self.sitemaps_read: set[str] = set()  # sitemap URLs read or queued (first_read)

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> QqSpider:
        spider: QqSpider = super().from_crawler(crawler, *args, **kwargs)
        settings = crawler.settings
        config = spider.config = config_of(crawler)
        spider.seen = SeenIds(on_fallback=lambda: inc(crawler, QQ_SEEN_IN_MEMORY))
        spider.args, spider.argument_errors = parse_arguments(spider.given, config)
        spider.refresh = spider.args.refresh
        spider.feed_url = config.qq_feed_url
        spider.busy_retries = config.qq_feed_busy_retries
        spider.busy_delay = config.qq_feed_busy_delay
        spider.sitemap_url = config.qq_sitemap_url
        spider.fetch_template = config.qq_fetch_url
        spider.link_template = config.qq_article_url
        spider.max_size = settings.getint("DOWNLOAD_MAXSIZE")
        spider.update_budget = config.update_budget
        spider.update_slot = config.update_download_slot
        spider.update_window = config.update_window
        spider.recheck_after = config.update_recheck_after
        spider.refetches = Refetches(config.update_refetch_budget)
        spider._verdicts = {}
        crawler.signals.connect(spider.check_arguments, signal=signals.spider_opened)
        spider.fallback = Fallback(crawler, spider._article_get)
        spider.failures = Failures(crawler, spider.fallback)
        crawler.signals.connect(spider.fallback.dropped, signal=signals.request_dropped)
        crawler.signals.connect(spider.seen.close, signal=signals.spider_closed)
        crawler.signals.connect(spider.refetch_due, signal=signals.spider_idle)
        return spider

    def check_arguments(self) -> None:
        """On spider_opened: CloseSpider (handled by Scrapy before start() runs) on any bad argument."""
        if not self.argument_errors:
            return
        inc(self.crawler, QQ_BAD_ARGUMENTS, len(self.argument_errors))
        logger.error(
            "Bad spider arguments, nothing crawled: %s (accepted: %s)",
            "; ".join(self.argument_errors),
            ", ".join(ARGUMENTS),
        )
        raise CloseSpider("bad_arguments")

    def already_written(self, ident: str, updated: datetime | None = None, listing: str = "") -> bool:
        """Whether the crawl's article store has nothing to fetch for the article as things stand
        (``StoreExtension.judge``): for feed paging only (the dedup middleware alone decides what
        is fetched)."""
        verdict = self.judged(ident, updated, listing)
        return verdict is not None and verdict.state is not None

    def judged(self, ident: str, updated: datetime | None = None, listing: str = "") -> Verdict | None:
        """The store's verdict on a listed article (``StoreExtension.judge``, read only), asked once
        per source page; None when every article is fetched anyway (refresh, no dedup)."""
        if self.refresh or self.settings.getbool("DEDUP_REFRESH") or not self.settings.getbool("DEDUP_ENABLED"):
            return None
        key = (ident, updated, listing)
        if key not in self._verdicts:
            self._verdicts[key] = store_of(self.crawler).judge(ident, updated, listing)
        return self._verdicts[key]

    def outcome(self, ident: str, state: str, reason: str = "") -> None:
        """Tell the article store what fetching the article found (``crawler.extensions.outcomes``)."""
        send_outcome(self.crawler, Outcome(ident, state, reason))

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for request in self.article_requests(list(self.args.inputs)):
            await self._room()
            yield request
        # Rechecks before the sources: an article both due and listed is then fetched once, as a recheck.
        for request in self.recheck_requests():
            await self._room()
            yield request
        for channel in self.args.channels:
            yield self.feed_request(channel, 0)
        if self.args.sitemap:
            yield self.sitemap_request(self.sitemap_url)

    def recheck_requests(self) -> Iterator[scrapy.Request]:
        """``UPDATE_WINDOW``: the recent written articles due for a recheck, in their own slot."""
        if not self.update_window or self.update_budget <= 0 or not self.settings.getbool("DEDUP_ENABLED"):
            return
        due = store_of(self.crawler).due_rechecks(self.update_window, self.recheck_after, self.update_budget)
        logger.info("Rechecking %s recent articles (UPDATE_WINDOW %s)", len(due), self.settings["UPDATE_WINDOW"])
        for record in due:
            if self.seen.add(record.id):
                inc(self.crawler, QQ_RECHECK)
                yield self.article_request(record.id, recheck=True)

    # -- articles ---------------------------------------------------------------------------------

    async def _room(self) -> None:
        """Wait while the engine has enough to do (Scrapy's lazy start pattern).

        Scrapy consumes ``start()`` eagerly: without this, 100,000 ids would all wait as requests
        in the scheduler's memory queue, and memory would grow with the size of the crawl.
        """
        engine = self.crawler.engine
        if engine is not None and engine.needs_backout():
            await self.crawler.signals.wait_for(signals.scheduler_empty)

    def article_requests(self, inputs: list[str]) -> Iterator[scrapy.Request]:
        for raw in inputs:
            found = article_input(raw, self.fetch_template)
            if found is None:
                inc(self.crawler, QQ_BAD_INPUT)
                ledger.bad_input(self.crawler, raw)
                form = not_article_form(raw)
                if form is None:
                    logger.error("Not a qq.com article URL or id, skipped: %r", raw)
                else:
                    inc(self.crawler, QQ_BAD_INPUT_FORM, form=form)
                    logger.error("Not a qq.com article URL or id, skipped: %r is %s", raw, NOT_ARTICLE_FORMS[form])
                continue
            ident, url = found
            if self.seen.add(ident):
                yield self.article_request(ident, url)

    def article_request(
        self, ident: str, url: str = "", updated: datetime | None = None, *, recheck: bool = False, listing: str = ""
    ) -> scrapy.Request:
        """The request for an article: at the URL given (a source's link), else at ``QQ_FETCH_URL``;
        ``updated``: when its source says it last changed; ``recheck``: an ``UPDATE_WINDOW`` one;
        ``listing``: the digest of its feed listing (``crawler.qq.changes``)."""
        inc(self.crawler, QQ_REQUESTED)
        ledger.take_on(self.crawler)
        url = url or fetch_url(ident, self.fetch_template)
        meta: dict[str, Any] = {}
        if updated is not None:
            meta["qq_updated"] = updated.isoformat()
        if listing:
            meta["qq_listing"] = listing
        if recheck:
            meta.update(qq_recheck=True, download_slot=self.update_slot)
        return self._article_get(ident, url, fallback_url(url, ident, self.fetch_template), meta)

    def _article_get(
        self, ident: str, url: str, fallback: str | None, meta: dict[str, Any], *, retry: bool = False
    ) -> scrapy.Request:
        return scrapy.Request(
            url,
            callback=self._on_article,
            errback=self._on_article_error,
            cb_kwargs={"ident": ident},
            # qq_id, qq_updated and qq_recheck are read by crawler.middlewares.dedup; qq_fallback is
            # the canonical current URL tried once when this one is gone (None: it is that URL, or the retry).
            meta={"qq_id": ident, "qq_fallback": fallback, **meta},
            # The retry is never filtered: nor is its redirect to the deleted-article page, which
            # the first request of this article (or of another deleted one) has already asked for.
            dont_filter=retry,
        )

    def stale(self, entry: Entry) -> bool:
        """Older than ``since`` or already written (and not changed since, by the rule of
        ``docs/updates.md``): such a page of a feed ends the paging; a page listing a change goes on
        to the next (changes may be deeper)."""
        since = self.args.since
        old = since is not None and entry.older_than(since)
        return old or self.already_written(entry.id, entry.updated, entry.listing)

    def follow(self, entry: Entry, source: str) -> scrapy.Request | None:
        """The request for a discovered entry, or None (seen this run, skipped and counted, or a
        changed article held for the refetch budget: ``refetch_due``)."""
        if not self.seen.add(entry.id):
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
        return self.article_request(entry.id, entry.url, entry.updated, listing=entry.listing)

    def refetch_due(self) -> None:
        """On spider_idle (every source read): ``refetch_requests()`` crawled, the crawl kept open."""
        requests = list(self.refetch_requests())
        if requests:
            assert self.crawler.engine is not None
            for request in requests:
                self.crawler.engine.crawl(request)
            raise DontCloseSpider

    def refetch_requests(self) -> Iterator[scrapy.Request]:
        """The changed articles held by ``follow``, at most ``UPDATE_REFETCH_BUDGET`` a run, the
        least recently seen first; the rest wait for a later run (``qq/refetch/held``)."""
        entries = self.refetches.take()
        held = self.refetches.held - stat_value(self.crawler, QQ_REFETCH_HELD)
        if held:
            inc(self.crawler, QQ_REFETCH_HELD, held)
            ledger.take_on(self.crawler, held)  # found changed, fetched on a later run
            ledger.settle(self.crawler, ledger.SKIPPED, "held_back", held)
        if entries:
            logger.info(
                "Fetching %s articles their sources say changed, the least recently seen first (%s held back by "
                "UPDATE_REFETCH_BUDGET = %s this run)", len(entries), self.refetches.held, self.refetches.budget,
            )  # fmt: skip
        for entry in entries:
            inc(self.crawler, QQ_REFETCH)
            yield self.article_request(entry.id, entry.url, entry.updated, listing=entry.listing)

    def parse_article(self, response: Response, ident: str) -> Iterator[Article | scrapy.Request]:
        if is_deleted_page(response.url):
            assert response.request is not None
            retry = self.fallback.deleted(ident, response.request)
            if retry is not None:
                yield retry
            return
        page = judge_page(response, ident, self.link_template, self.args.videos)
        if page.charset_mismatch:
            inc(self.crawler, QQ_CHARSET_MISMATCH)
            logger.warning("Charset of %s (%s): %s; read as its bytes", ident, page.response.url, page.charset_mismatch)
        if page.extraction:
            inc(self.crawler, QQ_EXTRACTION, how=page.extraction)
        if page.dropped:
            inc(self.crawler, QQ_DROPPED, reason=page.dropped)
            logger.warning("Dropped %s%s", ident, page.why)
            self.outcome(ident, DROPPED, page.dropped)
            ledger.settle(self.crawler, ledger.DROPPED, page.dropped)
        elif page.skipped:
            skip = page.skipped
            inc(self.crawler, QQ_SKIPPED, reason=skip)
            logger.info("Skipped %s (%s): %s", ident, page.response.url, skip)
            self.outcome(ident, *((skip, "") if skip in (PAID, VIDEO) else (DROPPED, skip)))
            ledger.settle(self.crawler, ledger.SKIPPED, skip)
        elif page.article is not None:
            inc(self.crawler, QQ_ARTICLES)
            yield page.article

    def article_failed(self, failure: Failure) -> Iterator[scrapy.Request]:
        """An article request's errback (``crawler.spiders.failures``)."""
        return self.failures.article_failed(failure)

    def failed(self, failure: Failure) -> None:
        """Every other request's errback (``crawler.spiders.failures``)."""
        self.failures.failed(failure)

    # -- channel feeds ----------------------------------------------------------------------------

    def feed_request(self, channel: str, page: int) -> scrapy.Request:
        return feeds.feed_request(self.feed_url, channel, page, self.parse_feed, self.failed)

    def channel_requests(self, names: list[str]) -> Iterator[scrapy.Request]:
        """First feed pages of channels named at run time (distributed mode's ``channel:<name>``)."""
        for name in names:
            try:
                channel = channel_id(name)
            except ValueError as error:
                inc(self.crawler, QQ_BAD_INPUT)
                ledger.bad_input(self.crawler, name)
                logger.error("Not a channel, skipped: %s", error)
                continue
            yield self.feed_request(channel, 0)

    def parse_feed(self, response: Response, channel: str, page: int, busy: int = 0) -> Iterator[scrapy.Request]:
        try:
            feed = parse_feed(response.body)
        except SourceError as error:
            if error.reason == "busy":
                retry = self.busy_retry(response, busy)
                if retry is not None:
                    yield retry
                    return
            inc(self.crawler, QQ_FEED_BAD, reason=error.reason)
            logger.warning("Bad feed answer for %s page %s (%s): %s", channel, page, response.url, error)
            return
        inc(self.crawler, QQ_FEED_PAGES)
        self._verdicts.clear()
        feed.entries = self.own_stamps(feed.entries, feed.answered, QQ_FEED_STAMP)
        for bad in feed.bad_items:
            inc(self.crawler, QQ_FEED_BAD, reason="item")
            logger.warning("Bad feed item in %s page %s (%s): %s", channel, page, response.url, bad)
        for entry in feed.entries:
            if entry.bad_update:
                inc(self.crawler, QQ_FEED_BAD_UPDATE_TIME)
                logger.info("Feed %s page %s: %s's update_time is %s; taken as unchanged", channel, page, entry.id, entry.bad_update)
            request = self.follow(entry, f"{channel} page {page}")
            if request is not None:
                yield request
        if not feed.entries:
            logger.info("Feed %s ends at page %s: empty", channel, page)
        elif all(self.stale(e) for e in feed.entries):
            logger.info("Feed %s ends at page %s: every entry older than since or already written", channel, page)
        elif page + 1 >= self.args.pages:
            logger.info("Feed %s ends at page %s: pages=%s", channel, page, self.args.pages)
        else:
            yield self.feed_request(channel, page + 1)

    def own_stamps(
        self, entries: list[Entry], answered: datetime | None, counted: str, *, publish_known: bool = True
    ) -> list[Entry]:
        """The entries with every stamp that is no change signal cleared (``crawler.qq.changes``),
        counted under ``counted`` (a template with a ``kind``)."""
        kept, odd = own_stamps(entries, answered, publish_known=publish_known)
        for kind, count in odd.items():
            inc(self.crawler, counted, count, kind=kind)
        return kept

    def busy_retry(self, response: Response, busy: int) -> scrapy.Request | None:
        """Scrapy's retry of a busy feed answer, or None after QQ_FEED_BUSY_RETRIES (``crawler.qq.feeds``)."""
        assert response.request is not None
        return feeds.busy_retry(response.request, busy, self, self.busy_retries, self.busy_delay)

    # -- sitemaps ---------------------------------------------------------------------------------

    def sitemap_request(self, url: str, *, from_page: bool = False) -> scrapy.Request:
        return feeds.sitemap_request(url, self.parse_sitemap, self.failed, from_page=from_page)

    def first_read(self, url: str) -> bool:
        """Whether this crawl reads the sitemap at ``url`` for the first time (then noted as read):
        an index that lists itself, or another one already read, is read once."""
        if url in self.sitemaps_read:
            return False
        self.sitemaps_read.add(url)
        return True

    def parse_sitemap(self, response: Response) -> Iterator[scrapy.Request]:
        meta = response.request.meta if response.request is not None else {}
        for url in {response.url, *meta.get("redirect_urls", [])}:
            self.first_read(url)
        try:
            links, entries = parse_sitemap(response.body, meta.get("download_maxsize", self.max_size))
        except SourceError as error:
            inc(self.crawler, QQ_SITEMAP_BAD, reason=error.reason)
            logger.warning("Bad sitemap %s: %s", response.url, error)
            return
        since = self.args.since
        for link in links:
            if since is not None and link.lastmod is not None and link.lastmod < since:
                inc(self.crawler, QQ_SITEMAP_SKIPPED_OLD)
                continue
            if not self.first_read(link.url):
                inc(self.crawler, QQ_SITEMAP_REPEATED)
                logger.warning("Sitemap %s lists %s, already read or queued in this crawl: not read again", response.url, link.url)
                continue
            yield self.sitemap_request(link.url, from_page=True)
        if not links:
            inc(self.crawler, QQ_SITEMAP_URLSETS)
        self._verdicts.clear()
        entries = self.own_stamps(entries, None, QQ_SITEMAP_STAMP, publish_known=False)
        for entry in entries:
            request = self.follow(entry, response.url)
            if request is not None:
                yield request
