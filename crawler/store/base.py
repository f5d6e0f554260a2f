"""The article store's contract (``ArticleStore``, ``Record``), shared by every backend (SQLite, Redis).

Records (an article's state, its file's path) and claims (one crawl process fetching an article at
a time). Components get the crawl's store from ``crawler.store.extension``. Docs: docs/store.md, docs/updates.md.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Protocol

from crawler.items import Block

WRITTEN, DELETED, PAID, VIDEO, DROPPED = "written", "deleted", "paid", "video", "dropped"
STATES = (WRITTEN, DELETED, PAID, VIDEO, DROPPED)


@dataclass(frozen=True)
class Record:
    """One article's state. Times are ISO 8601 strings with their offset ("" when unknown)."""

    id: str  # canonical article id
    path: str = ""  # file path relative to OUTPUT_ROOT ("" when never written)
    fingerprint: str = ""  # content_fingerprint() of the article ("" when unknown, e.g. after a rebuild)
    state: str = WRITTEN  # one of STATES
    updated: str = ""  # the source's update time the file was written from (else its fetch time)
    modified: str = ""  # the lastmod the file carries ("" while its text never changed)
    published: str = ""  # the article's publish time (stamp(): UTC)
    reason: str = ""  # why it was dropped (state "dropped")
    seen: str = ""  # when a crawl last had an answer for it (stamp(): UTC)
    # What tells a real change from a moved stamp (docs/updates.md, "The change signal"):
    listing: str = ""  # the digest of its last feed listing (title, abstract, image; crawler.qq.changes)
    announced: str = ""  # the article's own update stamp its last fetch was asked with
    quiet: str = ""  # stamp-driven fetches in a row that found its text unchanged ("" is 0)
    etag: str = ""  # its page's ETag, sent back as If-None-Match on a recheck
    last_modified: str = ""  # its page's Last-Modified, sent back as If-Modified-Since

    @property
    def quiet_count(self) -> int:
        return int(self.quiet) if self.quiet.isdigit() else 0

    @property
    def written(self) -> bool:
        return self.state == WRITTEN


# The record's fields after the first three, in the order the stores keep them.
EXTRA_FIELDS = (
    "state", "updated", "modified", "published", "reason", "seen", "listing", "announced", "quiet", "etag", "last_modified",
)  # fmt: skip


def stamp(moment: datetime) -> str:
    """``published`` and ``seen`` as records keep them: UTC, ISO 8601 to the microsecond, always
    the same length, so that they compare as strings (the stores select rechecks by string order)."""
    # Stamps of whole seconds, as records made before kept them ("...:49+00:00"), compare right with
    # these: "+" sorts before ".", so such a stamp comes before every later time."""
    return moment.astimezone(timezone.utc).isoformat(timespec="microseconds")


def now() -> str:
    """The current time as ``seen`` stores it."""
    return stamp(datetime.now(timezone.utc))


def parse_time(value: str) -> datetime | None:
    """A record's time back as a datetime (tz-aware), or None when empty or not a time."""
    try:
        parsed = datetime.fromisoformat(value) if value else None
    except ValueError:
        return None
    if parsed is not None and parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed


class StoreError(RuntimeError):
    """The store cannot be used (corrupt file, unreachable server); message says what and how to fix."""


class StoreUnreachable(StoreError):
    """The store's server does not answer (the crawl closes with ``redis_unreachable``, not ``bad_store``)."""


class ArticleStore(Protocol):
    def get(self, article_id: str) -> Record | None: ...

    def find_fingerprint(self, fingerprint: str) -> Record | None: ...

    def path_owner(self, path: str) -> str | None:
        """The id whose record holds ``path``, if any."""
        ...

    def put(self, record: Record) -> None: ...

    def recent(self, since: datetime, seen_before: datetime, limit: int) -> list[Record]:
        """At most ``limit`` written articles published at or after ``since`` and last seen before
        ``seen_before``, the longest unseen first (the ``UPDATE_WINDOW`` rechecks)."""
        ...

    def lock(self, key: str) -> AbstractContextManager[None]: ...

    def claim(self, article_id: str) -> bool:
        """Claim the article for this process; False while another live process holds it."""
        ...

    def release(self, article_id: str) -> None: ...

    def keep_alive(self) -> None:
        """Called every few seconds by the extension: keeps this process's claims alive."""
        ...

    def close(self) -> None:
        """Release every claim of this process and the connections."""
        ...


def content_fingerprint(title: str, blocks: Iterable[Block]) -> str:
    """The fingerprint of an article's content: its title and the text of its blocks, in order
    (from data, never a rendered file: the same whatever the profile, image URLs not counted)."""
    text = "\n".join(block.text for block in blocks if block.kind != "image")
    return hashlib.sha256(f"{title.strip()}\n\n{text.strip()}".encode()).hexdigest()


def changed_since_written(record: Record, announced: datetime | None, target: Path) -> bool:
    """Whether a source's update time is newer than what the article's file was written from: the
    record's ``updated``, else (a record made before update times were kept) the file's mtime."""
    if announced is None:
        return False
    written_from = parse_time(record.updated)
    if written_from is None:
        written_from = datetime.fromtimestamp(target.stat().st_mtime, timezone.utc)
    return announced > written_from


def is_written(store: ArticleStore, root: Path, article_id: str) -> bool:
    """The store has the article written and its file is on disk (a file deleted by hand is fetched again)."""
    record = store.get(article_id)
    return record is not None and record.written and bool(record.path) and (root / record.path).is_file()
