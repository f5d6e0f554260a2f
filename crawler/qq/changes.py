"""Which update stamps of a feed answer or a sitemap say that an article changed (docs/updates.md).

Pure: takes the entries one answer gave and returns them with ``updated`` cleared where the stamp
says nothing about the article, plus a count of the odd stamps by kind, for the caller's stats.
A stamp is no signal when it is:

* ``refresh``: the answer's own, not the article's: shared by at least ``REFRESH_MIN_SHARED``
  entries and by at least half of the entries that carry a stamp, or at/after the answer's own
  timestamp (the real ``getPCList`` sample stamps every item with one time, an hour after the
  newest publish time);
* ``future``: later than now (plus ``FUTURE_SLACK``);
* ``at_publish``: equal to the article's publish time (never updated: nothing to follow).

``listing_digest()`` is the other evidence: a short digest of what a feed item shows of its
article (title, abstract, image), which the store remembers; a different digest is a change
whatever the stamps say.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from crawler.qq.feeds import Entry

REFRESH_MIN_SHARED = 2
FUTURE_SLACK = timedelta(minutes=10)
ODD_KINDS = ("refresh", "future", "at_publish")


def own_stamps(
    entries: Sequence[Entry], answered: datetime | None = None, now: datetime | None = None, *, publish_known: bool = True
) -> tuple[list[Entry], Counter[str]]:
    """``entries`` with each stamp that is no signal (see the module docstring) cleared, and how
    many of each kind were cleared. ``answered``: the answer's own timestamp, when it gives one;
    ``publish_known``: the entries' ``published`` is not their stamp itself (feeds, not sitemaps)."""
    moment = now or datetime.now(timezone.utc)
    stamped = [entry.updated for entry in entries if entry.updated is not None]
    shared = Counter(stamped)
    odd: Counter[str] = Counter()
    kept = []
    for entry in entries:
        kind = _odd(entry, shared, len(stamped), answered, moment, publish_known)
        if kind:
            odd[kind] += 1
            entry = replace(entry, updated=None)
        kept.append(entry)
    return kept, odd


def _odd(
    entry: Entry, shared: Counter[datetime], stamped: int, answered: datetime | None, now: datetime, publish_known: bool
) -> str:
    stamp = entry.updated
    if stamp is None:
        return ""
    if stamp > now + FUTURE_SLACK:
        return "future"
    if shared[stamp] >= REFRESH_MIN_SHARED and 2 * shared[stamp] >= stamped:
        return "refresh"
    if answered is not None and stamp >= answered:
        return "refresh"
    if publish_known and entry.published is not None and stamp == entry.published:
        return "at_publish"
    return ""


def answer_time(value: Any) -> datetime | None:
    """A feed answer's ``timestamp``: epoch seconds or milliseconds (number or digits); anything
    else (the real sample's ``""``) is None."""
    text = str(value).strip() if value is not None else ""
    if not text.isdigit():
        return None
    number = int(text)
    if number > 10**11:  # milliseconds
        number //= 1000
    try:
        return datetime.fromtimestamp(number, timezone.utc)
    except (OverflowError, OSError, ValueError):
        return None


def _first_image(pictures: Any) -> str:
    if not isinstance(pictures, dict):
        return ""
    for key in ("big_img", "small_img", "three_img"):
        found = pictures.get(key)
        if isinstance(found, list) and found and isinstance(found[0], str):
            return found[0].split("?", 1)[0]
    return ""


def listing_digest(item: dict[str, Any]) -> str:
    """16 hex digits over what a feed item shows of its article: title, abstract (``abstract``, else
    ``desc``) and first image; empty when it shows none of them."""
    title = str(item.get("title") or "").strip()
    abstract = str(item.get("abstract") or item.get("desc") or "").strip()
    image = _first_image(item.get("pic_info"))
    if not (title or abstract or image):
        return ""
    return hashlib.sha256(f"{title}\n{abstract}\n{image}".encode()).hexdigest()[:16]
