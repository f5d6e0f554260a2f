"""How a crawl went, as the exit code of ``scrapy crawl`` (for cron, Scrapyd and scripts): pure.

``exit_code(stats)`` reads the crawl's final stats (``finish_reason`` and the counters the
components set) and answers ``(code, why)``; the project's ``crawl`` command
(``crawler.commands.crawl``) exits with it. ``settings_errors(settings)`` is the check of the
settings a crawl cannot start without, run by the same command before anything is opened.

========  =====================================================================================
code      meaning
========  =====================================================================================
0         finished, including "nothing new" and Scrapy's CLOSESPIDER_* limits
1         the crawl stopped otherwise (interrupted: ``shutdown``; a component failed to start)
2         Scrapy's own: a bad command line (usage error)
3         bad input: ``bad_arguments``, or a bad setting (an unknown ``OUTPUT_PROFILE``, a bad
          ``THUMBNAILS_FRONT_MATTER`` or ``DELETED_FILES``: the crawl never opens)
4         the place to write is unusable: ``bad_output_root``, ``bad_store``, ``output_lost``
          (the output root turned read-only or vanished mid-crawl, ``crawler.extensions.output``),
          ``redis_unreachable``, ``redis_lost``
5         qq.com could not be read: ``network``, ``blocked``, or ``nothing_fetched`` (requests
          went out, every one failed, none got an answer of 2xx, nothing was written)
6         the crawl finished but a monitor failed (``crawler.monitors``; ``monitors/failed``)
========  =====================================================================================
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from scrapy.settings import BaseSettings

OK, OTHER, USAGE, BAD_INPUT, BAD_PLACE, UNREACHABLE, MONITORS = 0, 1, 2, 3, 4, 5, 6
# Finish reasons -> exit code ("finished" and Scrapy's closespider_* limits are OK).
REASON_CODES = {
    "bad_arguments": BAD_INPUT,
    "bad_settings": BAD_INPUT,
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
# pass would read as a good crawl. (bad_settings: the crawl never even opens.)
REFUSED_AT_START = frozenset({"bad_arguments", "bad_settings", "bad_output_root", "bad_store", "redis_unreachable"})


def written(stats: Mapping[str, Any]) -> int:
    """Articles whose file is on disk after this crawl: written (new or rewritten) or unchanged."""
    return int(stats.get("write/written", 0)) + int(stats.get("write/unchanged", 0))


def answered(stats: Mapping[str, Any]) -> int:
    """Responses of status 2xx the crawl got."""
    prefix = "downloader/response_status_count/"
    return sum(int(v) for k, v in stats.items() if k.startswith(prefix) and k[len(prefix) :].startswith("2"))


def failed_fetches(stats: Mapping[str, Any]) -> int:
    """Requests that went out and failed: a download error (not a request a middleware chose to
    ignore, such as dedup's), or an answer other than 2xx."""
    errors = int(stats.get("downloader/exception_count", 0))
    errors -= int(stats.get("downloader/exception_type_count/scrapy.exceptions.IgnoreRequest", 0))
    return max(0, errors) + int(stats.get("downloader/response_count", 0)) - answered(stats)


def nothing_fetched(stats: Mapping[str, Any]) -> bool:
    """Fetches were made, every one failed, and nothing was written."""
    return written(stats) == 0 and answered(stats) == 0 and failed_fetches(stats) > 0


def exit_code(stats: Mapping[str, Any]) -> tuple[int, str]:
    """The exit code of a crawl from its final stats, and why in a few words."""
    reason = str(stats.get("finish_reason", ""))
    if reason in REASON_CODES:
        return REASON_CODES[reason], f"closed: {reason}"
    if reason != "finished" and not reason.startswith("closespider_"):
        return OTHER, f"closed: {reason or 'never opened'}"
    if nothing_fetched(stats):
        return UNREACHABLE, "nothing_fetched: no request was answered and nothing was written"
    failed = int(stats.get("monitors/failed", 0))
    if failed:
        names = ", ".join(k.split("/", 2)[2] for k in sorted(stats) if k.startswith("monitors/failed/"))
        return MONITORS, f"{failed} monitor(s) failed: {names}"
    return OK, f"{reason}: {written(stats)} articles on disk"


def settings_errors(settings: BaseSettings) -> list[str]:
    """What is wrong with the settings a crawl needs before it opens (each names what is accepted)."""
    from crawler.render import RenderOptions  # noqa: PLC0415 (the renderer is not needed otherwise)
    from crawler.store.base import duration  # noqa: PLC0415
    from crawler.store.outcomes import DELETED_MODES  # noqa: PLC0415

    errors = []
    try:
        RenderOptions.from_settings(settings)
    except ValueError as error:
        errors.append(str(error))
    try:
        duration(settings["DEDUP_RETRY_DROPPED"], "DEDUP_RETRY_DROPPED")
    except ValueError as error:
        errors.append(str(error))
    if settings["DELETED_FILES"] not in DELETED_MODES:
        errors.append(f"DELETED_FILES {settings['DELETED_FILES']!r} is not one of {', '.join(DELETED_MODES)}")
    return errors
