"""Spidermon's extension, logging through a logger instead of ``Spider.log()``.

Spidermon 1.27's runner writes its results with ``spider.log()``, which Scrapy 2.19 deprecates
(a ``ScrapyDeprecationWarning`` in every crawl's log, an error under ``filterwarnings = error``).
This subclass runs the suites the same way with a result that logs to ``spidermon`` instead, and
leaves a failure's words to ``crawler.monitors.actions.ReportAction`` (no unittest traceback).

A crawl refused when it opened, or whose output root was lost mid-crawl
(``crawler.exitcode.NOT_JUDGED``), runs no monitor: one INFO line says so, no ``monitors/*`` stat
is set, and the summary says "not run".
"""

from __future__ import annotations

import logging
from typing import Any

from spidermon.contrib.scrapy.extensions import Spidermon as SpidermonExtension
from spidermon.contrib.scrapy.runners import LOG_MESSAGE_HEADER, SpiderMonitorResult, SpiderMonitorRunner

from crawler.exitcode import NOT_JUDGED
from crawler.extensions.output import REASON as OUTPUT_LOST
from crawler.extensions.sitehook import settled

logger = logging.getLogger("spidermon")


class _Result(SpiderMonitorResult):
    def log(self, msg: str, level: int = logging.DEBUG) -> None:
        logger.log(level, "[%s] %s", LOG_MESSAGE_HEADER, msg)

    def write_errors(self) -> None:
        """Nothing: a failed monitor is said in words, one ERROR line each, by ``ReportAction``;
        Spidermon's block would add unittest's traceback of the assertion."""


class _Runner(SpiderMonitorRunner):
    def create_result(self) -> SpiderMonitorResult:
        return _Result(self.spider)


class Spidermon(SpidermonExtension):
    async def spider_closed(self, spider: Any, reason: str = "") -> None:
        await settled(self.crawler)  # judged with the site hooks' outcome (crawler.extensions.sitehook)
        if reason in NOT_JUDGED:
            why = "the output root was lost mid-crawl" if reason == OUTPUT_LOST else "the crawl was refused at start"
            logger.info("[%s] Monitors not run: %s (%s)", LOG_MESSAGE_HEADER, why, reason)
            for periodic in self.periodic_tasks.get(spider, []):
                periodic.stop()
            return
        super().spider_closed(spider)

    def _run_suites(self, spider: Any, suites: list[Any]) -> None:
        data = self._generate_data_for_spider(spider)
        for suite in suites:
            _Runner(spider=spider).run(suite, **data)
