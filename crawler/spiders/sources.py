"""The qq spider's sources: channel feeds, read page after page until a page lists nothing new, and
sitemaps, each read once; their entries go to ``crawler.spiders.listings``. Parsing:
``crawler.qq.feeds``. Docs: docs/arguments.md (channels, pages, sitemap), docs/limits.md.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.http import Response

from crawler import ledger
from crawler.config import config_of
from crawler.qq import feeds
from crawler.qq.arguments import Arguments
from crawler.qq.feeds import SourceError, channel_id, parse_feed, parse_sitemap
from crawler.spiders.listings import Listings
from crawler.stats import (
    QQ_BAD_INPUT,
    QQ_FEED_BAD,
    QQ_FEED_BAD_UPDATE_TIME,
    QQ_FEED_PAGES,
    QQ_FEED_STAMP,
    QQ_SITEMAP_BAD,
    QQ_SITEMAP_REPEATED,
    QQ_SITEMAP_SKIPPED_OLD,
    QQ_SITEMAP_STAMP,
    QQ_SITEMAP_URLSETS,
    inc,
)

logger = logging.getLogger("crawler.spiders.qq")  # the spider's lines

Callback = Callable[..., Any]


class Sources:
    def __init__(
        self, crawler: Crawler, args: Arguments, listings: Listings, on_feed: Callback, on_sitemap: Callback, on_error: Callback
    ) -> None:
        self.crawler = crawler
        self.config = config_of(crawler)
        self.args = args
        self.listings = listings
        self.on_feed, self.on_sitemap, self.on_error = on_feed, on_sitemap, on_error
        self.sitemaps_read: set[str] = set()  # read or queued (first_read)

    def first(self) -> Iterator[Request]:
        """The first page of each channel asked for, then the sitemap index if asked for."""
        for channel in self.args.channels:
            yield self.feed_request(channel, 0)
        if self.args.sitemap:
            yield self.sitemap_request(self.config.qq_sitemap_url)

    # -- channel feeds ----------------------------------------------------------------------------

    def feed_request(self, channel: str, page: int) -> Request:
        return feeds.feed_request(self.config.qq_feed_url, channel, page, self.on_feed, self.on_error)

    def channels(self, names: list[str]) -> Iterator[Request]:
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

    def read_feed(self, response: Response, channel: str, page: int, busy: int = 0) -> Iterator[Request]:
        try:
            feed = parse_feed(response.body)
        except SourceError as error:
            if error.reason == "busy":
                assert response.request is not None and self.crawler.spider is not None
                config = self.config
                retry = feeds.busy_retry(
                    response.request, busy, self.crawler.spider, config.qq_feed_busy_retries, config.qq_feed_busy_delay
                )
                if retry is not None:
                    yield retry
                    return
            inc(self.crawler, QQ_FEED_BAD, reason=error.reason)
            logger.warning("Bad feed answer for %s page %s (%s): %s", channel, page, response.url, error)
            return
        inc(self.crawler, QQ_FEED_PAGES)
        entries = self.listings.page(feed.entries, feed.answered, QQ_FEED_STAMP)
        for bad in feed.bad_items:
            inc(self.crawler, QQ_FEED_BAD, reason="item")
            logger.warning("Bad feed item in %s page %s (%s): %s", channel, page, response.url, bad)
        for entry in entries:
            if entry.bad_update:
                inc(self.crawler, QQ_FEED_BAD_UPDATE_TIME)
                logger.info("Feed %s page %s: %s's update_time is %s; taken as unchanged", channel, page, entry.id, entry.bad_update)
            request = self.listings.follow(entry, f"{channel} page {page}")
            if request is not None:
                yield request
        if not entries:
            logger.info("Feed %s ends at page %s: empty", channel, page)
        elif all(self.listings.stale(e) for e in entries):
            logger.info("Feed %s ends at page %s: every entry older than since or already written", channel, page)
        elif page + 1 >= self.args.pages:
            logger.info("Feed %s ends at page %s: pages=%s", channel, page, self.args.pages)
        else:
            yield self.feed_request(channel, page + 1)

    # -- sitemaps ---------------------------------------------------------------------------------

    def sitemap_request(self, url: str, *, from_page: bool = False) -> Request:
        return feeds.sitemap_request(url, self.on_sitemap, self.on_error, from_page=from_page)

    def first_read(self, url: str) -> bool:
        """Whether this crawl reads the sitemap at ``url`` for the first time (then noted as read):
        an index that lists itself, or another one already read, is read once."""
        if url in self.sitemaps_read:
            return False
        self.sitemaps_read.add(url)
        return True

    def read_sitemap(self, response: Response) -> Iterator[Request]:
        meta = response.request.meta if response.request is not None else {}
        for url in {response.url, *meta.get("redirect_urls", [])}:
            self.first_read(url)
        limit = meta.get("download_maxsize", self.crawler.settings.getint("DOWNLOAD_MAXSIZE"))
        try:
            links, entries = parse_sitemap(response.body, limit)
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
        for entry in self.listings.page(entries, None, QQ_SITEMAP_STAMP, publish_known=False):
            request = self.listings.follow(entry, response.url)
            if request is not None:
                yield request
