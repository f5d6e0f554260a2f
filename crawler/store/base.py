"""The article store's contract, shared by every backend (SQLite, Redis).

The store remembers what was written, keyed by the canonical article id: the file path (relative
to ``OUTPUT_ROOT``) and a fingerprint of the content (title and body text). The dedup middleware
reads it to skip articles already written; the writer checks and updates it under ``lock()`` so
that two crawl processes never write the same article, or the same content, twice.
"""

from __future__ import annotations

import hashlib
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

    def put(self, record: Record) -> None: ...

    def lock(self, key: str) -> AbstractContextManager[None]: ...

    def close(self) -> None: ...


def content_fingerprint(title: str, body: str) -> str:
    """The fingerprint of an article's content: its title and rendered body, without the link back.

    Computed from the Markdown the writer renders (and the rebuild reads back from disk), so that
    two ids with the same title and text get the same fingerprint and a rebuilt store matches.
    """
    lines = body.strip().split("\n")
    # The body ends with the link back, which names the id: not part of the content.
    text = "\n".join(lines[:-1]).strip()
    return hashlib.sha256(f"{title.strip()}\n\n{text}".encode()).hexdigest()


def split_markdown(text: str) -> tuple[str, str]:
    """A written file's YAML front matter and body (the ``---`` fences ``render_article`` writes)."""
    if not text.startswith("---\n") or "\n---\n" not in text[3:]:
        raise ValueError("no front matter")
    front, body = text[4:].split("\n---\n", 1)
    return front, body
