"""The output root lost mid-crawl (turned read-only, removed, unmounted): the crawl ends cleanly.

A component whose disk work fails with an ``OSError`` asks ``output_lost(crawler, error)``. When
the output root itself can no longer take a file (``crawler.files.root_problem``: it is
gone, not a directory, or a file cannot be created in it), the crawl closes with the reason
``output_lost`` (exit code 4, ``crawler.exitcode``) and one ERROR line; the article at hand and
every later one are dropped without a line of their own (``<component>/dropped/output_lost``), nothing half-written
stays (every file is written to a temporary file and renamed), and the next run writes the rest.
Any other failure (one file, a full disk) is the asking component's to report, as before.

Docs: docs/limits.md. Stats: ``output/lost`` (1 when the crawl closed for it).
"""

from __future__ import annotations

import logging

from scrapy.crawler import Crawler
from scrapy.utils.defer import deferred_from_coro

from crawler.faults import why
from crawler.files import output_root, root_problem
from crawler.stats import OUTPUT_LOST, set_value

logger = logging.getLogger(__name__)

REASON = "output_lost"


class OutputGuard:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.root = output_root(crawler.settings)
        self.problem: str | None = None  # why the root was lost, once it was

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> OutputGuard:
        return cls(crawler)

    def lost(self, error: BaseException) -> bool:
        """Whether ``error`` is the output root lost; the first time, the crawl is closed."""
        if self.problem is None:
            problem = root_problem(self.root)
            if problem is None:
                return False
            self.problem = problem
            assert self.crawler.engine is not None
            set_value(self.crawler, OUTPUT_LOST, 1)
            logger.error(
                "OUTPUT_ROOT %s %s mid-crawl (%s): closing the crawl; the files written are whole, "
                "the next run writes the rest",
                self.root.absolute(), problem, why(error),
            )  # fmt: skip
            deferred_from_coro(self.crawler.engine.close_spider_async(reason=REASON))
        return True


def output_lost(crawler: Crawler, error: BaseException) -> bool:
    """``OutputGuard.lost`` of the crawl (False when the extension is not enabled)."""
    guard = crawler.get_extension(OutputGuard)
    return guard is not None and guard.lost(error)
