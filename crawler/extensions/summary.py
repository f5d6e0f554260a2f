"""What the crawl did, in words: a progress line every minute and one block when it ends.

Scrapy's own log lines count pages and items; its final stats dump is for tools. People (the
cron mail, the Scrapyd log) get, from the same stats:

* every ``SUMMARY_INTERVAL`` seconds while the crawl runs (0: never), one line: articles written,
  feed pages read, requests queued;
* when the spider closes, one INFO block (``summary_lines()``, pure): the ledger of every article
  asked for (``crawler.ledger``: written, unchanged, deleted, skipped, dropped, not fetched, bad
  input, each by reason), images failed, what the article pages fetched bought (``cost_line()``:
  pages for new and changed articles, 304s, refetches held back by ``UPDATE_REFETCH_BUDGET``), the monitors' verdict (when Spidermon ran), elapsed time
  and the finish reason.

Settings: ``SUMMARY_INTERVAL``. Stats: none of its own.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler
from twisted.internet import task

from crawler.exitcode import REFUSED_AT_START
from crawler.ledger import Ledger

logger = logging.getLogger(__name__)

def _n(stats: Mapping[str, Any], key: str) -> int:
    return int(stats.get(key, 0) or 0)


def _under(stats: Mapping[str, Any], prefix: str) -> dict[str, int]:
    return {k[len(prefix) :]: int(v) for k, v in sorted(stats.items()) if k.startswith(prefix) and isinstance(v, int)}


def queued(stats: Mapping[str, Any]) -> int:
    """Requests waiting in the scheduler, from Scrapy's scheduler counters."""
    return max(0, _n(stats, "scheduler/enqueued") - _n(stats, "scheduler/dequeued"))


def progress_line(stats: Mapping[str, Any]) -> str:
    return (
        f"Progress: {_n(stats, 'write/written')} articles written, {_n(stats, 'qq/feed/pages')} feed pages read, "
        f"{queued(stats)} requests queued"
    )


def cost_line(stats: Mapping[str, Any]) -> str:
    """What the run's article pages bought (docs/updates.md): pages fetched for new and changed
    articles, 304s, and the changed articles ``UPDATE_REFETCH_BUDGET`` held back for a later run."""
    pages, rewritten = _n(stats, "conditional/article_pages"), _n(stats, "write/rewritten")
    new = _n(stats, "write/written") - rewritten
    each = f" ({pages / (new + rewritten):.2f} per article)" if new + rewritten else ""
    return (
        f"  cost: {pages} article pages fetched for {new} new and {rewritten} changed articles{each}; "
        f"{_n(stats, 'conditional/not_modified')} not modified (304); "
        f"{_n(stats, 'qq/refetch/held')} said to have changed held back by UPDATE_REFETCH_BUDGET"
    )


def summary_lines(stats: Mapping[str, Any], reason: str) -> list[str]:
    """The end-of-crawl block, one fact a line: the ledger of every article asked for, then the rest."""
    closed_early = reason != "finished" and not reason.startswith("closespider_")
    images = sum(_under(stats, "thumbnails/failed/").values()) + sum(_under(stats, "thumbnails/body/failed/").values())
    lines = [
        f"Crawl summary ({reason}):",
        *Ledger.of(stats).lines(closed_early),
        f"  images failed: {images}",
        f"  feed pages read: {_n(stats, 'qq/feed/pages')}; pages fetched: {_n(stats, 'response_received_count')}",
        cost_line(stats),
    ]
    if "monitors/passed" in stats or "monitors/failed" in stats:
        failed = [k.split("/", 2)[2] for k in sorted(stats) if k.startswith("monitors/failed/")]
        verdict = f"{_n(stats, 'monitors/failed')} failed ({', '.join(failed)})" if failed else "all passed"
        lines.append(f"  monitors: {_n(stats, 'monitors/passed')} passed, {verdict}")
    elif reason in REFUSED_AT_START:
        lines.append("  monitors: not run (the crawl was refused at start)")
    elif reason == "output_lost":
        lines.append("  monitors: not run (the output root was lost mid-crawl)")
    lines.append(f"  elapsed: {float(stats.get('elapsed_time_seconds', 0.0)):.1f} s; finish reason: {reason}")
    return lines


class Summary:
    def __init__(self, crawler: Crawler, interval: float) -> None:
        self.crawler = crawler
        self.interval = interval
        self._task: task.LoopingCall | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Summary:
        extension = cls(crawler, crawler.settings.getfloat("SUMMARY_INTERVAL"))
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def _stats(self) -> dict[str, Any]:
        assert self.crawler.stats is not None
        return self.crawler.stats.get_stats()

    def spider_opened(self) -> None:
        if self.interval > 0:
            self._task = task.LoopingCall(lambda: logger.info("%s", progress_line(self._stats())))
            self._task.start(self.interval, now=False)

    def spider_closed(self, reason: str) -> None:
        if self._task is not None and self._task.running:
            self._task.stop()
        logger.info("%s", "\n".join(summary_lines(self._stats(), reason)))
