"""A test extension: the crawl's stats as JSON in ``STATS_FILE`` when the spider closes, so that
tests read the counters themselves instead of parsing the log.

Enable with ``-s EXTENSIONS={"tests.stats_file.StatsFile": 0} -s STATS_FILE=<path>``.
"""

from __future__ import annotations

import json
from pathlib import Path

from scrapy import signals
from scrapy.crawler import Crawler


class StatsFile:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.path = Path(crawler.settings.get("STATS_FILE"))
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StatsFile:
        return cls(crawler)

    def spider_closed(self, reason: str) -> None:
        assert self.crawler.stats is not None
        stats = {**self.crawler.stats.get_stats(), "finish_reason": reason}
        self.path.write_text(json.dumps(stats, default=str, ensure_ascii=False), encoding="utf-8")
