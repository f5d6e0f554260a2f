"""The ledger: every article the crawl was asked for or found ends in exactly one outcome.

``take_on`` counts an article the crawl takes on (``ledger/asked``); ``settle`` its one outcome
(``ledger/<outcome>[/<reason>]``). ``Ledger.of(stats)`` reads them back (pure) for the summary, the
monitors and the exit code. Docs: docs/monitoring.md ("The ledger").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem, IgnoreRequest

from crawler.stats import (
    LEDGER_ASKED,
    LEDGER_BAD_INPUTS,
    LEDGER_OUTCOME,
    LEDGER_OUTCOME_REASON,
    inc,
    set_value,
    under,
    value,
)

MAX_NAMED = 10  # inputs that were not articles named in the summary (LEDGER_BAD_INPUTS)

# The outcomes, in the order the summary prints them.
WRITTEN = "written"  # reasons: new, rewritten
UNCHANGED = "unchanged"
DELETED = "deleted"  # deleted on qq.com
SKIPPED = "skipped"  # by state or rule: written, deleted, paid, video, dropped, claimed, old, ...
DROPPED = "dropped"  # fetched, gave no file: the reason
NOT_FETCHED = "not_fetched"  # robots_txt, refused, network, ignored, store_error
BAD_INPUT = "bad_input"
OUTCOMES = (WRITTEN, UNCHANGED, DELETED, SKIPPED, DROPPED, NOT_FETCHED, BAD_INPUT)
# Reasons said in other words in the summary (the rest: the reason with spaces).
WORDS = {
    (SKIPPED, "written"): "already written",
    (SKIPPED, "written_other_layout"): "already written in another profile's layout (a fresh OUTPUT_ROOT writes them)",
    (SKIPPED, "deleted"): "deleted on qq.com earlier",
    (SKIPPED, "dropped"): "gave no article recently (DEDUP_RETRY_DROPPED)",
    (SKIPPED, "claimed"): "being fetched by another crawl",
    (SKIPPED, "requested_elsewhere"): "asked for by another crawl",
    (SKIPPED, "held_back"): "changed, held back by UPDATE_REFETCH_BUDGET",
    (NOT_FETCHED, "robots_txt"): "robots.txt disallows",
    (NOT_FETCHED, "refused"): "refused by the URL policy",
    (NOT_FETCHED, "store_error"): "the article store failed",
}


class Settled(IgnoreRequest):
    """An article request a downloader middleware ends before it is sent or parsed, with its ledger
    ``outcome`` (outcome, reason): the spider's errback settles it."""

    def __init__(self, why: str, outcome: tuple[str, str]) -> None:
        super().__init__(why)
        self.outcome = outcome


class Dropped(DropItem):
    """A pipeline's drop of an article, with the reason its ledger line names."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}", log_level="DEBUG")
        self.reason = reason


def take_on(crawler: Crawler, count: int = 1) -> None:
    """More articles the crawl is accountable for."""
    inc(crawler, LEDGER_ASKED, count)


def settle(crawler: Crawler, outcome: str, reason: str = "", count: int = 1) -> None:
    """The one outcome of an article taken on (of ``count`` of them)."""
    assert outcome in OUTCOMES, outcome
    inc(crawler, LEDGER_OUTCOME_REASON if reason else LEDGER_OUTCOME, count, outcome=outcome, reason=reason)


def bad_input(crawler: Crawler, raw: str) -> None:
    """An input that is not an article: taken on and settled at once, and named in the summary."""
    take_on(crawler)
    settle(crawler, BAD_INPUT)
    named = list(value(crawler, LEDGER_BAD_INPUTS, []))
    if len(named) < MAX_NAMED:
        set_value(crawler, LEDGER_BAD_INPUTS, [*named, raw[:200]])


@dataclass(frozen=True)
class Ledger:
    asked: int
    outcomes: dict[str, dict[str, int]]  # outcome -> reason ("" when none) -> articles
    bad_inputs: tuple[str, ...] = ()

    @classmethod
    def of(cls, stats: Mapping[str, Any]) -> Ledger:
        outcomes: dict[str, dict[str, int]] = {}
        for key, count in under(stats, LEDGER_OUTCOME).items():
            if not isinstance(count, int):
                continue
            outcome, _, reason = key.partition("/")
            if outcome in OUTCOMES:
                outcomes.setdefault(outcome, {})[reason] = count
        return cls(int(stats.get(LEDGER_ASKED, 0)), outcomes, tuple(stats.get(LEDGER_BAD_INPUTS, ())))

    def total(self, outcome: str) -> int:
        return sum(self.outcomes.get(outcome, {}).values())

    @property
    def settled(self) -> int:
        return sum(self.total(outcome) for outcome in OUTCOMES)

    @property
    def open(self) -> int:
        """Taken on without an outcome: requests still queued when the crawl closed early, or a
        path that forgot to settle (a bug the ledger monitor catches)."""
        return self.asked - self.settled

    def lines(self, closed_early: bool, distributed: bool = False) -> list[str]:
        """The summary's ledger block: one line per outcome, adding up to the articles asked for
        (in distributed mode, this crawler's part: work moves between the crawlers of one Redis)."""

        def listing(outcome: str) -> str:
            reasons = self.outcomes.get(outcome, {})
            parts = [f"{n} {WORDS.get((outcome, why), why.replace('_', ' '))}" for why, n in sorted(reasons.items()) if n and why]
            return f" ({', '.join(parts)})" if parts else ""

        lines = [f"  articles asked for: {self.asked}"]
        for outcome in OUTCOMES:
            total = self.total(outcome)
            if total:
                lines.append(f"    {outcome.replace('_', ' ')}: {total}{listing(outcome)}")
        if self.bad_inputs:
            lines.append("      not articles: " + ", ".join(repr(raw) for raw in self.bad_inputs))
        if distributed and self.open > 0:
            lines.append(f"    open here: {self.open} (queued in Redis for any crawler: settled by another, or by a later crawl)")
        elif distributed and self.open < 0:
            lines.append(f"    settled here for other crawlers: {-self.open} (taken on by another crawler of this Redis)")
        elif self.open:
            why = "the crawl closed before they were fetched" if closed_early else "no outcome recorded: a bug"
            lines.append(f"    open: {self.open} ({why})")
        return lines


class LedgerExtension:
    """Settles what the pipelines drop (``Dropped``, any ``DropItem``) or fail on (``item_error``)."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> LedgerExtension:
        extension = cls(crawler)
        crawler.signals.connect(extension.item_dropped, signal=signals.item_dropped)
        crawler.signals.connect(extension.item_error, signal=signals.item_error)
        return extension

    def item_dropped(self, item: Any, exception: BaseException) -> None:
        settle(self.crawler, DROPPED, getattr(exception, "reason", "item_dropped"))

    def item_error(self, item: Any, failure: Any) -> None:
        settle(self.crawler, DROPPED, "error")  # Scrapy logs the error with its traceback
