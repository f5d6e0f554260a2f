"""The article store's contract, shared by every backend (SQLite, Redis).

The store is the one answer to "have we got this article already?". Keyed by the canonical
article id, it remembers:

* a **record** per article: the file path (relative to ``OUTPUT_ROOT``) and a fingerprint of the
  content (title and block text). The record is put when the article's paths are planned, before
  any file is written (``crawler.pipelines.plan``), so the path is reserved against other articles
  and other crawls; the article counts as *written* once its file is on disk too (``is_written``).
* a **claim** per article being fetched: ``claim(id)`` succeeds for one crawl process at a time; a
  claim dies with its process (SQLite: a ``flock`` the kernel drops when the process dies; Redis:
  a heartbeat key that expires), so a killed crawl never locks an article out.

Components never open a store themselves: ``crawler.store.extension.StoreExtension`` opens it once
per crawl and hands it out.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from crawler.items import Block


@dataclass(frozen=True)
class Record:
    id: str  # canonical article id
    path: str  # file path relative to OUTPUT_ROOT
    fingerprint: str  # content_fingerprint() of the article ("" when unknown, e.g. after a rebuild)


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
    """The fingerprint of an article's content: its title and the text of its blocks, in order.

    Computed from data, never from a rendered file: two ids with the same title and text get the
    same fingerprint whatever the output profile, and image URLs or the link back do not count.
    """
    text = "\n".join(block.text for block in blocks if block.kind != "image")
    return hashlib.sha256(f"{title.strip()}\n\n{text.strip()}".encode()).hexdigest()


def is_written(store: ArticleStore, root: Path, article_id: str) -> bool:
    """The store has the article and its file is on disk (a file deleted by hand is fetched again)."""
    record = store.get(article_id)
    return record is not None and (root / record.path).is_file()
