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
from crawler.extensions.sitehook import TARGETS, settled
from crawler.ledger import Ledger
from crawler.stats import (
    CONDITIONAL_ARTICLE_PAGES,
    CONDITIONAL_NOT_MODIFIED,
    ELAPSED_TIME_SECONDS,
    MONITORS_FAILED,
    MONITORS_FAILED_ONE,
    MONITORS_PASSED,
    QQ_FEED_PAGES,
    QQ_REFETCH_HELD,
    RESPONSE_RECEIVED_COUNT,
    SCHEDULER_DEQUEUED,
    SCHEDULER_ENQUEUED,
    SITEHOOK_DELIVERED,
    SITEHOOK_EARLIER,
    SITEHOOK_GAVE_UP,
    SITEHOOK_NOTHING_CHANGED,
    SITEHOOK_OWED,
    THUMBNAILS_BODY_FAILED,
    THUMBNAILS_FAILED,
    WRITE_REWRITTEN,
    WRITE_WRITTEN,
    name,
    under,
)

logger = logging.getLogger(__name__)

def _n(stats: Mapping[str, Any], key: str) -> int:
    return int(stats.get(key, 0) or 0)


def _under(stats: Mapping[str, Any], template: str) -> dict[str, int]:
    return {k: int(v) for k, v in sorted(under(stats, template).items()) if isinstance(v, int)}


def queued(stats: Mapping[str, Any]) -> int:
    """Requests waiting in the scheduler, from Scrapy's scheduler counters."""
    return max(0, _n(stats, SCHEDULER_ENQUEUED) - _n(stats, SCHEDULER_DEQUEUED))


def progress_line(stats: Mapping[str, Any]) -> str:
    return (
        f"Progress: {_n(stats, WRITE_WRITTEN)} articles written, {_n(stats, QQ_FEED_PAGES)} feed pages read, "
        f"{queued(stats)} requests queued"
    )


def cost_line(stats: Mapping[str, Any]) -> str:
    """What the run's article pages bought (docs/updates.md): pages fetched for new and changed
    articles, 304s, and the changed articles ``UPDATE_REFETCH_BUDGET`` held back for a later run."""
    pages, rewritten = _n(stats, CONDITIONAL_ARTICLE_PAGES), _n(stats, WRITE_REWRITTEN)
    new = _n(stats, WRITE_WRITTEN) - rewritten
    each = f" ({pages / (new + rewritten):.2f} per article)" if new + rewritten else ""
    return (
        f"  cost: {pages} article pages fetched for {new} new and {rewritten} changed articles{each}; "
        f"{_n(stats, CONDITIONAL_NOT_MODIFIED)} not modified (304); "
        f"{_n(stats, QQ_REFETCH_HELD)} said to have changed held back by UPDATE_REFETCH_BUDGET"
    )


def hook_line(stats: Mapping[str, Any]) -> str | None:
    """What the site hooks did (docs/hooks.md); None when no hook is set."""
    said = []
    for target, what in TARGETS.items():
        if _n(stats, name(SITEHOOK_DELIVERED, target=target)):
            earlier = _n(stats, name(SITEHOOK_EARLIER, target=target))
            said.append(f"{what} told the site" + (f" (with {earlier} owed by earlier crawls)" if earlier else ""))
        elif _n(stats, name(SITEHOOK_GAVE_UP, target=target)):
            kept = "owed to the next crawl" if _n(stats, name(SITEHOOK_OWED, target=target)) else "could not be kept"
            said.append(f"{what} failed every try ({kept})")
        elif _n(stats, name(SITEHOOK_NOTHING_CHANGED, target=target)):
            said.append(f"{what} not called: nothing changed")
    return f"  site hook: {'; '.join(said)}" if said else None


def summary_lines(stats: Mapping[str, Any], reason: str, distributed: bool = False) -> list[str]:
    """The end-of-crawl block, one fact a line: the ledger of every article asked for, then the rest
    (``distributed``: one of several crawlers sharing a Redis, whose ledger is its part of the work)."""
    closed_early = reason != "finished" and not reason.startswith("closespider_")
    images = sum(_under(stats, THUMBNAILS_FAILED).values()) + sum(_under(stats, THUMBNAILS_BODY_FAILED).values())
    lines = [
        f"Crawl summary ({reason}):",
        *Ledger.of(stats).lines(closed_early, distributed),
        f"  images failed: {images}",
        f"  feed pages read: {_n(stats, QQ_FEED_PAGES)}; pages fetched: {_n(stats, RESPONSE_RECEIVED_COUNT)}",
        cost_line(stats),
    ]
    hooks = hook_line(stats)
    if hooks:
        lines.append(hooks)
    if MONITORS_PASSED in stats or MONITORS_FAILED in stats:
        failed = sorted(under(stats, MONITORS_FAILED_ONE))
        verdict = f"{_n(stats, MONITORS_FAILED)} failed ({', '.join(failed)})" if failed else "all passed"
        lines.append(f"  monitors: {_n(stats, MONITORS_PASSED)} passed, {verdict}")
    elif reason in REFUSED_AT_START:
        lines.append("  monitors: not run (the crawl was refused at start)")
    elif reason == "output_lost":
        lines.append("  monitors: not run (the output root was lost mid-crawl)")
    lines.append(f"  elapsed: {float(stats.get(ELAPSED_TIME_SECONDS, 0.0)):.1f} s; finish reason: {reason}")
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

    async def spider_closed(self, reason: str) -> None:
        if self._task is not None and self._task.running:
            self._task.stop()
        await settled(self.crawler)  # with the site hooks' outcome, and the monitors' verdict after it
        distributed = bool(self.crawler.settings.get("REDIS_URL"))
        logger.info("%s", "\n".join(summary_lines(self._stats(), reason, distributed)))
