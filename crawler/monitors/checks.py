"""What the monitors measure, from a crawl's final stats (pure: tested without a crawl)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from crawler.exitcode import attempted, nothing_written, written
from crawler.stats import (
    ELAPSED_TIME_SECONDS,
    QQ_DROPPED,
    QQ_EXTRACTION,
    SPIDERMON_FIELD_ERRORS,
    SPIDERMON_VALIDATION_ITEMS,
    THROTTLE_REFUSED_SECONDS,
    name,
    under,
)

__all__ = ["attempted", "nothing_written", "written"]

# Pages dropped for reasons that mean the page no longer looks like a qq.com article page.
DRIFT_DROPS = ("no_data", "bad_json", "empty_body", "not_article")


def _n(stats: Mapping[str, Any], key: str) -> float:
    value = stats.get(key, 0)
    return value if isinstance(value, int | float) else 0


def drift(stats: Mapping[str, Any]) -> tuple[int, int]:
    """(pages that fell back from window.DATA or gave no article, article pages read)."""
    extracted = {how.rsplit("/", 1)[-1]: int(v) for how, v in under(stats, QQ_EXTRACTION).items()}
    dropped = sum(int(_n(stats, name(QQ_DROPPED, reason=reason))) for reason in DRIFT_DROPS)
    fell = extracted.get("dom", 0) + extracted.get("meta", 0) + dropped
    return fell, sum(extracted.values()) + dropped


def field_errors(stats: Mapping[str, Any], field: str) -> int:
    """Validated articles whose ``field`` broke the schema (Spidermon counts one per error kind)."""
    errors = under(stats, SPIDERMON_FIELD_ERRORS)
    return sum(int(v) for rest, v in errors.items() if rest.rsplit("/", 1)[-1] == field)


def validated(stats: Mapping[str, Any]) -> int:
    return int(_n(stats, SPIDERMON_VALIDATION_ITEMS))


def refused_share(stats: Mapping[str, Any]) -> float:
    """The share of the crawl's time its hosts spent refusing it (``throttle/refused_seconds``)."""
    elapsed = float(_n(stats, ELAPSED_TIME_SECONDS))
    return float(_n(stats, THROTTLE_REFUSED_SECONDS)) / elapsed if elapsed > 0 else 0.0


def share(part: float, whole: float) -> str:
    return f"{part / whole:.0%}" if whole else "0%"
