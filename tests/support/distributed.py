"""Crawlers in distributed mode on one Redis, started and finished as the distributed tests do."""

from __future__ import annotations

import time
from pathlib import Path

from tests.redis_server import RedisServer
from tests.support.crawl import Crawl, Running, start

# Leases and claims short enough for a test to wait for them (the lease lapses after the claims).
SHORT_LEASES = ("-s", "REDIS_LEASE_SECONDS=4", "-s", "STORE_REDIS_CLAIM_LEASE=2", "-s", "STORE_KEEPALIVE_INTERVAL=0.5")


def start_crawler(mirror_url: str, output: Path, redis_url: str, *args: str) -> Running:
    # INPUTS holds broken pages on purpose: the template drift monitor would fail the crawlers
    # that get them (tests/test_crawl.py checks it does), and which ones do varies.
    return start(
        mirror_url, output, "-s", f"REDIS_URL={redis_url}", "-s", "CONCURRENT_REQUESTS=2",
        "-s", "MAX_IDLE_TIME_BEFORE_CLOSE=1", "-s", "REDIS_RETRIES=1", "-s", "MONITORS_DRIFT_MAX=1", *args,
    )  # fmt: skip


def finish(crawler: Running, timeout: float = 120, code: int = 0) -> Crawl:
    """The crawl's end, with exit ``code`` (crawler.exitcode: 4 when Redis is unreachable or lost; 3
    instead of 0 for the crawler that took INPUTS' entry that is not an article)."""
    result = crawler.finish(timeout)
    log = result.log
    if code == 0 and result.stats.get("ledger/bad_input"):
        code = 3
    assert result.returncode == code, log[-3000:]
    assert "Traceback" not in log, log[-5000:]
    assert "Warning" not in log, log[-5000:]  # e.g. a deprecation warning from scrapy-redis
    return result


def push(server: RedisServer, entries: list[str]) -> None:
    client = server.client()
    client.rpush("qq:start_urls", *entries)
    client.close()


def wait_for(condition, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def registered(redis: RedisServer, count: int) -> bool:
    """Whether ``count`` crawlers have registered with the Redis at ``redis`` (their schedulers opened)."""
    client = redis.client()
    try:
        return int(client.zcard("qq:crawlers")) >= count
    finally:
        client.close()
