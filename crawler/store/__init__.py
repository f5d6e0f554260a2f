"""The article store: what was written and what is being fetched, keyed by article id.

``open_store(settings)`` returns the backend ``STORE_BACKEND`` names: ``"sqlite"`` (default, a file
in ``OUTPUT_ROOT``, for one machine, see ``sqlite.py``) or ``"redis"`` (shared by crawl processes on
many hosts, see ``redis.py``). It raises ``StoreError`` with a clear message when the store cannot be
used; rebuild a lost or corrupt SQLite store from the files on disk with
``python -m crawler.store rebuild --root OUTPUT_ROOT``. A crawl opens it once, in
``crawler.store.extension.StoreExtension``; see ``base.py`` for the contract.
"""

from __future__ import annotations

from scrapy.settings import BaseSettings

from crawler.store.base import ArticleStore, Record, StoreError, StoreUnreachable, content_fingerprint, is_written

__all__ = ["ArticleStore", "Record", "StoreError", "StoreUnreachable", "content_fingerprint", "is_written", "open_store", "store_exists"]


def store_exists(settings: BaseSettings) -> bool:
    """Whether opening the store would only read what is there (an SQLite file not yet made: no)."""
    if settings["STORE_BACKEND"] == "sqlite":
        from crawler.store.sqlite import sqlite_path

        return sqlite_path(settings).exists()
    return True


def open_store(settings: BaseSettings) -> ArticleStore:
    backend = settings["STORE_BACKEND"]
    if backend == "sqlite":
        from crawler.store.sqlite import SqliteStore

        return SqliteStore.from_settings(settings)
    if backend == "redis":
        from crawler.store.redis import RedisStore

        return RedisStore.from_settings(settings)
    raise StoreError(f"STORE_BACKEND = {backend!r} is not a store backend (use 'sqlite' or 'redis')")
