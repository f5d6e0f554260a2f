"""The crawl's final stats as a JSON file, for tools (and the tests) to read instead of the log.

When the spider closes, every stat of the crawl (Scrapy's and the project's), plus
``finish_reason``, is written to ``STATS_FILE`` as one JSON object (datetimes in ISO 8601),
atomically, once the site hooks (``crawler.extensions.sitehook``) are done. Empty ``STATS_FILE`` (the default): nothing is written.
"""

from __future__ import annotations

import json
from pathlib import Path

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from crawler.extensions.sitehook import settled
from crawler.files import write_atomic
from crawler.stats import FINISH_REASON


class StatsFile:
    def __init__(self, crawler: Crawler, path: Path) -> None:
        self.crawler = crawler
        self.path = path

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StatsFile:
        path = crawler.settings["STATS_FILE"]
        if not path:
            raise NotConfigured  # off by default: no warning
        extension = cls(crawler, Path(path).expanduser())
        # spider_closed is sent after the stats collector took finish_reason and finish_time.
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    async def spider_closed(self, reason: str) -> None:
        await settled(self.crawler)  # the site hooks' stats too
        assert self.crawler.stats is not None
        stats = {**self.crawler.stats.get_stats(), FINISH_REASON: reason}
        write_atomic(self.path, json.dumps(stats, default=str, indent=1, sort_keys=True) + "\n")
