"""``scrapy crawl`` as Scrapy's, plus an exit code that tells cron, Scrapyd and scripts how it went.

Scrapy's own command exits 0 whatever the crawl did (1 only when the crawler could not be built).
This one (found through ``COMMANDS_MODULE``, so Scrapyd's runner uses it too):

* checks the settings the crawl cannot run without first (``crawler.config.settings_errors``, e.g.
  an unknown ``OUTPUT_PROFILE``): one ERROR line per mistake naming the setting and what is accepted, nothing
  opened, fetched or written, exit code 3;
* runs the crawl as Scrapy does, then exits with ``crawler.exitcode.exit_code`` of its final stats
  (the table is there and in docs/monitoring.md), saying why in one line when it is not 0.
"""

from __future__ import annotations

import argparse
import logging

from scrapy.commands.crawl import Command as ScrapyCrawl

from crawler.config import settings_errors
from crawler.exitcode import BAD_INPUT, OK, OTHER, exit_code
from crawler.stats import FINISH_REASON

logger = logging.getLogger(__name__)


class Command(ScrapyCrawl):
    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if len(args) != 1:
            super().run(args, opts)  # Scrapy's usage errors
            return
        assert self.settings is not None and self.crawler_process is not None
        errors = settings_errors(self.settings)
        for error in errors:
            logger.error("Bad setting, nothing crawled: %s", error)
        if errors:
            self.exitcode = BAD_INPUT
            return
        crawler = self._create_crawler(args[0])
        self.crawler_process.crawl(crawler, **opts.spargs)
        self.crawler_process.start()
        if self.crawler_process.bootstrap_failed or crawler.stats is None:
            self.exitcode = OTHER
            return
        stats = crawler.stats.get_stats()
        self.exitcode, why = exit_code(stats)
        if self.exitcode != OK:
            # A crawl closed early, or given a bad input, has said why in its own ERROR line.
            said = stats.get(FINISH_REASON) != "finished" or self.exitcode == BAD_INPUT
            level = logging.INFO if said else logging.ERROR
            logger.log(level, "Exit code %d: %s", self.exitcode, why)

