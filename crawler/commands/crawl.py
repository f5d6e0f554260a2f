"""``scrapy crawl``, exiting 1 when the crawl closed for a reason in ``CRAWL_FAILED_REASONS``.

Scrapy's own command exits 0 whatever the finish reason, once the crawler started: a crawl that
lost its Redis (``redis_lost``: work left undone, for the others or the next run) would look like
a crawl that finished. This one is Scrapy's, plus the finish reason read from ``spider_closed``.
"""

from __future__ import annotations

import argparse
import logging

from scrapy import Spider, signals
from scrapy.commands.crawl import Command as ScrapyCrawl
from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)


class Command(ScrapyCrawl):
    reason: str | None = None
    failed_reasons: frozenset[str] = frozenset()

    def _create_crawler(self, spidercls: type[Spider] | str) -> Crawler:
        crawler = super()._create_crawler(spidercls)
        self.failed_reasons = frozenset(crawler.settings.getlist("CRAWL_FAILED_REASONS"))
        crawler.signals.connect(self._closed, signal=signals.spider_closed)
        return crawler

    def _closed(self, reason: str) -> None:
        self.reason = reason

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        super().run(args, opts)
        if self.reason in self.failed_reasons:
            logger.error("The crawl failed (%s): exit code 1", self.reason)
            self.exitcode = 1
