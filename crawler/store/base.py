"""The article store's contract, shared by every backend (see ``crawler/store/__init__.py``).

A store remembers, for every article written, its canonical id, the file it was written to and
the fingerprint of its content, so that a later crawl (or another crawl process) never writes the
same article, or the same content under another id, a second time.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Record:
    id: str  # canonical article id
    path: str  # file path relative to OUTPUT_ROOT
    fingerprint: str  # hex digest of the content that identifies an article (title + body text)


class StoreError(RuntimeError):
    """The store cannot be used (corrupt file, unreachable server); message says what and how to fix."""


class ArticleStore(Protocol):
    def get(self, article_id: str) -> Record | None: ...

    def find_fingerprint(self, fingerprint: str) -> Record | None: ...

    def put(self, record: Record) -> None: ...  # upsert by id; replaces the old record

    def lock(self, key: str) -> AbstractContextManager[None]:
        """Cross-process mutual exclusion (blocking, with a bounded wait) around "check the store ->
        write the file -> put the record", so two crawl processes never write the same article
        (or the same content) twice."""
        ...

    def close(self) -> None: ...
