"""The article store: which articles were written, where, and with what content.

``open_store(settings)`` returns the backend named by ``STORE_BACKEND``: ``"sqlite"`` (the
default, a file in the output root, for one machine) or ``"redis"`` (shared by crawl processes
on many hosts). Settings: ``STORE_BACKEND``, ``STORE_SQLITE_PATH``, ``STORE_REDIS_URL`` (empty:
``REDIS_URL``), ``STORE_REDIS_PREFIX``. Raises ``StoreError`` with a clear message.
"""

from __future__ import annotations

from scrapy.settings import BaseSettings

from crawler.store.base import ArticleStore, Record, StoreError

__all__ = ["ArticleStore", "Record", "StoreError", "open_store"]


def open_store(settings: BaseSettings) -> ArticleStore:
    backend = settings.get("STORE_BACKEND", "sqlite")
    if backend == "sqlite":
        # The SQLite backend lives on branch ``dedup``; this branch carries only the Redis one.
        raise StoreError("STORE_BACKEND 'sqlite' is not available on this branch")
    elif backend == "redis":
        from crawler.store.redis import RedisStore

        url = settings.get("STORE_REDIS_URL") or settings.get("REDIS_URL")
        if not url:
            raise StoreError("STORE_BACKEND is 'redis' but neither STORE_REDIS_URL nor REDIS_URL is set")
        return RedisStore(url, prefix=settings.get("STORE_REDIS_PREFIX", "qq:articles"))
    raise StoreError(f"Unknown STORE_BACKEND {backend!r}: use 'sqlite' or 'redis'")
