"""The crawl's stats vocabulary: every stat name the project's code writes, by the component that
writes it, and the helpers that count them (``inc``, ``set_value``, ``max_value``) and read them.

A name whose last parts vary is a template with named fields (``QQ_DROPPED = "qq/dropped/{reason}"``:
``inc(crawler, QQ_DROPPED, reason="too_big")``). Scrapy's and Spidermon's own names that our code reads
or writes are at the end, as theirs. What each stat means: docs/stats.md (tests/test_stats_vocabulary.py
holds the two to each other).
"""

from __future__ import annotations

from collections.abc import Mapping
from string import Formatter
from typing import Any

from scrapy.crawler import Crawler
from scrapy.statscollectors import StatsCollector

# The project's own prefixes: one per component (Scrapy's and Spidermon's are theirs).
PREFIXES = (
    "qq", "ledger", "dedup", "conditional", "urlpolicy", "throttle", "delay", "network", "clean", "plan",
    "thumbnails", "write", "store", "outcomes", "redis", "sitehook", "output", "stop", "monitors",
)  # fmt: skip

# -- the spider (crawler/spiders/) ------------------------------------------------------------------
QQ_REQUESTED = "qq/requested"
QQ_ARTICLES = "qq/articles"
QQ_BAD_INPUT = "qq/bad_input"
QQ_BAD_INPUT_FORM = "qq/bad_input/{form}"
QQ_BAD_ARGUMENTS = "qq/bad_arguments"
QQ_DELETED = "qq/deleted"
QQ_FALLBACK = "qq/fallback"
QQ_CHARSET_MISMATCH = "qq/charset_mismatch"
QQ_SEEN_IN_MEMORY = "qq/seen/in_memory"
QQ_DROPPED = "qq/dropped/{reason}"  # an article page; also its fetch's fault (meta["qq_source_stats"])
QQ_SKIPPED = "qq/skipped/{reason}"
QQ_EXTRACTION = "qq/extraction/{how}"
QQ_RECHECK = "qq/recheck"
QQ_STAMP = "qq/stamp/{note}"
QQ_REFETCH_QUEUED = "qq/refetch/queued"
QQ_REFETCH = "qq/refetch"
QQ_REFETCH_HELD = "qq/refetch/held"
QQ_FEED_PAGES = "qq/feed/pages"
QQ_FEED_BAD = "qq/feed/bad/{reason}"
QQ_FEED_BAD_UPDATE_TIME = "qq/feed/bad/update_time"
QQ_FEED_STAMP = "qq/feed/stamp/{kind}"
# Written by Scrapy's get_retry_request under our base key (parent(QQ_FEED_BUSY_COUNT)).
QQ_FEED_BUSY_COUNT = "qq/feed/busy/count"
QQ_FEED_BUSY_MAX_REACHED = "qq/feed/busy/max_reached"
QQ_FEED_BUSY_REASON = "qq/feed/busy/reason_count/{reason}"
QQ_SITEMAP_URLSETS = "qq/sitemap/urlsets"
QQ_SITEMAP_SKIPPED_OLD = "qq/sitemap/skipped_old"
QQ_SITEMAP_REPEATED = "qq/sitemap/repeated"
QQ_SITEMAP_BAD = "qq/sitemap/bad/{reason}"
QQ_SITEMAP_STAMP = "qq/sitemap/stamp/{kind}"

# -- the ledger (crawler/ledger.py) -----------------------------------------------------------------
LEDGER_ASKED = "ledger/asked"
LEDGER_OUTCOME = "ledger/{outcome}"
LEDGER_OUTCOME_REASON = "ledger/{outcome}/{reason}"
LEDGER_BAD_INPUTS = "ledger/bad_inputs"  # a list: the first inputs that were not articles

# -- the dedup middleware (crawler/middlewares/dedup.py) --------------------------------------------
DEDUP_SKIPPED = "dedup/skipped"
DEDUP_SKIPPED_STATE = "dedup/skipped/{state}"
DEDUP_SKIPPED_OTHER_LAYOUT = "dedup/skipped/other_layout"
DEDUP_FETCHED_AGAIN = "dedup/{why}"  # updated, listing, recheck, retried
DEDUP_CLAIMED = "dedup/claimed"
DEDUP_STORE_ERROR = "dedup/store_error"

# -- conditional requests (crawler/middlewares/conditional.py) --------------------------------------
CONDITIONAL_ARTICLE_PAGES = "conditional/article_pages"
CONDITIONAL_SENT = "conditional/sent"
CONDITIONAL_NOT_MODIFIED = "conditional/not_modified"
CONDITIONAL_ERRORS = "conditional/errors"

# -- the URL policy (crawler/middlewares/urlpolicy.py) ----------------------------------------------
URLPOLICY_ALLOWED = "urlpolicy/allowed"
URLPOLICY_REFUSED = "urlpolicy/refused/{why}"

# -- the throttle (crawler/middlewares/throttle.py) -------------------------------------------------
THROTTLE_REFUSED = "throttle/refused/{status}"
THROTTLE_BACKOFF = "throttle/backoff"
THROTTLE_MAX_DELAY = "throttle/max_delay"
THROTTLE_BLOCKED = "throttle/blocked"
THROTTLE_REFUSED_SECONDS = "throttle/refused_seconds"

# -- the delay middleware (crawler/middlewares/delay.py) --------------------------------------------
DELAY_COUNT = "delay/count"
DELAY_SECONDS = "delay/seconds"

# -- the network middlewares (crawler/middlewares/network.py) ---------------------------------------
NETWORK_ERRORS = "network/errors"
NETWORK_DOWN = "network/down"
NETWORK_ROBOTS_FAILED = "network/robots_failed"

# -- the pipelines (crawler/pipelines/) -------------------------------------------------------------
CLEAN_DROPPED = "clean/dropped/{reason}"
PLAN_DUPLICATE = "plan/duplicate"
PLAN_RENAMED = "plan/renamed"
PLAN_UPDATED = "plan/updated"
PLAN_DROPPED = "plan/dropped/{reason}"
THUMBNAILS_NONE = "thumbnails/none"
THUMBNAILS_REFUSED = "thumbnails/refused/{why}"
THUMBNAILS_DOWNLOADED = "thumbnails/downloaded"
THUMBNAILS_UPTODATE = "thumbnails/uptodate"
THUMBNAILS_FAILED = "thumbnails/failed/{reason}"
THUMBNAILS_BODY_DOWNLOADED = "thumbnails/body/downloaded"
THUMBNAILS_BODY_UPTODATE = "thumbnails/body/uptodate"
THUMBNAILS_BODY_FAILED = "thumbnails/body/failed/{reason}"
THUMBNAILS_DROPPED_STOPPED = "thumbnails/dropped/stopped"
WRITE_WRITTEN = "write/written"
WRITE_REWRITTEN = "write/rewritten"
WRITE_UNCHANGED = "write/unchanged"
WRITE_DROPPED = "write/dropped/{reason}"

# -- the article store (crawler/store/) -------------------------------------------------------------
STORE_BAD_OUTPUT_ROOT = "store/bad_output_root"
STORE_BAD_STORE = "store/bad_store"
STORE_UNREACHABLE = "store/unreachable"
STORE_ERRORS = "store/errors"
OUTCOMES_STATE = "outcomes/{state}"
OUTCOMES_DELETED_KEPT = "outcomes/deleted/kept"
OUTCOMES_DELETED_DRAFTED = "outcomes/deleted/drafted"
OUTCOMES_DELETED_REMOVED = "outcomes/deleted/removed"
OUTCOMES_OUTPUT_LOST = "outcomes/output_lost"
OUTCOMES_ERRORS = "outcomes/errors"

# -- distributed mode (crawler/distributed/) --------------------------------------------------------
REDIS_FED = "redis/fed"
REDIS_ACKED = "redis/acked"
REDIS_RETURNED = "redis/returned"
REDIS_LAPSED = "redis/lapsed"
REDIS_GIVEN_BACK = "redis/given_back"
REDIS_UNQUEUED = "redis/unqueued"
REDIS_ERRORS = "redis/errors"

# -- the extensions (crawler/extensions/) -----------------------------------------------------------
SITEHOOK_CHANGES = "sitehook/changes/{kind}"
SITEHOOK_NOTHING_CHANGED = "sitehook/{target}/nothing_changed"
SITEHOOK_ATTEMPTS = "sitehook/{target}/attempts"
SITEHOOK_FAILED = "sitehook/{target}/failed/{why}"
SITEHOOK_DELIVERED = "sitehook/{target}/delivered"
SITEHOOK_GAVE_UP = "sitehook/{target}/gave_up"
SITEHOOK_OWED = "sitehook/{target}/owed"
SITEHOOK_OWED_LOST = "sitehook/{target}/owed_lost"
SITEHOOK_EARLIER = "sitehook/{target}/earlier"
SITEHOOK_ERRORS = "sitehook/errors"
OUTPUT_LOST = "output/lost"
STOP_CANCELLED = "stop/cancelled"
STOP_SECONDS = "stop/seconds"

# -- the monitors (crawler/monitors/actions.py) -----------------------------------------------------
MONITORS_PASSED = "monitors/passed"
MONITORS_FAILED = "monitors/failed"
MONITORS_FAILED_ONE = "monitors/failed/{monitor}"

# -- Scrapy's and Spidermon's own names, as they write them -----------------------------------------
FINISH_REASON = "finish_reason"
ELAPSED_TIME_SECONDS = "elapsed_time_seconds"
RESPONSE_RECEIVED_COUNT = "response_received_count"
LOG_COUNT = "log_count/{level}"
DOWNLOADER_EXCEPTION_COUNT = "downloader/exception_count"
DOWNLOADER_EXCEPTION_TYPE_COUNT = "downloader/exception_type_count/{type}"
DOWNLOADER_RESPONSE_COUNT = "downloader/response_count"
DOWNLOADER_RESPONSE_STATUS_COUNT = "downloader/response_status_count/{status}"
SCHEDULER_ENQUEUED = "scheduler/enqueued"
SCHEDULER_DEQUEUED = "scheduler/dequeued"
SCHEDULER_ENQUEUED_QUEUE = "scheduler/enqueued/{queue}"  # our Redis scheduler's: queue="redis"
SCHEDULER_DEQUEUED_QUEUE = "scheduler/dequeued/{queue}"
DUPEFILTER_FILTERED = "dupefilter/filtered"
SPIDERMON_VALIDATION_ITEMS = "spidermon/validation/items"
SPIDERMON_FIELD_ERRORS = "spidermon/validation/fields/errors/{error}/{field}"


def name(template: str, **parts: object) -> str:
    """The stat name of ``template`` with its fields filled in (a KeyError names a missing one)."""
    return template.format_map(parts)


def parent(template: str) -> str:
    """A name without its last part: the base key of the names under it (``qq/feed/bad``)."""
    return template.rsplit("/", 1)[0]


def prefix(template: str, **parts: object) -> str:
    """The fixed start of a template with the given fields filled in, up to its first field left open
    (``prefix(SITEHOOK_FAILED, target="url")`` -> ``sitehook/url/failed/``)."""
    start = []
    for literal, field, _, _ in Formatter().parse(template):
        start.append(literal)
        if field is None or field not in parts:
            break
        start.append(str(parts[field]))
    return "".join(start)


def _collector(crawler: Crawler) -> StatsCollector:
    assert crawler.stats is not None
    return crawler.stats


def inc(crawler: Crawler, template: str, count: float = 1, **parts: object) -> None:
    """Count ``count`` more under the name."""
    _collector(crawler).inc_value(name(template, **parts), count)


def set_value(crawler: Crawler, template: str, value: Any, **parts: object) -> None:
    _collector(crawler).set_value(name(template, **parts), value)


def max_value(crawler: Crawler, template: str, value: Any, **parts: object) -> None:
    _collector(crawler).max_value(name(template, **parts), value)


def value(crawler: Crawler, template: str, default: Any = 0, **parts: object) -> Any:
    """The crawl's value of the name so far."""
    return _collector(crawler).get_value(name(template, **parts), default)


def under(stats: Mapping[str, Any], template: str, **parts: object) -> dict[str, Any]:
    """The values of a crawl's ``stats`` (a mapping) whose names start as ``template`` does (with the
    given fields), by the rest of their name, in the stats' order
    (``under(stats, QQ_DROPPED)`` -> ``{"too_big": 2, ...}``)."""
    start = prefix(template, **parts)
    return {key[len(start) :]: v for key, v in stats.items() if key.startswith(start)}
