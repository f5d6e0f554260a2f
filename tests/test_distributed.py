"""Distributed mode end to end: real ``scrapy crawl qq`` processes sharing one real redis-server.

The mirror answers every article page slowly, so that two crawlers started together both get
work; the work is fed through the start-URLs list, as a scheduler would push it.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from scrapy.exceptions import CloseSpider
from scrapy.settings import Settings

from crawler import settings as project_settings
from crawler.distributed import DistributedAddon
from crawler.distributed.feed import RedisFeed, WorkSpider
from crawler.spiders.qq import QqSpider
from tests.conftest import EXPECTED
from tests.mirror.server import Mirror, Reply
from tests.redis_server import free_port
from tests.support.components import project_crawler
from tests.support.corpus import INPUTS, WRITTEN
from tests.support.crawl import by_id, stat
from tests.support.distributed import SHORT_LEASES, finish, push, registered, start_crawler, wait_for
from tests.support.hooks import Receiver, hook, on_disk

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


def leftovers(output: Path) -> list[Path]:
    """Files that are neither articles nor their thumbnails nor crawl reports (e.g. a temporary file left behind)."""
    images = output / "static" / "images" / "qq"
    reports = output / ".crawl-reports"
    return [p for p in output.rglob("*") if p.is_file() and p.suffix != ".md" and p.parent not in (images, reports)]


def test_two_crawlers_share_the_work_and_write_each_article_once(slow_mirror, redis_server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    output = tmp_path / "shared-output"  # one directory both write to, as on a shared mount
    receiver = Receiver()  # the site's build hook: each crawler tells it what it changed
    try:
        # The work is pushed once both crawlers are up: one slow to start (a loaded machine) would
        # otherwise find it all done by the other.
        crawlers = [start_crawler(slow_mirror, output, redis_server.url, *hook(receiver.url), "-s", "MAX_IDLE_TIME_BEFORE_CLOSE=5")
                    for _ in range(2)]  # fmt: skip
        wait_for(lambda: registered(redis_server, 2), 60, "both crawlers to start")
        time.sleep(1)  # registered when their schedulers open: their engines start next
        push(redis_server, INPUTS)
        logs = [finish(crawler) for crawler in crawlers]  # each one's result
    finally:
        receiver.close()

    assert [stat(log, "finish_reason") for log in logs] == ["finished", "finished"]
    files = by_id(output)
    assert sorted(files) == sorted(WRITTEN)
    goldens = {p.stem.rsplit("-", 1)[1]: p for p in EXPECTED.glob("*.md")}
    for ident, path in files.items():
        assert path.read_bytes() == goldens[ident].read_bytes(), ident
    assert not leftovers(output)
    # Together: every request fetched once, every article written once; each did part of it.
    assert sum(stat(log, "redis/fed") for log in logs) == len(INPUTS)
    assert sum(log.stats.get("ledger/bad_input", 0) for log in logs) == 1  # "not-an-article", by one of them
    assert not any("a bug" in log.log for log in logs)  # each summary's ledger is its part of the work
    assert sum(stat(log, "scheduler/dequeued/redis") for log in logs) == DEQUEUED
    assert sum(stat(log, "write/written") for log in logs) == len(WRITTEN)
    assert all(stat(log, "scheduler/dequeued/redis") >= 1 for log in logs), [
        stat(log, "scheduler/dequeued/redis") for log in logs
    ]
    assert not any("write/rewritten" in log.stats for log in logs)
    # The site was told of every file written, once, by the crawler that wrote it.
    documents = receiver.documents()
    told = sorted((entry["id"], entry["path"]) for document in documents for entry in document["new"])
    assert told == sorted(on_disk(output).items())
    assert len(documents) == sum(1 for log in logs if log.stats.get("write/written"))
    assert len({document["job"] for document in documents}) == len(documents)  # one call per crawler
    assert all(document["finish_reason"] == "finished" for document in documents)

    # Nothing left in Redis but what was written: no request queued, no lease, no fingerprint.
    client = redis_server.client()
    assert client.zcard("qq:requests") == 0 and client.llen("qq:start_urls") == 0
    assert client.scard("qq:dupefilter") == 0
    assert client.keys("qq:leased:*") == []
    assert sum(stat(log, "redis/acked") for log in logs) == DEQUEUED

    # A third run given the same work writes nothing: the requests are queued again (the dupefilter
    # forgets a request once it is done) and the article store says what is written.
    before = {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in output.rglob("*.md")}
    push(redis_server, INPUTS)
    third = finish(start_crawler(slow_mirror, output, redis_server.url))
    assert stat(third, "finish_reason") == "finished"
    assert stat(third, "redis/fed") == len(INPUTS)
    assert stat(third, "dedup/skipped/written") == len(WRITTEN)  # the rest: deleted or dropped, also skipped
    assert "write/written" not in third.stats
    assert {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in output.rglob("*.md")} == before


def test_redis_unreachable_at_start_is_a_clear_error(mirror, tmp_path) -> None:  # type: ignore[no-untyped-def]
    url = f"redis://127.0.0.1:{free_port()}/0"
    log = finish(start_crawler(mirror[1], tmp_path / "out", url, "-a", "ids=20250207A090J800"), timeout=60, code=4)
    # The scheduler meets Redis first, or the article store does: either way the crawl closes at
    # start as redis_unreachable with one error naming the URL.
    assert stat(log, "finish_reason") == "redis_unreachable"
    assert len(re.findall(r" ERROR: ", log.log)) == 1, log.log[-3000:]
    assert re.search(rf"ERROR: .*{re.escape(url)}", log.log), log.log[-3000:]
    assert "downloader/request_count" not in log.stats
    assert not list((tmp_path / "out").iterdir())


def test_redis_lost_mid_crawl_stops_then_recovers_without_loss(slow_mirror, redis_server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    output = tmp_path / "out"
    push(redis_server, INPUTS)
    crawler = start_crawler(
        slow_mirror, output, redis_server.url, "-s", "REDIS_LOST_TIMEOUT=2", *SHORT_LEASES,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while not list(output.rglob("*.md")) and time.monotonic() < deadline and crawler.process.poll() is None:
        time.sleep(0.05)
    redis_server.kill()
    killed = time.monotonic()
    log = finish(crawler, timeout=60, code=4)
    assert time.monotonic() - killed < 30  # REDIS_LOST_TIMEOUT, the 5 s engine tick, the retries
    assert stat(log, "finish_reason") == "redis_lost"
    assert f"Redis at {redis_server.url} unreachable for more than 2 s (REDIS_LOST_TIMEOUT): closing the crawl" in log.log
    written_first = stat(log, "write/written")
    assert 1 <= written_first < len(WRITTEN)
    assert len(by_id(output)) == written_first

    # Redis back (its append-only file kept the queue, the dupefilter, the unread work and the
    # dead crawler's leases): the leases lapse (REDIS_LEASE_SECONDS) and return to the queue, the
    # dead crawler's claims lapse before them; the new crawler does what is left, the store skips
    # the rest. The same work pushed again is queued once (the dupefilter knows what is queued).
    redis_server.start()
    push(redis_server, INPUTS)
    log = finish(start_crawler(slow_mirror, output, redis_server.url, *SHORT_LEASES))
    assert stat(log, "finish_reason") == "finished"
    assert stat(log, "dedup/skipped") >= written_first  # the store skips what was written
    assert written_first + stat(log, "write/written") == len(WRITTEN)  # none twice
    assert sorted(by_id(output)) == sorted(WRITTEN)  # none lost
    assert "write/rewritten" not in log.stats
    assert not leftovers(output)


def test_addon_switches_only_with_redis_url() -> None:
    alone = Settings()
    alone.setmodule(project_settings, priority="project")
    DistributedAddon().update_settings(alone)
    assert alone["SCHEDULER"] == "scrapy.core.scheduler.Scheduler"
    assert "crawler.distributed.feed.RedisFeed" not in alone["EXTENSIONS"]

    shared = Settings()
    shared.setmodule(project_settings, priority="project")
    shared.set("REDIS_URL", "redis://127.0.0.1:6379/0", priority="cmdline")
    shared.set("STORE_BACKEND", "sqlite", priority="cmdline")  # an explicit choice is kept
    DistributedAddon().update_settings(shared)
    assert shared["SCHEDULER"] == "crawler.distributed.scheduler.RedisScheduler"
    assert shared["DUPEFILTER_CLASS"] == "crawler.distributed.scheduler.RedisDupeFilter"
    assert "crawler.distributed.feed.RedisFeed" in shared["EXTENSIONS"]
    assert shared.getbool("SCHEDULER_PERSIST") is True
    assert shared["STORE_BACKEND"] == "sqlite"

    default = Settings({"STORE_BACKEND": "sqlite"}, priority="project")  # settings.py's default
    default.set("REDIS_URL", "redis://127.0.0.1:6379/0", priority="cmdline")
    DistributedAddon().update_settings(default)
    assert default["STORE_BACKEND"] == "redis"


def test_feed_entries_become_requests(redis_server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    crawler = project_crawler(tmp_path, QqSpider, REDIS_URL=redis_server.url, STORE_BACKEND="redis")
    crawler.spider = spider = QqSpider.from_crawler(crawler)
    feed = RedisFeed(crawler)
    entries = ["https://new.qq.com/rain/a/20250207A090J800", "channel:tech", "channel:no such", "junk"]
    requests = list(feed.requests(spider, entries))
    # An article URL is fetched as given (crawler.qq.ids.article_input), under its canonical id.
    assert [r.url for r in requests] == ["https://new.qq.com/rain/a/20250207A090J800", project_settings.QQ_FEED_URL]
    assert requests[0].meta["qq_id"] == "20250207A090J800"
    assert json.loads(requests[1].body)["channel_id"] == "news_news_tech"
    assert requests[1].dont_filter  # a feed page is read again on every run
    assert crawler.stats.get_value("qq/bad_input") == 2  # type: ignore[union-attr]


def test_the_feed_talks_to_the_spider_through_its_declared_interface(redis_server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    crawler = project_crawler(tmp_path, QqSpider, REDIS_URL=redis_server.url)
    assert isinstance(QqSpider.from_crawler(crawler), WorkSpider)
    other = project_crawler(tmp_path, REDIS_URL=redis_server.url)  # Scrapy's default spider
    other.spider = other._create_spider("plain")
    with pytest.raises(CloseSpider) as closed:
        RedisFeed(other).spider_opened(other.spider)
    assert closed.value.reason == "bad_spider"
