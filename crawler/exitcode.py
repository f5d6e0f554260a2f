"""The verdict: how a crawl went, as the exit code of ``scrapy crawl`` (for cron, Scrapyd, scripts); pure.

The one place for the exit-code table (``REASON_CODES``), the crawls refused at start
(``REFUSED_AT_START``) and the "nothing happened" rules; the crawl command, the summary and the
monitors read them here. The table in words: docs/monitoring.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from scrapy.exceptions import IgnoreRequest
from scrapy.utils.misc import load_object

from crawler.ledger import BAD_INPUT as BAD_INPUT_OUTCOME
from crawler.ledger import Ledger
from crawler.stats import (
    DOWNLOADER_EXCEPTION_COUNT,
    DOWNLOADER_EXCEPTION_TYPE_COUNT,
    DOWNLOADER_RESPONSE_COUNT,
    DOWNLOADER_RESPONSE_STATUS_COUNT,
    FINISH_REASON,
    MONITORS_FAILED,
    MONITORS_FAILED_ONE,
    QQ_ARTICLES,
    QQ_DROPPED,
    QQ_FEED_BAD,
    QQ_SITEMAP_BAD,
    WRITE_UNCHANGED,
    WRITE_WRITTEN,
    under,
)

OK, OTHER, USAGE, BAD_INPUT, BAD_PLACE, UNREACHABLE, MONITORS = 0, 1, 2, 3, 4, 5, 6
# Finish reasons -> exit code ("finished" and Scrapy's closespider_* limits are OK).
REASON_CODES = {
    "bad_arguments": BAD_INPUT,
    "bad_spider": BAD_INPUT,  # a spider that cannot take work from Redis
    "bad_output_root": BAD_PLACE,
    "bad_store": BAD_PLACE,
    "output_lost": BAD_PLACE,
    "redis_unreachable": BAD_PLACE,
    "redis_lost": BAD_PLACE,
    "network": UNREACHABLE,
    "blocked": UNREACHABLE,
}

# A crawl closed with one of these never started: it was refused when it opened, before any
# request. Its monitors are not run (crawler.monitors.extension): there is nothing to judge, and a
# pass would read as a good crawl. (A bad setting: the crawl never even opens, crawler.commands.crawl.)
REFUSED_AT_START = frozenset(
    {"bad_arguments", "bad_spider", "bad_output_root", "bad_store", "redis_unreachable"}
)
# Crawls the monitors do not judge: those refused at start, and one whose output root was lost
# mid-crawl (crawler.extensions.output: its report could not be written either).
NOT_JUDGED = REFUSED_AT_START | {"output_lost"}


def written(stats: Mapping[str, Any]) -> int:
    """Articles whose file is on disk after this crawl: written (new or rewritten) or unchanged."""
    return int(stats.get(WRITE_WRITTEN, 0)) + int(stats.get(WRITE_UNCHANGED, 0))


def answered(stats: Mapping[str, Any]) -> int:
    """Responses of status 2xx the crawl got."""
    return sum(int(v) for status, v in under(stats, DOWNLOADER_RESPONSE_STATUS_COUNT).items() if status.startswith("2"))


def failed_fetches(stats: Mapping[str, Any]) -> int:
    """Requests that went out and failed: a download error (not a request a middleware chose to
    ignore, such as dedup's), or an answer other than 2xx."""
    errors = int(stats.get(DOWNLOADER_EXCEPTION_COUNT, 0))
    errors -= sum(int(v) for kind, v in under(stats, DOWNLOADER_EXCEPTION_TYPE_COUNT).items() if ignored(kind))
    return max(0, errors) + int(stats.get(DOWNLOADER_RESPONSE_COUNT, 0)) - answered(stats)


def ignored(exception: str) -> bool:
    """Whether a dotted exception class is a middleware's decision not to send (an IgnoreRequest)."""
    try:
        return issubclass(load_object(exception), IgnoreRequest)
    except (ImportError, NameError, ValueError, AttributeError, TypeError):
        return False


def refused_sources(stats: Mapping[str, Any]) -> int:
    """Feed pages and sitemaps the URL policy refused (the crawl's own sources, e.g. rebound)."""
    return sum(int(under(stats, template).get("refused", 0)) for template in (QQ_FEED_BAD, QQ_SITEMAP_BAD))


def nothing_fetched(stats: Mapping[str, Any]) -> bool:
    """Fetches were made (or a source refused), every one failed, and nothing was written (exit 5)."""
    tried = failed_fetches(stats) + refused_sources(stats)
    return written(stats) == 0 and answered(stats) == 0 and tried > 0


def attempted(stats: Mapping[str, Any]) -> int:
    """Articles fetched to be written: pages that gave an article and article requests or pages
    dropped (not what was skipped by rule or state, found deleted, or not fetched)."""
    return int(stats.get(QQ_ARTICLES, 0)) + sum(int(v) for v in under(stats, QQ_DROPPED).values())


def nothing_written(stats: Mapping[str, Any]) -> bool:
    """Pages were fetched to be written and none was (the monitor of that name, exit 6): pages
    answered but gave nothing, e.g. when qq.com changed its template."""
    return attempted(stats) > 0 and written(stats) == 0


def bad_inputs(stats: Mapping[str, Any]) -> int:
    """Inputs that could not be read as an article (the valid ones were still crawled)."""
    return Ledger.of(stats).total(BAD_INPUT_OUTCOME)


def exit_code(stats: Mapping[str, Any]) -> tuple[int, str]:
    """The exit code of a crawl from its final stats, and why in a few words."""
    reason = str(stats.get(FINISH_REASON, ""))
    if reason in REASON_CODES:
        return REASON_CODES[reason], f"closed: {reason}"
    if reason != "finished" and not reason.startswith("closespider_"):
        return OTHER, f"closed: {reason or 'never opened'}"
    if bad_inputs(stats):
        return BAD_INPUT, f"bad input: {bad_inputs(stats)} input(s) are not qq.com articles (named in the summary)"
    if nothing_fetched(stats):
        return UNREACHABLE, "nothing_fetched: no request was answered and nothing was written"
    failed = int(stats.get(MONITORS_FAILED, 0))
    if failed:
        names = ", ".join(sorted(under(stats, MONITORS_FAILED_ONE)))
        return MONITORS, f"{failed} monitor(s) failed: {names}"
    return OK, f"{reason}: {written(stats)} articles on disk"
