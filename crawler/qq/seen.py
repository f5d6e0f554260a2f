"""The articles this run has asked for already: the spider's ``seen``, kept off the Python heap.

An article listed by two channels, by a feed and the sitemap, or named twice is requested once per
run. A Python set of the ids would grow with the crawl (~100 bytes an id: ~10 MB at 100,000
articles, issue 18's memory target); ``SeenIds`` keeps them in a private temporary SQLite database
(``sqlite3.connect("")``) instead, whose page cache is bounded (SQLite's default, 2 MB) and which
spills to a temporary file of its own, deleted when it closes. About 3 µs an id.

If that database fails (no room or no write access in the temporary directory), the ids go on in
a Python set from then on, with one WARNING and the stat ``qq/seen/in_memory``; the ids recorded
before are not read back, so an article met again after that may be requested a second time (the
dedup middleware then finds it written, or the writer finds its file unchanged): nothing is lost.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable

logger = logging.getLogger(__name__)


class SeenIds:
    def __init__(self, on_fallback: Callable[[], None] | None = None) -> None:
        self._fallback: set[str] | None = None
        self._on_fallback = on_fallback
        try:
            self._db = sqlite3.connect("", isolation_level=None)
            self._db.execute("PRAGMA journal_mode=OFF")  # a private scratch table: nothing to recover
            self._db.execute("PRAGMA synchronous=OFF")
            self._db.execute("CREATE TABLE seen (id TEXT PRIMARY KEY) WITHOUT ROWID")
        except sqlite3.Error as exc:
            self._fail(exc)

    def _fail(self, exc: sqlite3.Error) -> None:
        logger.warning("The run's record of articles requested is kept in memory from now on: %s", exc)
        self._fallback = set()
        if self._on_fallback is not None:
            self._on_fallback()

    def add(self, ident: str) -> bool:
        """Record ``ident``; True when this run had not seen it before."""
        if self._fallback is None:
            try:
                return self._db.execute("INSERT OR IGNORE INTO seen VALUES (?)", (ident,)).rowcount == 1
            except sqlite3.Error as exc:
                self._fail(exc)
        assert self._fallback is not None
        if ident in self._fallback:
            return False
        self._fallback.add(ident)
        return True

    def close(self) -> None:
        if self._fallback is None:
            self._db.close()
