"""The article store on a Redis server (``STORE_BACKEND = "redis"``), shared by crawl processes on every host.

Its keys, claims, locks and retries: docs/store.md.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import redis
from redis.backoff import ExponentialBackoff
from redis.exceptions import LockError, RedisError
from redis.retry import Retry

from scrapy.settings import BaseSettings

from crawler.store.base import EXTRA_FIELDS, Record, StoreError, StoreUnreachable, parse_time, stamp

logger = logging.getLogger(__name__)


# KEYS: claims hash; ARGV: article id, our token, owner key prefix. 1 when claimed.
CLAIM_SCRIPT = """
local owner = redis.call('HGET', KEYS[1], ARGV[1])
if owner and owner ~= ARGV[2] and redis.call('EXISTS', ARGV[3] .. owner) == 1 then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
"""


def safe_url(url: str) -> str:
    """The URL with its password (if any) replaced by ``***``, fit for logs and messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{parts.username or ''}:***@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def redis_client(url: str, *, retries: int, timeout: float = 5.0) -> redis.Redis:
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
        self, url: str, prefix: str, *, lock_wait: float, retries: int, claim_lease: float, lease: float = 120.0,
        timeout: float = 5.0,
    ) -> None:  # fmt: skip
        self.url = safe_url(url)
        self.prefix = prefix
        self.lock_wait = lock_wait
        self.lease = lease
        self.claim_lease = claim_lease
        self.client = redis_client(url, retries=retries, timeout=timeout)
        self._ids = f"{prefix}:id"
        self._fingerprints = f"{prefix}:fingerprint"
        self._paths = f"{prefix}:path"
        self._published = f"{prefix}:published"
        self._claims = f"{prefix}:claims"
        self._owners = f"{prefix}:owner:"
        self.token = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self._claim_script = self.client.register_script(CLAIM_SCRIPT)
        self._alive = False  # whether our owner key has been set
        try:
            self.client.ping()
        except RedisError as exc:
            self.client.close()
            raise StoreUnreachable(str(self._error("is unreachable", exc))) from exc

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> RedisStore:
        url = settings["STORE_REDIS_URL"] or settings["REDIS_URL"]
        if not url:
            raise StoreError("STORE_BACKEND is 'redis' but neither STORE_REDIS_URL nor REDIS_URL is set")
        return cls(
            url, prefix=settings["STORE_REDIS_PREFIX"], retries=settings.getint("REDIS_RETRIES"),
            lock_wait=settings.getfloat("STORE_LOCK_TIMEOUT"), claim_lease=settings.getfloat("STORE_REDIS_CLAIM_LEASE"),
        )  # fmt: skip

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
            extra = {name: str(data[name]) for name in EXTRA_FIELDS if name in data}
            return Record(id=article_id, path=data["path"], fingerprint=data["fingerprint"], **extra)
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
        # A fingerprint whose article has since changed content (or was deleted) no longer identifies it.
        return record if record is not None and record.written and record.fingerprint == fingerprint else None

    def path_owner(self, path: str) -> str | None:
        try:
            owner = self.client.hget(self._paths, path)
        except RedisError as exc:
            raise self._error("failed to read", exc) from exc
        return owner.decode("utf-8") if owner is not None else None

    def put(self, record: Record) -> None:
        fields = asdict(record)
        del fields["id"]
        value = json.dumps(fields, ensure_ascii=False)
        old = self.get(record.id)
        published = parse_time(record.published)
        try:
            with self.client.pipeline(transaction=True) as pipe:
                if old is not None and old.fingerprint and old.fingerprint != record.fingerprint:
                    pipe.hdel(self._fingerprints, old.fingerprint)
                if old is not None and old.path and old.path != record.path:
                    pipe.hdel(self._paths, old.path)
                pipe.hset(self._ids, record.id, value)
                if record.fingerprint:
                    pipe.hset(self._fingerprints, record.fingerprint, record.id)
                if record.path:
                    pipe.hset(self._paths, record.path, record.id)
                if record.written and published is not None:
                    pipe.zadd(self._published, {record.id: published.timestamp()})
                else:
                    pipe.zrem(self._published, record.id)
                pipe.execute()
        except RedisError as exc:
            raise self._error("failed to write", exc) from exc

    def recent(self, since: datetime, seen_before: datetime, limit: int) -> list[Record]:
        try:
            ids = [raw.decode("utf-8") for raw in self.client.zrangebyscore(self._published, since.timestamp(), "+inf")]
            raws = self.client.hmget(self._ids, ids) if ids else []
        except RedisError as exc:
            raise self._error("failed to read", exc) from exc
        records = [r for r in (self._record(i, raw) for i, raw in zip(ids, raws, strict=True)) if r is not None]
        before = stamp(seen_before)
        due = sorted((r for r in records if r.written and r.seen < before), key=lambda r: r.published, reverse=True)
        due.sort(key=lambda r: r.seen)  # stable: the longest unseen first, the newest first among equals
        return due[:limit]

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

    def keep_alive(self) -> None:
        try:
            self.client.set(self._owners + self.token, 1, px=int(self.claim_lease * 1000))
        except RedisError as exc:
            raise self._error("failed to renew this crawl's claims", exc) from exc
        self._alive = True

    def claim(self, article_id: str) -> bool:
        if not self._alive:
            self.keep_alive()
        try:
            return bool(self._claim_script(keys=[self._claims], args=[article_id, self.token, self._owners]))
        except RedisError as exc:
            raise self._error(f"failed to claim {article_id}", exc) from exc

    def release(self, article_id: str) -> None:
        try:
            if self.client.hget(self._claims, article_id) == self.token.encode():
                self.client.hdel(self._claims, article_id)
        except RedisError as exc:
            raise self._error(f"failed to release {article_id}", exc) from exc

    def close(self) -> None:
        if self._alive:
            try:
                self.client.delete(self._owners + self.token)  # our claims are dead from now on
            except RedisError as exc:
                logger.warning("Redis article store at %s: claims left to expire (%s)", self.url, exc)
        self.client.close()
