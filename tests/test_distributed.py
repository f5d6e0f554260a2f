"""Distributed mode end to end: real ``scrapy crawl qq`` processes sharing one real redis-server.

The mirror answers every article page slowly, so that two crawlers started together both get
work; the work is fed through the start-URLs list, as a scheduler would push it.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from scrapy import Request
from scrapy.settings import Settings
from scrapy.utils.test import get_crawler

from crawler import settings as project_settings
from crawler.distributed import DistributedAddon, RedisFeed
from crawler.spiders.qq import QqSpider
from tests.conftest import EXPECTED
from tests.mirror.server import Mirror, Reply
from tests.redis_server import RedisServer, free_port
from tests.test_crawl import INPUTS, WRITTEN, by_id, stat

ROOT = Path(__file__).resolve().parents[1]
FETCHED = 10  # requests made for INPUTS: 12 entries, one a second form of another, one not an article
DEQUEUED = FETCHED + 1  # and the deleted article's redirect to babygohome


class SlowMirror(Mirror):
    """The mirror, answering article pages after a pause (robots.txt and redirects at once)."""

    delay = 0.8

    def article(self, ident: str) -> Reply:
        time.sleep(self.delay)
        return super().article(ident)


@pytest.fixture(scope="module")
def slow_mirror() -> Iterator[str]:
    server, url = SlowMirror().serve()
    yield url
    server.shutdown()
    server.server_close()


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path / "redis", appendonly=True).start()
    yield server
    server.kill()


def start_crawler(mirror_url: str, output: Path, redis_url: str, *args: str) -> subprocess.Popen[str]:
    output.mkdir(parents=True, exist_ok=True)  # the crawl refuses a missing output root
    command = [
        sys.executable, "-m", "scrapy", "crawl", "qq",
        "-s", f"QQ_MIRROR_URL={mirror_url}",
        "-s", "URLPOLICY_RESOLVER=tests.resolver.resolve",  # no DNS here: the tests answer
        "-s", f"OUTPUT_ROOT={output}",
        "-s", f"REDIS_URL={redis_url}",
        "-s", "AUTOTHROTTLE_ENABLED=False",
        "-s", "DOWNLOAD_DELAY=0",
        "-s", "CONCURRENT_REQUESTS=2",
        "-s", "MAX_IDLE_TIME_BEFORE_CLOSE=1",
        "-s", "REDIS_RETRIES=1",
        *args,
    ]  # fmt: skip
    return subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env={**os.environ}
    )


def finish(process: subprocess.Popen[str], timeout: float = 120) -> str:
    try:
        _, log = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        _, log = process.communicate()
        pytest.fail(f"crawler still running after {timeout} s:\n{log[-3000:]}")
    assert process.returncode == 0, log[-3000:]
    assert "Traceback" not in log, log[-5000:]
    assert "Warning" not in log, log[-5000:]  # e.g. a deprecation warning from scrapy-redis
    return log


def finish_reason(log: str) -> str:
    return log.rsplit("'finish_reason': '", 1)[1].split("'", 1)[0]


def push(server: RedisServer, entries: list[str]) -> None:
    client = server.client()
    client.rpush("qq:start_urls", *entries)
    client.close()


def leftovers(output: Path) -> list[Path]:
    """Files that are neither articles nor their thumbnails (e.g. a temporary file left behind)."""
    images = output / "static" / "images" / "qq"
    return [p for p in output.rglob("*") if p.is_file() and p.suffix != ".md" and p.parent != images]


def test_two_crawlers_share_the_work_and_write_each_article_once(slow_mirror, redis_server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    output = tmp_path / "shared-output"  # one directory both write to, as on a shared mount
    push(redis_server, INPUTS)
    crawlers = [start_crawler(slow_mirror, output, redis_server.url) for _ in range(2)]
    logs = [finish(crawler) for crawler in crawlers]

    assert [finish_reason(log) for log in logs] == ["finished", "finished"]
    files = by_id(output)
    assert sorted(files) == sorted(WRITTEN)
    goldens = {p.stem.rsplit("-", 1)[1]: p for p in EXPECTED.glob("*.md")}
    for ident, path in files.items():
        assert path.read_bytes() == goldens[ident].read_bytes(), ident
    assert not leftovers(output)
    # Together: every request fetched once, every article written once; each did part of it.
    assert sum(stat(log, "redis/fed") for log in logs) == len(INPUTS)
    assert sum(stat(log, "scheduler/dequeued/redis") for log in logs) == DEQUEUED
    assert sum(stat(log, "qq/written") for log in logs) == len(WRITTEN)
    assert all(stat(log, "scheduler/dequeued/redis") >= 1 for log in logs), [
        stat(log, "scheduler/dequeued/redis") for log in logs
    ]
    assert sum(stat(log, "qq/rewritten") for log in logs) == 0

    # A third run given the same work fetches and writes nothing: the article store skips the five
    # written articles, the shared dupefilter the rest (the deleted, the missing, the bad pages).
    before = {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in output.rglob("*.md")}
    push(redis_server, INPUTS)
    third = finish(start_crawler(slow_mirror, output, redis_server.url))
    assert finish_reason(third) == "finished"
    assert stat(third, "redis/fed") == len(INPUTS)
    assert stat(third, "scheduler/dequeued/redis") == 0
    assert stat(third, "qq/written") == 0
    assert stat(third, "qq/dedup/skipped") == len(WRITTEN)
    assert stat(third, "dupefilter/filtered") == FETCHED - len(WRITTEN)
    assert {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in output.rglob("*.md")} == before


def test_redis_unreachable_at_start_is_a_clear_error(mirror, tmp_path) -> None:  # type: ignore[no-untyped-def]
    url = f"redis://127.0.0.1:{free_port()}/0"
    log = finish(start_crawler(mirror[1], tmp_path / "out", url, "-a", "ids=20250207A090J800"), timeout=60)
    # The writer opens the Redis article store first, or the scheduler meets Redis first: either
    # way the crawl closes at start with an error naming the URL.
    assert finish_reason(log) in ("redis_unreachable", "bad_store")
    assert re.search(rf"ERROR: .*{re.escape(url)}", log), log[-3000:]
    assert stat(log, "downloader/request_count") == 0
    assert not list((tmp_path / "out").iterdir())


def test_redis_lost_mid_crawl_stops_then_recovers_without_loss(slow_mirror, redis_server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    output = tmp_path / "out"
    push(redis_server, INPUTS)
    crawler = start_crawler(slow_mirror, output, redis_server.url, "-s", "REDIS_LOST_TIMEOUT=2", "-s", "REDIS_DUPEFILTER_TTL=3")
    deadline = time.monotonic() + 60
    while not list(output.rglob("*.md")) and time.monotonic() < deadline and crawler.poll() is None:
        time.sleep(0.05)
    redis_server.kill()
    killed = time.monotonic()
    log = finish(crawler, timeout=60)
    assert time.monotonic() - killed < 30  # REDIS_LOST_TIMEOUT, the 5 s engine tick, the retries
    assert finish_reason(log) == "redis_lost"
    assert f"Redis at {redis_server.url} unreachable for more than 2 s (REDIS_LOST_TIMEOUT): closing the crawl" in log
    written_first = stat(log, "qq/written")
    assert 1 <= written_first < len(WRITTEN)
    assert len(by_id(output)) == written_first

    # Redis back (its append-only file kept the queue, the dupefilter and the unread work). The
    # articles in flight when it went were queued (in the dupefilter) but not written: once the
    # dupefilter has expired (REDIS_DUPEFILTER_TTL) they are fetched again; the store skips the rest.
    redis_server.start()
    client = redis_server.client()
    deadline = time.monotonic() + 20
    while client.exists("qq:dupefilter") and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not client.exists("qq:dupefilter")
    push(redis_server, INPUTS)
    log = finish(start_crawler(slow_mirror, output, redis_server.url))
    assert finish_reason(log) == "finished"
    assert stat(log, "qq/dedup/skipped") >= written_first  # the store skips what was written
    assert written_first + stat(log, "qq/written") == len(WRITTEN)  # none twice
    assert sorted(by_id(output)) == sorted(WRITTEN)  # none lost
    assert stat(log, "qq/rewritten") == 0
    assert not leftovers(output)


def test_addon_switches_only_with_redis_url() -> None:
    alone = Settings()
    alone.setmodule(project_settings, priority="project")
    DistributedAddon().update_settings(alone)
    assert alone["SCHEDULER"] == "scrapy.core.scheduler.Scheduler"
    assert "crawler.distributed.RedisFeed" not in alone["EXTENSIONS"]

    shared = Settings()
    shared.setmodule(project_settings, priority="project")
    shared.set("REDIS_URL", "redis://127.0.0.1:6379/0", priority="cmdline")
    shared.set("STORE_BACKEND", "sqlite", priority="cmdline")  # an explicit choice is kept
    DistributedAddon().update_settings(shared)
    assert shared["SCHEDULER"] == "crawler.distributed.RedisScheduler"
    assert shared["DUPEFILTER_CLASS"] == "crawler.distributed.RedisDupeFilter"
    assert "crawler.distributed.RedisFeed" in shared["EXTENSIONS"]
    assert shared.getbool("SCHEDULER_PERSIST") is True
    assert shared["STORE_BACKEND"] == "sqlite"

    default = Settings({"STORE_BACKEND": "sqlite"}, priority="project")  # settings.py's default
    default.set("REDIS_URL", "redis://127.0.0.1:6379/0", priority="cmdline")
    DistributedAddon().update_settings(default)
    assert default["STORE_BACKEND"] == "redis"


def test_feed_entries_become_requests(redis_server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = {
        "REDIS_URL": redis_server.url,
        "STORE_BACKEND": "redis",
        "OUTPUT_ROOT": str(tmp_path),
        "QQ_FETCH_URL": project_settings.QQ_FETCH_URL,
        "QQ_FEED_URL": project_settings.QQ_FEED_URL,
    }
    crawler = get_crawler(QqSpider, settings)
    crawler.spider = spider = QqSpider.from_crawler(crawler)
    crawler.stats.open_spider()  # type: ignore[union-attr]
    feed = RedisFeed(crawler)
    entries = ["https://new.qq.com/rain/a/20250207A090J800", "channel:tech", "channel:no such", "junk"]
    requests = list(feed.requests(spider, entries))
    assert [r.url for r in requests] == ["https://news.qq.com/rain/a/20250207A090J800", project_settings.QQ_FEED_URL]
    assert json.loads(requests[1].body)["channel_id"] == "news_news_tech"
    assert requests[1].dont_filter  # a feed page is read again on every run
    assert crawler.stats.get_value("qq/bad_input") == 2  # type: ignore[union-attr]
    spider.closed("finished")
