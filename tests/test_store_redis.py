"""The Redis article store against a real redis-server on a loopback port."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from scrapy.settings import Settings

from crawler import settings
from crawler.store import open_store
from crawler.store.base import Record, StoreError
from crawler.store.redis import RedisStore, safe_url
from tests.redis_server import RedisServer, free_port

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path / "redis").start()
    yield server
    server.kill()


def redis_store(url: str, **overrides: Any) -> RedisStore:
    """A Redis store with the project's settings (crawler/settings.py), some overridden."""
    values = {"prefix": settings.STORE_REDIS_PREFIX, "lock_wait": settings.STORE_LOCK_TIMEOUT,
              "retries": settings.REDIS_RETRIES, "claim_lease": settings.STORE_REDIS_CLAIM_LEASE}  # fmt: skip
    return RedisStore(url, **{**values, **overrides})


@pytest.fixture
def store(server: RedisServer) -> Iterator[RedisStore]:
    store = redis_store(server.url, prefix="test")
    yield store
    store.close()


def test_put_get_and_fingerprint(store: RedisStore) -> None:
    assert store.get("20250207A090J800") is None
    assert store.find_fingerprint("abc") is None
    record = Record("20250207A090J800", "content/posts/2025-02-07-x.md", "abc")
    store.put(record)
    assert store.get("20250207A090J800") == record
    assert store.find_fingerprint("abc") == record


def test_put_replaces_the_old_record(store: RedisStore) -> None:
    store.put(Record("A1", "content/posts/old.md", "f-old"))
    store.put(Record("A1", "content/posts/new.md", "f-new"))
    assert store.get("A1") == Record("A1", "content/posts/new.md", "f-new")
    assert store.find_fingerprint("f-new") == Record("A1", "content/posts/new.md", "f-new")
    assert store.find_fingerprint("f-old") is None


def test_records_are_shared_between_clients(server: RedisServer, store: RedisStore) -> None:
    store.put(Record("A1", "a.md", "f1"))
    other = redis_store(server.url, prefix="test")
    try:
        assert other.get("A1") == Record("A1", "a.md", "f1")
        assert redis_store(server.url, prefix="another").get("A1") is None
    finally:
        other.close()


def test_corrupt_record_is_a_store_error(server: RedisServer, store: RedisStore) -> None:
    server.client().hset("test:id", "A1", "{not json")
    with pytest.raises(StoreError, match="record 'A1' is corrupt"):
        store.get("A1")


# Each process adds 1 to a counter file 15 times, reading and writing it under the store's lock
# with a pause in between: without mutual exclusion the two processes lose each other's updates.
COUNTER = """
import sys, time
from pathlib import Path
from crawler.store.redis import RedisStore
store = RedisStore(sys.argv[1], prefix="test", lock_wait=30, retries=3, claim_lease=60)
path = Path(sys.argv[2])
for _ in range(15):
    with store.lock("counter"):
        value = int(path.read_text())
        time.sleep(0.01)
        path.write_text(str(value + 1))
store.close()
"""


def test_lock_excludes_another_process(server: RedisServer, tmp_path: Path) -> None:
    counter = tmp_path / "counter"
    counter.write_text("0")
    processes = [
        subprocess.Popen([sys.executable, "-c", COUNTER, server.url, str(counter)], cwd=ROOT) for _ in range(2)
    ]
    assert [p.wait(timeout=60) for p in processes] == [0, 0]
    assert counter.read_text() == "30"


def test_lock_wait_is_bounded(server: RedisServer, store: RedisStore) -> None:
    other = redis_store(server.url, prefix="test", lock_wait=0.3)
    try:
        with store.lock("A1"):
            started = time.monotonic()
            with pytest.raises(StoreError, match="lock 'A1' not acquired within 0.3 s"):
                with other.lock("A1"):
                    pass
            assert time.monotonic() - started < 5
            with other.lock("A2"):  # another key is free
                pass
        with other.lock("A1"):  # released
            pass
    finally:
        other.close()


def test_unreachable_server_names_the_url() -> None:
    url = f"redis://127.0.0.1:{free_port()}/0"
    with pytest.raises(StoreError, match=f"Redis article store at {url} is unreachable"):
        redis_store(url, retries=1, timeout=1)


def test_lost_server_fails_after_bounded_retries(server: RedisServer) -> None:
    store = redis_store(server.url, prefix="test", retries=2, timeout=1)
    store.put(Record("A1", "a.md", "f1"))
    server.kill()
    started = time.monotonic()
    with pytest.raises(StoreError, match=f"at {server.url} failed to read"):
        store.get("A1")
    with pytest.raises(StoreError, match=f"at {server.url} failed to (read|write)"):
        store.put(Record("A2", "b.md", "f2"))
    with pytest.raises(StoreError, match=f"at {server.url} failed to lock 'A1'"):
        with store.lock("A1"):
            pass
    assert time.monotonic() - started < 15
    store.close()


def test_reconnects_after_the_server_comes_back(tmp_path: Path) -> None:
    persistent = RedisServer(tmp_path / "aof", appendonly=True).start()
    store = redis_store(persistent.url, prefix="test", retries=1, timeout=1)
    try:
        store.put(Record("A1", "a.md", "f1"))
        persistent.kill()
        with pytest.raises(StoreError):
            store.get("A1")
        persistent.start()
        assert store.get("A1") == Record("A1", "a.md", "f1")
    finally:
        store.close()
        persistent.kill()


def test_close_drops_the_connections(server: RedisServer) -> None:
    admin = server.client()
    try:
        baseline = len(admin.client_list())
        store = redis_store(server.url, prefix="test")
        store.get("A1")
        assert len(admin.client_list()) == baseline + 1
        store.close()
        deadline = time.monotonic() + 5
        while len(admin.client_list()) > baseline and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(admin.client_list()) == baseline
    finally:
        admin.close()


def test_password_is_hidden() -> None:
    assert safe_url("redis://user:secret@host:6380/1") == "redis://user:***@host:6380/1"
    assert safe_url("redis://127.0.0.1:6379/0") == "redis://127.0.0.1:6379/0"


def test_open_store_chooses_redis(server: RedisServer) -> None:
    settings = Settings({"STORE_BACKEND": "redis", "REDIS_URL": server.url, "STORE_REDIS_PREFIX": "p"})
    store = open_store(settings)
    try:
        assert isinstance(store, RedisStore)
        store.put(Record("A1", "a.md", "f1"))
        assert server.client().hexists("p:id", "A1")
    finally:
        store.close()
    with pytest.raises(StoreError, match="neither STORE_REDIS_URL nor REDIS_URL"):
        open_store(Settings({"STORE_BACKEND": "redis"}))


def test_states_are_kept_and_old_records_read_as_written(server: RedisServer, store: RedisStore) -> None:
    from datetime import datetime, timedelta, timezone

    from crawler.store.base import stamp

    server.client().hset("test:id", "OLD", '{"path": "old.md", "fingerprint": "fo"}')  # written before states
    assert store.get("OLD") == Record("OLD", "old.md", "fo") and store.get("OLD").written
    moment = datetime(2026, 8, 12, 12, tzinfo=timezone.utc)
    full = Record("A1", "a.md", "f1", "written", "2026-08-12T18:00:00+08:00", "2026-08-12T18:00:00+08:00",
                  stamp(moment - timedelta(hours=1)), "", stamp(moment - timedelta(hours=10)))  # fmt: skip
    store.put(full)
    store.put(Record("A2", "b.md", "f2", published=stamp(moment - timedelta(hours=2))))  # never seen: first
    store.put(Record("A3", "c.md", "f3", published=stamp(moment - timedelta(hours=100))))  # out of the window
    assert store.get("A1") == full
    # A record of the version before the change evidence reads with it empty; with it, it is kept.
    server.client().hset("test:id", "MID", '{"path": "m.md", "fingerprint": "fm", "state": "written", "seen": "x"}')
    assert store.get("MID") == Record("MID", "m.md", "fm", seen="x") and store.get("MID").quiet_count == 0
    evidence = Record("A4", "d.md", "f4", listing="0123456789abcdef", announced="2026-08-12T18:00:00+08:00",
                      quiet="1", etag='W/"x"', last_modified="Wed, 12 Aug 2026 10:00:00 GMT")  # fmt: skip
    store.put(evidence)
    assert store.get("A4") == evidence
    due = store.recent(moment - timedelta(hours=48), moment - timedelta(hours=6), 5)
    assert [r.id for r in due] == ["A2", "A1"]
    store.put(Record("A2", "b.md", "f2", "deleted", published=stamp(moment - timedelta(hours=2))))
    assert [r.id for r in store.recent(moment - timedelta(hours=48), moment - timedelta(hours=6), 5)] == ["A1"]
    assert store.find_fingerprint("f2") is None  # a deleted article's content identifies no written one
    store.put(Record("NEVER", state="paid"))
    assert store.get("NEVER").state == "paid" and store.path_owner("") is None
