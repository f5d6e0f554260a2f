"""The bound on feed-driven refetches: at most ``UPDATE_REFETCH_BUDGET`` articles a run fetched again
because a feed or sitemap says they changed, the least recently seen first.

Pure: ``Refetches`` keeps the best ``budget`` candidates offered (a bounded heap: memory does not
grow with a source that claims everything changed) and counts the rest as held back. The spider
offers candidates while it reads its sources and takes them when the crawl is idle (every source
read), so the order is over the whole run, not the order pages arrive in.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass
class _Latest(Generic[T]):
    """Heap slot ordered so that the heap's top is the *most* recently seen candidate kept."""

    rank: tuple[str, int]  # (seen, offer order), negated by __lt__ below
    value: T

    def __lt__(self, other: _Latest[T]) -> bool:  # type: ignore[override]
        return self.rank > other.rank


class Refetches(Generic[T]):
    def __init__(self, budget: int) -> None:
        self.budget = max(0, budget)
        self.taken = 0  # handed out this run
        self.held = 0  # offered but over the budget
        self._heap: list[_Latest[T]] = []
        self._offers = 0

    def __len__(self) -> int:
        return len(self._heap)

    def offer(self, value: T, seen: str) -> None:
        """A candidate last seen at ``seen`` (ISO, UTC; "" = never, first of all)."""
        room = self.budget - self.taken
        slot = _Latest((seen, self._offers), value)
        self._offers += 1
        if room <= 0:
            self.held += 1
        elif len(self._heap) < room:
            heapq.heappush(self._heap, slot)
        elif slot.rank < self._heap[0].rank:
            heapq.heapreplace(self._heap, slot)
            self.held += 1
        else:
            self.held += 1

    def take(self) -> list[T]:
        """The candidates kept, least recently seen first (then in the order offered)."""
        kept = [slot.value for slot in sorted(self._heap, key=lambda slot: slot.rank)]
        self._heap.clear()
        self.taken += len(kept)
        return kept
