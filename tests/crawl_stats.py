"""A stats collector for tests that run ``scrapy crawl`` in a subprocess: the final stats as JSON.

``-s STATS_CLASS=tests.crawl_stats.JsonStatsCollector -s TEST_STATS_FILE=<path>``: when the crawl
closes, its stats are written to ``<path>`` (datetimes as ISO text), so a test reads the crawl's own
counters instead of searching its log.
"""

from __future__ import annotations

import json
from pathlib import Path

from scrapy.statscollectors import MemoryStatsCollector, StatsT


class JsonStatsCollector(MemoryStatsCollector):
    def _persist_stats(self, stats: StatsT) -> None:
        super()._persist_stats(stats)
        path = self._crawler.settings.get("TEST_STATS_FILE")
        if path:
            Path(path).write_text(json.dumps(stats, default=str, indent=1), encoding="utf-8")


def read_stats(path: Path) -> dict[str, object]:
    return json.loads(path.read_text(encoding="utf-8"))
