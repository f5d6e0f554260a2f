"""What the crawl did, in words: a progress line every minute and one block when it ends.

Scrapy's own log lines count pages and items; its final stats dump is for tools. People (the
cron mail, the Scrapyd log) get, from the same stats:

* every ``SUMMARY_INTERVAL`` seconds while the crawl runs (0: never), one line: articles written,
  feed pages read, requests queued;
* when the spider closes, one INFO block (``summary_lines()``, pure): articles written (new,
  rewritten, unchanged), skipped (already written, being fetched by another crawl, old, video,
  paid, other types), dropped by reason, deleted, images failed, the monitors' verdict (when
  Spidermon ran, ``crawler.monitors``), elapsed time and the finish reason.

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

logger = logging.getLogger(__name__)

# Stats whose keys name why an article was dropped: <prefix><reason> -> "<reason>".
DROP_PREFIXES = ("qq/dropped/", "clean/dropped/", "plan/dropped/", "write/dropped/")


def _n(stats: Mapping[str, Any], key: str) -> int:
    return int(stats.get(key, 0) or 0)


def _under(stats: Mapping[str, Any], prefix: str) -> dict[str, int]:
    return {k[len(prefix) :]: int(v) for k, v in sorted(stats.items()) if k.startswith(prefix) and isinstance(v, int)}


def _listing(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{n} {what}" for what, n in counts.items() if n) or "none"


def queued(stats: Mapping[str, Any]) -> int:
    """Requests waiting in the scheduler, from Scrapy's scheduler counters."""
    return max(0, _n(stats, "scheduler/enqueued") - _n(stats, "scheduler/dequeued"))


def progress_line(stats: Mapping[str, Any]) -> str:
    return (
        f"Progress: {_n(stats, 'write/written')} articles written, {_n(stats, 'qq/feed/pages')} feed pages read, "
        f"{queued(stats)} requests queued"
    )


def summary_lines(stats: Mapping[str, Any], reason: str) -> list[str]:
    """The end-of-crawl block, one fact a line."""
    written, rewritten = _n(stats, "write/written"), _n(stats, "write/rewritten")
    skipped = {
        "already written": _n(stats, "dedup/skipped") - _n(stats, "dedup/skipped/other_layout"),
        "already written in another profile's layout (a fresh OUTPUT_ROOT writes them)": _n(stats, "dedup/skipped/other_layout"),
        "being fetched by another crawl": _n(stats, "dedup/claimed"),
        **{what.replace("_", " "): n for what, n in _under(stats, "qq/skipped/").items()},
    }
    dropped: dict[str, int] = {}
    for prefix in DROP_PREFIXES:
        for what, n in _under(stats, prefix).items():
            dropped[what.replace("_", " ")] = dropped.get(what.replace("_", " "), 0) + n
    if _n(stats, "plan/duplicate"):
        dropped["same content as another article"] = _n(stats, "plan/duplicate")
    images = sum(_under(stats, "thumbnails/failed/").values()) + sum(_under(stats, "thumbnails/body/failed/").values())
    lines = [
        f"Crawl summary ({reason}):",
        f"  written: {written} ({written - rewritten} new, {rewritten} rewritten), {_n(stats, 'write/unchanged')} unchanged",
        f"  skipped: {_listing(skipped)}",
        f"  dropped: {_listing(dropped)}",
        f"  deleted on qq.com: {_n(stats, 'qq/deleted')}; images failed: {images}",
        f"  feed pages read: {_n(stats, 'qq/feed/pages')}; pages fetched: {_n(stats, 'response_received_count')}",
    ]
    if "monitors/passed" in stats or "monitors/failed" in stats:
        failed = [k.split("/", 2)[2] for k in sorted(stats) if k.startswith("monitors/failed/")]
        verdict = f"{_n(stats, 'monitors/failed')} failed ({', '.join(failed)})" if failed else "all passed"
        lines.append(f"  monitors: {_n(stats, 'monitors/passed')} passed, {verdict}")
    elif reason in REFUSED_AT_START:
        lines.append("  monitors: not run (the crawl was refused at start)")
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
