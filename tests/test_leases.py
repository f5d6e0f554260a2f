"""Leases end to end: work spreads across crawlers, a killed crawler loses nothing, Redis restarts.

Real ``scrapy crawl qq`` processes on one real redis-server, against the synthetic site answering
article pages slowly (as a distant host would), with a per-host delay so that fair sharing
matters: a crawler may only take what its slots can start soon.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from scrapy import Request
from scrapy.core.downloader import Slot
from scrapy.crawler import Crawler
from twisted.internet.defer import Deferred

from crawler.distributed.leases import Leases
from crawler.distributed.scheduler import RedisScheduler, has_room
from crawler.spiders.qq import QqSpider
from tests.mirror.synthetic import SyntheticSite
from tests.redis_server import RedisServer
from tests.support.components import project_crawler
from tests.support.crawl import Running, by_id, start, stat
from tests.support.distributed import SHORT_LEASES, finish, push, registered, wait_for
from tests.support.freeze import POINTS, freeze_settings

LEASE = 4.0  # REDIS_LEASE_SECONDS of SHORT_LEASES
CLAIM_LEASE = 2.0  # STORE_REDIS_CLAIM_LEASE of SHORT_LEASES
IDLE_PERIOD = 5.0  # Scrapy's engine heartbeat: how often an idle crawler looks for work


class SlowSite(SyntheticSite):
    delay = 0.5

    def article_page(self, ident: str) -> bytes:
        time.sleep(self.delay)
        return super().article_page(ident)


@pytest.fixture(scope="module")
def site() -> Iterator[tuple[SlowSite, str]]:
    synthetic = SlowSite(40)
    server, url = synthetic.serve()
    yield synthetic, url
    server.shutdown()
    server.server_close()


def crawler(url: str, output: Path, redis: RedisServer, *args: str) -> Running:
    return start(
        url, output, "-s", f"REDIS_URL={redis.url}", "-s", "REDIS_RETRIES=1", "-s", "MAX_IDLE_TIME_BEFORE_CLOSE=2",
        "-s", "DOWNLOAD_DELAY=0.3", "-s", "THUMBNAILS_ENABLED=False", *SHORT_LEASES, *args,
    )  # fmt: skip


def test_two_crawlers_share_thirty_articles(site, redis_server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    synthetic, url = site
    output = tmp_path / "out"
    ids = synthetic.ids(30)
    # Room for every request at once (CONCURRENT_REQUESTS) but one page every half second per
    # crawler (the host's delay): without fair sharing the first crawler to look takes all 30.
    crawlers = [crawler(url, output, redis_server, "-s", "CONCURRENT_REQUESTS=32", "-s", "DOWNLOAD_DELAY=0.5")
                for _ in range(2)]  # fmt: skip
    wait_for(lambda: registered(redis_server, 2), 60, "both crawlers to start")
    time.sleep(2)  # registered when their scheduler opens: let both engines start too (on a loaded machine)
    push(redis_server, ids)
    results = [finish(c) for c in crawlers]

    assert sorted(by_id(output)) == sorted(ids)  # each written once (by_id fails on a second file)
    written = [stat(r, "write/written") for r in results]
    assert sum(written) == 30
    assert min(written) >= 10, written  # each did at least a third
    assert sum(stat(r, "redis/acked") for r in results) == 30


def test_a_killed_crawler_loses_nothing_at_any_point(site, redis_server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """One crawler frozen (then killed with kill -9) at each point of an article's life; a new
    crawler, with nothing pushed again, writes every article exactly once within the bound."""
    synthetic, url = site
    output = tmp_path / "out"
    ids = synthetic.ids(16)
    markers = {point: tmp_path / f"frozen-{point}" for point in POINTS}
    frozen = {
        point: crawler(url, output, redis_server, "-s", "CONCURRENT_REQUESTS=1", *freeze_settings(point, marker))
        for point, marker in markers.items()
    }  # fmt: skip
    wait_for(lambda: registered(redis_server, len(POINTS)), 90, "every crawler to start")
    push(redis_server, ids)
    wait_for(lambda: all(m.exists() for m in markers.values()), 60, "every crawler to reach its point")
    first_frozen = min(m.stat().st_mtime for m in markers.values())
    for running in frozen.values():
        running.process.kill()  # kill -9
        running.process.communicate()
        running.stats_file.unlink(missing_ok=True)
    killed = time.monotonic()
    at = {point: marker.read_text().split()[1] for point, marker in markers.items()}
    # What the killed crawlers left: the written articles' files are on disk (and never rewritten).
    done_before = {ident: path.stat().st_mtime_ns for ident, path in by_id(output).items()}
    assert at["written"] in done_before and at["acknowledged"] in done_before
    # A frozen crawler's claims lapse after STORE_REDIS_CLAIM_LEASE (2 s): on a loaded machine the
    # last crawlers may reach their points later than that, and then one still running rightly takes
    # and writes the frozen one's article. The state at each point is only that state before then.
    if time.time() - first_frozen < CLAIM_LEASE:
        assert at["recorded"] not in done_before and at["leased"] not in done_before

    survivor = finish(crawler(url, output, redis_server, "-s", "CONCURRENT_REQUESTS=4"), timeout=120)
    files = by_id(output)
    assert sorted(files) == sorted(ids)  # every article, each once
    last = max(path.stat().st_mtime for path in files.values())
    assert {i: files[i].stat().st_mtime_ns for i in done_before} == done_before
    assert stat(survivor, "write/written") == len(ids) - len(done_before)
    assert "write/rewritten" not in survivor.stats
    # The killed crawlers' leases came back by themselves (no push), all of them: none is left.
    assert stat(survivor, "redis/returned") >= len(POINTS) - 1  # the acknowledged one may hold none
    client = redis_server.client()
    assert client.keys("qq:leased:*") == [] and client.zcard("qq:requests") == 0
    assert client.scard("qq:dupefilter") == 0
    # Within the bound: the lease, one idle period, and the survivor's start and its fetches.
    print(f"last article written {last - (time.time() - (time.monotonic() - killed)):.1f} s after the kill")
    assert last - (time.time() - (time.monotonic() - killed)) < LEASE + IDLE_PERIOD + 30


@pytest.mark.parametrize("restart", ["empty", "aof"])
def test_redis_restarted_mid_crawl(site, tmp_path, restart) -> None:  # type: ignore[no-untyped-def]
    synthetic, url = site
    output = tmp_path / "out"
    ids = synthetic.ids(12)
    redis = RedisServer(tmp_path / "redis", appendonly=restart == "aof").start()
    try:
        push(redis, ids)
        running = crawler(url, output, redis, "-s", "CONCURRENT_REQUESTS=2", "-s", "REDIS_LOST_TIMEOUT=20")
        wait_for(lambda: len(list(output.rglob("*.md"))) >= 2, 60, "two articles written")
        redis.kill()
        if restart == "empty":
            for path in (tmp_path / "redis").glob("appendonly*"):
                path.unlink()
        time.sleep(1)
        redis.start()
        first = finish(running, timeout=120)
        # Redis came back within REDIS_LOST_TIMEOUT: the crawler went on to the end. (An article
        # whose store record could not be put while Redis was away is dropped by the plan pipeline,
        # plan/dropped/store, for a later run to fetch: the rerun below.)
        assert stat(first, "finish_reason") == "finished"
        assert stat(first, "write/written") >= 2
        # A rerun with the same work writes what is missing, and every article once.
        push(redis, ids)
        rerun = finish(crawler(url, output, redis, "-s", "CONCURRENT_REQUESTS=4"))
        assert sorted(by_id(output)) == sorted(ids)
        assert "write/rewritten" not in rerun.stats or restart == "empty"  # an empty store knows no file
    finally:
        redis.kill()


# -- the lease scripts and the room rule, on a real Redis without a crawl --------------------------


def test_leases_move_return_and_acknowledge(redis_server) -> None:  # type: ignore[no-untyped-def]
    client = redis_server.client()
    keys = {"queue": "qq:requests", "start_urls": "qq:start_urls", "dupefilter": "qq:dupefilter"}
    first, second = (Leases(client, "qq", seconds=0.3, **keys) for _ in range(2))
    client.zadd("qq:requests", {b"one": 0, b"two": -5})
    client.sadd("qq:dupefilter", "fp-one", "fp-two")
    one, two = Request("https://news.qq.com/rain/a/1"), Request("https://news.qq.com/rain/a/2")

    assert first.take_request(b"one", one, "fp-one", "news.qq.com")
    assert not second.take_request(b"one", one, "fp-one", "news.qq.com")  # taken: never twice
    assert client.zrange("qq:requests", 0, -1) == [b"two"]
    assert first.waiting() == {"news.qq.com": 1}
    first.started(one)
    assert first.waiting() == {}
    # Done: the lease and the fingerprint go (the same request may be queued again at once).
    assert first.ack([(first.held.pop(one).lease, "fp-one")]) == 1
    assert not client.sismember("qq:dupefilter", "fp-one")

    # Not renewed in time: another crawler returns the lease, with its priority score; the
    # fingerprint stays (the request is queued again); the late acknowledgement changes nothing.
    assert first.take_request(b"two", two, "fp-two", "news.qq.com")
    assert second.return_overdue() == {}  # not overdue yet
    time.sleep(0.4)
    assert second.return_overdue() == {first.token: 1}
    assert client.zrange("qq:requests", 0, -1, withscores=True) == [(b"two", -5.0)]
    assert first.ack([(first.held.pop(two).lease, "fp-two")]) == 0
    assert client.sismember("qq:dupefilter", "fp-two")
    assert not first.renew()  # it learns that its leases lapsed
    assert first.renew()

    # Entries: leased from the head, returned to the head.
    client.rpush("qq:start_urls", "a", "b", "c")
    taken = second.take_entries(2)
    assert [entry for _, entry in taken] == [b"a", b"b"]
    assert second.leased_anywhere() == 2
    assert second.give_back([taken[0][0]]) == 1  # given back at once (its requests not all queued)
    assert client.lrange("qq:start_urls", 0, -1) == [b"a", b"c"]
    assert second.return_own() == 1
    assert sorted(client.lrange("qq:start_urls", 0, -1)) == [b"a", b"b", b"c"]
    assert client.keys("qq:leased:*") == []
    client.close()


def test_a_slot_takes_what_it_can_start_soon() -> None:
    assert has_room(None, 0) and not has_room(None, 1)  # a new slot: one request makes it
    delayed = Slot(concurrency=4, delay=2.0)
    assert has_room(delayed, 0) and not has_room(delayed, 1)  # one per delay
    delayed.queue.append((Request("https://news.qq.com/"), Deferred()))
    assert not has_room(delayed, 0)  # one waits in the slot for its delay
    delayed.queue.clear()
    delayed.transferring.update(Request(f"https://news.qq.com/{n}") for n in range(4))
    assert not has_room(delayed, 0)  # all its connections busy
    free = Slot(concurrency=4, delay=0)
    free.transferring.add(Request("https://news.qq.com/"))
    assert has_room(free, 2) and not has_room(free, 3)


def test_a_lease_that_could_outrun_the_claims_is_a_bad_setting() -> None:
    from crawler.config import settings_errors
    from tests.support.components import project_settings_with

    errors = settings_errors(project_settings_with(REDIS_URL="redis://127.0.0.1:1/0", REDIS_LEASE_SECONDS=60, STORE_REDIS_CLAIM_LEASE=60))
    assert len(errors) == 1 and errors[0].startswith("REDIS_LEASE_SECONDS = 60 must exceed 1.5 x STORE_REDIS_CLAIM_LEASE")
    assert settings_errors(project_settings_with(REDIS_URL="redis://127.0.0.1:1/0", REDIS_LEASE_SECONDS=91, STORE_REDIS_CLAIM_LEASE=60)) == []


def test_a_lease_that_outlasts_the_claims_registers(redis_server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    def opened(**settings: object) -> tuple[RedisScheduler, Crawler]:
        crawler = project_crawler(tmp_path, QqSpider, REDIS_URL=redis_server.url, STORE_BACKEND="redis", **settings)
        crawler.spider = QqSpider.from_crawler(crawler)
        scheduler = RedisScheduler.from_crawler(crawler)
        scheduler.open(crawler.spider)
        return scheduler, crawler

    scheduler, crawler = opened(REDIS_LEASE_SECONDS=91, STORE_REDIS_CLAIM_LEASE=60)
    scheduler.spider_opened(crawler.spider)  # 2/3 of the lease outlasts the claims
    assert redis_server.client().zcard("qq:crawlers") == 1  # registered, renewing
    scheduler._renewal.stop()  # type: ignore[union-attr]  # noqa: SLF001 (no reactor runs here)
    scheduler.leases.return_own()
