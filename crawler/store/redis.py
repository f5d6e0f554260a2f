"""The article store on a Redis server (``STORE_BACKEND = "redis"``), shared by crawl processes.

Every crawl process on every host that points at the same Redis (``STORE_REDIS_URL``, or
``REDIS_URL`` when empty) sees the same records and the same locks, so an article is written once
across all of them. Keys, under ``STORE_REDIS_PREFIX`` (default ``qq:articles``):

* ``<prefix>:id``: hash, article id -> JSON ``{"path": ..., "fingerprint": ...}``;
* ``<prefix>:fingerprint``: hash, fingerprint -> article id;
* ``<prefix>:lock:<key>``: redis-py's ``Lock`` (a token with a lease, so a crashed holder's lock
  expires after ``lease`` seconds instead of blocking everyone forever).

The client retries a lost connection a bounded number of times with exponential backoff
(redis-py's ``Retry``); then every operation raises ``StoreError`` naming the server's URL
(password hidden). Records live as long as Redis keeps its data: run it with persistence
(``appendonly yes``) when the store matters.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import redis
from redis.backoff import ExponentialBackoff
from redis.exceptions import LockError, RedisError
from redis.retry import Retry

from crawler.store.base import Record, StoreError

logger = logging.getLogger(__name__)

DEFAULT_PREFIX = "qq:articles"


def safe_url(url: str) -> str:
    """The URL with its password (if any) replaced by ``***``, fit for logs and messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{parts.username or ''}:***@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def redis_client(url: str, *, retries: int = 3, timeout: float = 5.0) -> redis.Redis:
    """A client for ``url`` that retries a lost connection ``retries`` times (0.1 s, 0.2 s, ... at
    most 2 s apart) and gives up on a socket after ``timeout`` seconds, so every call is bounded."""
    try:
        return redis.Redis.from_url(
            url,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            retry=Retry(ExponentialBackoff(cap=2.0, base=0.1), retries),
            retry_on_timeout=True,
        )
    except ValueError as exc:
        raise StoreError(f"Bad Redis URL {safe_url(url)!r}: {exc}") from exc


class RedisStore:
    """``ArticleStore`` on Redis. ``lock()`` waits at most ``lock_wait`` seconds (then
    ``StoreError``); a lock's holder keeps it at most ``lease`` seconds."""

    def __init__(
        self, url: str, prefix: str = DEFAULT_PREFIX, *, lock_wait: float = 30.0, lease: float = 120.0,
        retries: int = 3, timeout: float = 5.0,
    ) -> None:  # fmt: skip
        self.url = safe_url(url)
        self.prefix = prefix
        self.lock_wait = lock_wait
        self.lease = lease
        self.client = redis_client(url, retries=retries, timeout=timeout)
        self._ids = f"{prefix}:id"
        self._fingerprints = f"{prefix}:fingerprint"
        try:
            self.client.ping()
        except RedisError as exc:
            self.client.close()
            raise self._error("is unreachable", exc) from exc

    def _error(self, what: str, exc: Exception) -> StoreError:
        return StoreError(
            f"Redis article store at {self.url} {what} ({exc}); "
            "check that redis-server is running there, or fix STORE_REDIS_URL / REDIS_URL"
        )

    def _record(self, article_id: str, raw: Any) -> Record | None:
        if raw is None:
            return None
        try:
            data = json.loads(raw)
            return Record(id=article_id, path=data["path"], fingerprint=data["fingerprint"])
        except (ValueError, KeyError, TypeError) as exc:
            raise StoreError(f"Redis article store at {self.url}: record {article_id!r} is corrupt ({exc})") from exc

    def get(self, article_id: str) -> Record | None:
        try:
            raw = self.client.hget(self._ids, article_id)
        except RedisError as exc:
            raise self._error("failed to read", exc) from exc
        return self._record(article_id, raw)

    def find_fingerprint(self, fingerprint: str) -> Record | None:
        try:
            owner = self.client.hget(self._fingerprints, fingerprint)
        except RedisError as exc:
            raise self._error("failed to read", exc) from exc
        if owner is None:
            return None
        record = self.get(owner.decode("utf-8"))
        # A fingerprint whose article has since changed content no longer identifies it.
        return record if record is not None and record.fingerprint == fingerprint else None

    def put(self, record: Record) -> None:
        value = json.dumps({"path": record.path, "fingerprint": record.fingerprint}, ensure_ascii=False)
        old = self.get(record.id)
        try:
            with self.client.pipeline(transaction=True) as pipe:
                if old is not None and old.fingerprint != record.fingerprint:
                    pipe.hdel(self._fingerprints, old.fingerprint)
                pipe.hset(self._ids, record.id, value)
                pipe.hset(self._fingerprints, record.fingerprint, record.id)
                pipe.execute()
        except RedisError as exc:
            raise self._error("failed to write", exc) from exc

    @contextmanager
    def lock(self, key: str) -> Iterator[None]:
        lock = self.client.lock(f"{self.prefix}:lock:{key}", timeout=self.lease, blocking_timeout=self.lock_wait)
        try:
            acquired = lock.acquire()
        except RedisError as exc:
            raise self._error(f"failed to lock {key!r}", exc) from exc
        if not acquired:
            raise StoreError(
                f"Redis article store at {self.url}: lock {key!r} not acquired within {self.lock_wait:g} s "
                f"(another crawl process holds it; a dead holder's lock expires after {self.lease:g} s)"
            )
        try:
            yield
        finally:
            try:
                lock.release()
            except LockError:
                # The lease ran out while we held it: another process may have entered meanwhile.
                logger.warning("Lock %r on Redis store %s expired before release (lease %s s)", key, self.url, self.lease)
            except RedisError as exc:
                raise self._error(f"failed to unlock {key!r}", exc) from exc

    def close(self) -> None:
        self.client.close()
