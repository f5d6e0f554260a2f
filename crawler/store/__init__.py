"""The article store: what was written, keyed by article id (see ``base.py`` for the contract).

``open_store(settings)`` returns the backend ``STORE_BACKEND`` names: ``"sqlite"`` (default, a file
in ``OUTPUT_ROOT``, for one machine, see ``sqlite.py``) or ``"redis"`` (shared by crawl processes on
many hosts, see ``redis.py``; ``STORE_REDIS_URL``, empty: ``REDIS_URL``, and ``STORE_REDIS_PREFIX``).
It raises ``StoreError`` with a clear message when the store cannot be used; rebuild a lost or
corrupt SQLite store from the files on disk with ``python -m crawler.store rebuild --root OUTPUT_ROOT``.
``is_written(store, root, id)`` is the one answer to "is this article written?" that the dedup
middleware and the spider's feed paging share.
"""

from __future__ import annotations

from pathlib import Path

from scrapy.settings import BaseSettings

from crawler.store.base import ArticleStore, Record, StoreError, content_fingerprint

__all__ = ["ArticleStore", "Record", "StoreError", "content_fingerprint", "is_written", "open_store"]


def open_store(settings: BaseSettings) -> ArticleStore:
    backend = settings.get("STORE_BACKEND", "sqlite")
    if backend == "sqlite":
        from crawler.store.sqlite import SqliteStore

        return SqliteStore.from_settings(settings)
    if backend == "redis":
        from crawler.store.redis import RedisStore

        url = settings.get("STORE_REDIS_URL") or settings.get("REDIS_URL")
        if not url:
            raise StoreError("STORE_BACKEND is 'redis' but neither STORE_REDIS_URL nor REDIS_URL is set")
        return RedisStore(url, prefix=settings.get("STORE_REDIS_PREFIX", "qq:articles"))
    raise StoreError(f"STORE_BACKEND = {backend!r} is not a store backend (use 'sqlite' or 'redis')")


def is_written(store: ArticleStore, root: Path, article_id: str) -> bool:
    """The store has the article and its file is still on disk (one deleted by hand is fetched again)."""
    record = store.get(article_id)
    return record is not None and (root / record.path).is_file()
