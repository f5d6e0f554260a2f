"""The ``qq`` spider: reads what the crawl was asked for (``crawler.qq.arguments``) and wires its
rooms: article requests (``articles``), sources (``sources``: feeds, sitemaps) and what their
entries become (``listings``), what a page becomes (``pages``), a gone URL's retry (``fallback``)
and a failed request (``failures``). Docs: docs/arguments.md, docs/updates.md, docs/architecture.md.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any

import scrapy
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import CloseSpider
from scrapy.http import Response
from twisted.python.failure import Failure

from crawler.config import config_of
from crawler.items import Article
from crawler.qq.arguments import ARGUMENTS, SCRAPYD_ARGUMENTS, Arguments, parse_arguments
from crawler.spiders.articles import Articles
from crawler.spiders.failures import Failures
from crawler.spiders.listings import Listings
from crawler.spiders.pages import Pages
from crawler.spiders.sources import Sources
from crawler.stats import QQ_BAD_ARGUMENTS, inc

logger = logging.getLogger(__name__)


class QqSpider(scrapy.Spider):
    name = "qq"
    # Set in from_crawler: the parsed arguments (and their errors), then the spider's rooms.
    args: Arguments
    argument_errors: list[str]
    refresh: bool  # read by the dedup middleware
    articles: Articles
    listings: Listings
    sources: Sources
    pages: Pages
    failures: Failures

    def __init__(self, **arguments: str) -> None:
        # Only Scrapyd's own arguments become attributes, as Scrapy does with every argument; the
        # rest are parsed in from_crawler, where the settings they fall back to are known.
        super().__init__(**{k: v for k, v in arguments.items() if k in SCRAPYD_ARGUMENTS})
        self.given = arguments

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> QqSpider:
        spider: QqSpider = super().from_crawler(crawler, *args, **kwargs)
        spider.args, spider.argument_errors = parse_arguments(spider.given, config_of(crawler))
        spider.refresh = spider.args.refresh
        # Callbacks are the spider's own methods (what Scrapy can name when it serializes a request).
        spider.articles = Articles(crawler, spider.parse_article, spider.article_failed)
        spider.listings = Listings(crawler, spider.args, spider.articles)
        spider.sources = Sources(crawler, spider.args, spider.listings, spider.parse_feed, spider.parse_sitemap, spider.failed)
        spider.pages = Pages(crawler, spider.articles.fallback, spider.args.videos)
        spider.failures = Failures(crawler, spider.articles.fallback)
        crawler.signals.connect(spider.check_arguments, signal=signals.spider_opened)
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

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for request in self.articles.named(list(self.args.inputs)):
            await self._room()
            yield request
        # Rechecks before the sources: an article both due and listed is then fetched once, as a recheck.
        for request in self.articles.rechecks():
            await self._room()
            yield request
        for request in self.sources.first():
            yield request

    async def _room(self) -> None:
        """Wait while the engine has enough to do (Scrapy consumes ``start()`` eagerly: 100,000 ids
        would otherwise all wait in the scheduler's memory queue)."""
        engine = self.crawler.engine
        if engine is not None and engine.needs_backout():
            await self.crawler.signals.wait_for(signals.scheduler_empty)

    # What distributed mode's Redis feed asks of a spider (crawler.distributed.feed.WorkSpider).
    def article_requests(self, inputs: list[str]) -> Iterator[scrapy.Request]:
        return self.articles.named(inputs)

    def channel_requests(self, names: list[str]) -> Iterator[scrapy.Request]:
        return self.sources.channels(names)

    # Callbacks and errbacks: each delegates to its room.
    def parse_article(self, response: Response, ident: str) -> Iterator[Article | scrapy.Request]:
        return self.pages.read(response, ident)

    def parse_feed(self, response: Response, channel: str, page: int, busy: int = 0) -> Iterator[scrapy.Request]:
        return self.sources.read_feed(response, channel, page, busy)

    def parse_sitemap(self, response: Response) -> Iterator[scrapy.Request]:
        return self.sources.read_sitemap(response)

    def article_failed(self, failure: Failure) -> Iterator[scrapy.Request]:
        return self.failures.article_failed(failure)

    def failed(self, failure: Failure) -> None:
        self.failures.failed(failure)
