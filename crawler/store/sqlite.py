"""The default article store: one SQLite file in the output root, safe for parallel crawls.

WAL mode, ``flock`` locks and claims that die with their process, the schema migrated in place;
a file that is not a readable store is a ``StoreError``, never replaced. Docs: docs/store.md.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import socket
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from scrapy.settings import BaseSettings

from crawler.files import output_root
from crawler.store.base import EXTRA_FIELDS, WRITTEN, Record, StoreError, stamp

DEFAULT_NAME = ".qq-articles.sqlite3"
_BASE_COLUMNS = ["id", "path", "fingerprint"]
COLUMNS = _BASE_COLUMNS + list(EXTRA_FIELDS)
# The columns added by the migration of a store made before article states; each with its default.
_ADDED = {"state": "'written'", **{name: "''" for name in EXTRA_FIELDS[1:]}}
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS articles (id TEXT PRIMARY KEY, path TEXT NOT NULL, fingerprint TEXT NOT NULL, "
    + ", ".join(f"{name} TEXT NOT NULL DEFAULT {default}" for name, default in _ADDED.items())
    + ")",
    "CREATE TABLE IF NOT EXISTS claims (id TEXT PRIMARY KEY, owner TEXT NOT NULL)",
)
_INDEXES = (
    "CREATE INDEX IF NOT EXISTS articles_fingerprint ON articles (fingerprint)",
    "CREATE INDEX IF NOT EXISTS articles_path ON articles (path)",
    "CREATE INDEX IF NOT EXISTS articles_published ON articles (published)",
)
_SELECT = f"SELECT {', '.join(COLUMNS)} FROM articles"


def sqlite_path(settings: BaseSettings) -> Path:
    """The store file the settings name: ``STORE_SQLITE_PATH`` or the default in ``OUTPUT_ROOT``."""
    explicit = settings["STORE_SQLITE_PATH"]
    if explicit:
        return Path(explicit).expanduser()
    return output_root(settings) / DEFAULT_NAME


def rebuild_hint(path: Path, root: Path | None = None) -> str:
    root = root or path.parent
    return (
        f"move it aside and rebuild it from the Markdown files with "
        f"`python -m crawler.store rebuild --root {root}`"
        + ("" if path.name == DEFAULT_NAME else f" --path {path}")
    )


class SqliteStore:
    """``ArticleStore`` on a SQLite file."""

    # SQLite copies the WAL into the database file, and fsyncs both, inside the commit that takes the
    # WAL past its autocheckpoint size (1,000 pages): in a crawl, a stall of the reactor's thread
    # every few dozen articles (docs/BENCHMARKS.md, issue 26). Once this process writes, a thread of
    # the store checkpoints instead, on its own connection, every CHECKPOINT_INTERVAL seconds
    # (PASSIVE: it never waits for nor blocks a writer or a reader); SQLite's own stays as a
    # backstop at CHECKPOINT_BACKSTOP pages.
    CHECKPOINT_INTERVAL = 1.0
    CHECKPOINT_BACKSTOP = 10_000

    def __init__(self, path: Path, lock_timeout: float, root: Path | None = None) -> None:
        self.path = path
        self.root = root
        self.lock_timeout = lock_timeout
        self.locks = path.with_name(path.name + ".locks")
        self.token = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self._owner: int | None = None  # fd of our owner file, flocked while the store is open
        self._checkpoints: threading.Thread | None = None
        self._closing = threading.Event()
        if not path.parent.is_dir():
            raise StoreError(f"cannot open the article store {path}: {path.parent} is not a directory")
        try:
            self.locks.mkdir(exist_ok=True)
            self._db = sqlite3.connect(path, timeout=lock_timeout, isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"cannot open the article store {path}: {exc}") from exc
        try:
            self._prepare(time.monotonic() + lock_timeout)
        except sqlite3.DatabaseError as exc:
            self._db.close()
            raise StoreError(
                f"the article store {path} is corrupt or unreadable ({exc}); {rebuild_hint(path, root)}"
            ) from exc

    def _prepare(self, deadline: float) -> None:
        """WAL, the integrity check, the schema and its migration. Two crawls opening a new file at
        the same moment can meet SQLite's deadlock avoidance, which answers "database is locked" at
        once instead of waiting its busy timeout: tried again until ``deadline``."""
        while True:
            try:
                self._db.execute("PRAGMA journal_mode=WAL")
                # Safe against a killed process; a power cut may lose the last records, which only
                # leaves files without records, and the writer rewrites those in place.
                self._db.execute("PRAGMA synchronous=NORMAL")
                result = self._db.execute("PRAGMA quick_check").fetchone()
                if result is None or result[0] != "ok":
                    raise sqlite3.DatabaseError(f"integrity check failed: {result}")
                for statement in _SCHEMA:
                    self._db.execute(statement)
                self._migrate()
                for statement in _INDEXES:
                    self._db.execute(statement)
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def _columns(self) -> list[str]:
        return [row[1] for row in self._db.execute("PRAGMA table_info(articles)")]

    def _migrate(self) -> None:
        """Add the columns a store made by an earlier version lacks (one transaction: another crawl
        opening the same file at the same moment waits, then finds them added)."""
        if self._columns() == COLUMNS:
            return
        self._db.execute("BEGIN IMMEDIATE")
        try:
            columns = self._columns()
            # Every earlier version's columns are a start of today's (fields are only ever appended).
            if len(columns) < len(_BASE_COLUMNS) or columns != COLUMNS[: len(columns)]:
                raise sqlite3.DatabaseError(f"unexpected articles table columns {columns}")
            for name in COLUMNS[len(columns) :]:
                self._db.execute(f"ALTER TABLE articles ADD COLUMN {name} TEXT NOT NULL DEFAULT {_ADDED[name]}")
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise

    def _writing(self) -> None:
        """Before each write: the checkpoint thread started on the first."""
        if self._checkpoints is None:
            self._db.execute(f"PRAGMA wal_autocheckpoint={self.CHECKPOINT_BACKSTOP}")
            self._checkpoints = threading.Thread(target=self._checkpoint, name="store-checkpoint", daemon=True)
            self._checkpoints.start()

    def _checkpoint(self) -> None:
        """The checkpoint thread, until the store closes; should it fail, the backstop checkpoints."""
        try:
            db = sqlite3.connect(self.path, timeout=self.lock_timeout, isolation_level=None)
        except sqlite3.Error:
            return
        try:
            while not self._closing.wait(self.CHECKPOINT_INTERVAL):
                db.execute("PRAGMA wal_checkpoint(PASSIVE)")
        except sqlite3.Error:
            pass
        finally:
            db.close()

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> SqliteStore:
        root = output_root(settings)
        return cls(sqlite_path(settings), settings.getfloat("STORE_LOCK_TIMEOUT"), root)

    def _select(self, where: str, args: tuple[str | int, ...]) -> list[Record]:
        try:
            rows = self._db.execute(f"{_SELECT} {where}", args).fetchall()
        except sqlite3.DatabaseError as exc:
            hint = rebuild_hint(self.path, self.root)
            raise StoreError(f"reading the article store {self.path} failed ({exc}); {hint}") from exc
        return [Record(*row) for row in rows]

    def _query(self, where: str, args: tuple[str, ...]) -> Record | None:
        found = self._select(where + " LIMIT 1", args)
        return found[0] if found else None

    def get(self, article_id: str) -> Record | None:
        return self._query("WHERE id = ?", (article_id,))

    def find_fingerprint(self, fingerprint: str) -> Record | None:
        return self._query("WHERE fingerprint = ? AND state = ? ORDER BY id", (fingerprint, WRITTEN))

    def path_owner(self, path: str) -> str | None:
        record = self._query("WHERE path = ? AND path != ''", (path,))
        return record.id if record else None

    def put(self, record: Record) -> None:
        values = [getattr(record, name) for name in COLUMNS]
        updates = ", ".join(f"{name} = excluded.{name}" for name in COLUMNS[1:])
        try:
            self._writing()
            self._db.execute(
                f"INSERT INTO articles ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))}) "
                f"ON CONFLICT (id) DO UPDATE SET {updates}",
                values,
            )
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"writing the article store {self.path} failed ({exc})") from exc

    def recent(self, since: datetime, seen_before: datetime, limit: int) -> list[Record]:
        return self._select(
            "WHERE state = ? AND published >= ? AND seen < ? ORDER BY seen, published DESC LIMIT ?",
            (WRITTEN, stamp(since), stamp(seen_before), limit),
        )

    def records(self) -> Iterator[Record]:
        """Every record, by id (for the rebuild command and checks)."""
        yield from self._select("ORDER BY id", ())

    @contextmanager
    def lock(self, key: str) -> Iterator[None]:
        name = hashlib.sha256(key.encode()).hexdigest()[:32]
        handle = os.open(self.locks / name, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            deadline = time.monotonic() + self.lock_timeout
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise StoreError(
                            f"lock {key!r} of the article store {self.path} is held by another crawl "
                            f"for more than {self.lock_timeout:g}s (STORE_LOCK_TIMEOUT)"
                        ) from None
                    time.sleep(0.01)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
        finally:
            os.close(handle)

    # -- claims -----------------------------------------------------------------------------------

    def _owner_file(self, token: str) -> Path:
        return self.locks / f"owner-{token}"

    def _alive(self, token: str) -> bool:
        """Whether the process that holds ``token`` still runs (its owner file is locked)."""
        try:
            handle = os.open(self._owner_file(token), os.O_RDWR)
        except FileNotFoundError:
            return False
        try:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        finally:
            os.close(handle)
        self._owner_file(token).unlink(missing_ok=True)  # a dead process's leftover
        return False

    def claim(self, article_id: str) -> bool:
        if self._owner is None:
            self._owner = os.open(self._owner_file(self.token), os.O_RDWR | os.O_CREAT, 0o644)
            fcntl.flock(self._owner, fcntl.LOCK_EX)
        try:
            self._writing()
            # The common case in one statement (each is a release of the GIL): nobody holds the id.
            # Else the transaction below reads who does.
            if self._db.execute(
                "INSERT INTO claims (id, owner) VALUES (?, ?) ON CONFLICT (id) DO NOTHING", (article_id, self.token)
            ).rowcount:
                return True
            self._db.execute("BEGIN IMMEDIATE")
            try:
                row = self._db.execute("SELECT owner FROM claims WHERE id = ?", (article_id,)).fetchone()
                if row is not None and row[0] != self.token and self._alive(row[0]):
                    return False
                self._db.execute("INSERT OR REPLACE INTO claims (id, owner) VALUES (?, ?)", (article_id, self.token))
                return True
            finally:
                self._db.execute("COMMIT")
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"claiming {article_id} in the article store {self.path} failed ({exc})") from exc

    def release(self, article_id: str) -> None:
        try:
            self._db.execute("DELETE FROM claims WHERE id = ? AND owner = ?", (article_id, self.token))
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"releasing {article_id} in the article store {self.path} failed ({exc})") from exc

    def keep_alive(self) -> None:
        """Nothing to do: the owner file's lock lives as long as the process."""

    def close(self) -> None:
        self._closing.set()
        if self._checkpoints is not None:
            self._checkpoints.join()
            self._checkpoints = None
        if self._owner is not None:
            try:
                self._db.execute("DELETE FROM claims WHERE owner = ?", (self.token,))
            except sqlite3.DatabaseError:
                pass  # the claims die with the owner file's lock anyway
            try:
                self._owner_file(self.token).unlink(missing_ok=True)
            except OSError:
                pass  # a read-only or vanished output root: the lock dies with the process anyway
            os.close(self._owner)
            self._owner = None
        self._db.close()
