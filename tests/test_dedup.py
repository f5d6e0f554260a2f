"""The dedup middleware and the store's claims: which requests are dropped, and when they go through."""

from __future__ import annotations

import multiprocessing
import signal
from pathlib import Path

import pytest
from scrapy import Request
from scrapy.exceptions import NotConfigured

from crawler import ledger
from crawler.middlewares.dedup import DedupMiddleware
from crawler.settings import STORE_LOCK_TIMEOUT
from crawler.spiders.qq import QqSpider
from crawler.store import Record
from crawler.store.extension import store_of
from crawler.store.sqlite import DEFAULT_NAME, SqliteStore
from tests.support.components import opened_store, project_crawler

WRITTEN = "20250207A090J800"


def middleware(root: Path, *, refresh: str = "", **overrides: object) -> DedupMiddleware:
    crawler = project_crawler(root, QqSpider, **overrides)
    crawler.spider = QqSpider.from_crawler(crawler, **({"refresh": refresh} if refresh else {}))
    opened_store(crawler)
    dedup = DedupMiddleware.from_crawler(crawler)
    dedup.spider_opened()
    return dedup


def request(ident: str, **meta: object) -> Request:
    return Request(f"https://news.qq.com/rain/a/{ident}", meta={"qq_id": ident, **meta})


def passes(dedup: DedupMiddleware, req: Request) -> bool:
    """Whether the request goes on; one it stops is settled in the ledger as the spider's errback does."""
    try:
        dedup.process_request(req)
    except ledger.Settled as stopped:
        ledger.settle(dedup.crawler, *stopped.outcome)
        return False
    return True


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "posts").mkdir()
    (tmp_path / "posts/a.md").write_text("written\n", encoding="utf-8")
    store = SqliteStore(tmp_path / DEFAULT_NAME, STORE_LOCK_TIMEOUT)
    store.put(Record(WRITTEN, "posts/a.md", "f"))
    store.put(Record("20250207A0GONE00", "posts/gone.md", "g"))  # its file was deleted by hand
    store.close()
    return tmp_path


def test_drops_only_articles_written_and_on_disk(root: Path) -> None:
    dedup = middleware(root)
    assert not passes(dedup, request(WRITTEN))
    assert passes(dedup, request("20250207A0NEW000"))
    assert passes(dedup, request("20250207A0GONE00"))
    assert passes(dedup, Request("https://news.qq.com/robots.txt"))
    assert dedup.crawler.stats.get_value("dedup/skipped") == 1


def passes_alone(root: Path, req: Request, **options: object) -> bool:
    """Whether a crawl of its own lets the request through (its claims end with it)."""
    dedup = middleware(root, **options)  # type: ignore[arg-type]
    try:
        return passes(dedup, req)
    finally:
        store_of(dedup.crawler).spider_closed()


def test_refresh_and_dont_dedup_let_it_through(root: Path) -> None:
    assert passes_alone(root, request(WRITTEN), refresh="1")
    assert passes_alone(root, request(WRITTEN), DEDUP_REFRESH=True)
    assert passes_alone(root, request(WRITTEN, dont_dedup=True))
    assert not passes_alone(root, request(WRITTEN), refresh="0")


def test_disabled(root: Path) -> None:
    with pytest.raises(NotConfigured):
        middleware(root, DEDUP_ENABLED=False)


def test_an_article_claimed_by_another_crawl_is_not_fetched_twice(root: Path) -> None:
    first, second = middleware(root), middleware(root)
    new = "20250207A0NEW000"
    assert passes(first, request(new))
    assert passes(first, request(new))  # a retry or redirect of our own request
    assert not passes(second, request(new))
    assert second.crawler.stats.get_value("dedup/claimed") == 1
    # The first crawl writes it (records it, file on disk) and lets the claim go: the second skips it.
    (root / "posts/new.md").write_text("new\n", encoding="utf-8")
    store_of(first.crawler).store.put(Record(new, "posts/new.md", "n"))
    store_of(first.crawler).store.release(new)
    assert not passes(second, request(new))
    assert second.crawler.stats.get_value("dedup/skipped") == 1


def test_claims_end_with_the_crawl(root: Path) -> None:
    first, second = middleware(root), middleware(root)
    assert passes(first, request("20250207A0NEW000"))
    store_of(first.crawler).spider_closed()
    assert passes(second, request("20250207A0NEW000"))


def _claim_and_hang(store_path: str, ident: str, ready: multiprocessing.synchronize.Event) -> None:
    store = SqliteStore(Path(store_path), STORE_LOCK_TIMEOUT)
    assert store.claim(ident)
    ready.set()
    signal.pause()


def test_a_killed_crawls_claims_die_with_it(tmp_path: Path) -> None:
    context = multiprocessing.get_context("spawn")
    ready = context.Event()
    holder = context.Process(target=_claim_and_hang, args=(str(tmp_path / DEFAULT_NAME), "X", ready))
    holder.start()
    assert ready.wait(30)
    store = SqliteStore(tmp_path / DEFAULT_NAME, STORE_LOCK_TIMEOUT)
    assert not store.claim("X")  # held by a live process
    holder.kill()
    holder.join(30)
    assert store.claim("X")  # its holder died: taken over
    store.close()


@pytest.mark.parametrize(
    ("record", "dropped"),
    [
        (Record("X", "posts/a.md", "f"), True),  # written, its file on disk
        (Record("X", "posts/gone.md", "f"), False),  # written, its file deleted by hand
        (Record("X", "", "", "deleted"), True),
        (Record("X", "", "", "paid"), True),
        (Record("X", "", "", "video"), True),  # QQ_VIDEOS=skip
        (Record("X", "", "", "dropped", reason="no_data", seen="2999-01-01T00:00:00+00:00"), True),  # not due
        (Record("X", "", "", "dropped", reason="no_data", seen="2000-01-01T00:00:00+00:00"), False),  # due
    ],
)
def test_feed_paging_and_dedup_give_one_answer(root: Path, record: Record, dropped: bool) -> None:
    store = SqliteStore(root / DEFAULT_NAME, STORE_LOCK_TIMEOUT)
    store.put(record)
    store.close()
    dedup = middleware(root)
    try:
        assert dedup.crawler.spider.listings.already_written("X") is dropped
        assert passes(dedup, request("X")) is not dropped
    finally:
        store_of(dedup.crawler).spider_closed()


def test_a_changed_listing_is_a_change_and_a_missing_one_is_learnt_without_a_fetch(root: Path) -> None:
    dedup = middleware(root)
    store = store_of(dedup.crawler).store
    try:
        # A record of an earlier version has no listing digest: the first listing is remembered, no fetch.
        assert not passes(dedup, request(WRITTEN, qq_listing="aaaaaaaaaaaaaaaa"))
        assert store.get(WRITTEN).listing == "aaaaaaaaaaaaaaaa"  # type: ignore[union-attr]
        store.release(WRITTEN)
        assert not passes(dedup, request(WRITTEN, qq_listing="aaaaaaaaaaaaaaaa"))  # the same listing: settled
        changed = request(WRITTEN, qq_listing="bbbbbbbbbbbbbbbb")
        assert passes(dedup, changed) and changed.meta["qq_refetch"] == "listing"
        assert dedup.crawler.stats.get_value("dedup/listing") == 1  # type: ignore[union-attr]
    finally:
        store_of(dedup.crawler).spider_closed()


def test_stamps_backwards_or_crying_wolf_are_no_change(root: Path) -> None:
    from dataclasses import replace

    dedup = middleware(root)
    extension = store_of(dedup.crawler)
    try:
        record = extension.store.get(WRITTEN)
        extension.store.put(replace(record, updated="2026-08-12T10:00:00+08:00", announced="2026-08-12T10:00:00+08:00"))  # type: ignore[arg-type]
        from datetime import datetime

        from crawler.times import BEIJING

        newer, older = datetime(2026, 8, 12, 12, tzinfo=BEIJING), datetime(2026, 8, 12, 9, tzinfo=BEIJING)
        assert extension.judge(WRITTEN, older).note == "backwards"
        assert extension.judge(WRITTEN, newer).why == "updated"
        extension.store.put(replace(extension.store.get(WRITTEN), quiet="2"))  # type: ignore[arg-type]
        verdict = extension.judge(WRITTEN, newer)
        assert (verdict.state, verdict.note) == ("written", "distrusted")
        # A listing still counts: its record had none, so nothing to compare with yet.
        assert extension.judge(WRITTEN, newer, "cccccccccccccccc").state == "written"
    finally:
        extension.spider_closed()


def test_a_profile_switched_on_a_root_with_articles_is_counted_and_said(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    from crawler.extensions.summary import summary_lines

    (tmp_path / "content/posts").mkdir(parents=True)
    for n, ident in enumerate((WRITTEN, "20250207A0OTHE00")):
        (tmp_path / f"content/posts/2025-02-07-a{n}.md").write_text("written\n", encoding="utf-8")
    store = SqliteStore(tmp_path / DEFAULT_NAME, STORE_LOCK_TIMEOUT)
    store.put(Record(WRITTEN, "content/posts/2025-02-07-a0.md", "f"))
    store.put(Record("20250207A0OTHE00", "content/posts/2025-02-07-a1.md", "g"))
    store.close()
    same = middleware(tmp_path)  # the hugo profile wrote them: nothing to say
    assert not passes(same, request(WRITTEN))
    assert same.crawler.stats.get_value("dedup/skipped/other_layout") is None
    store_of(same.crawler).spider_closed()
    caplog.clear()
    switched = middleware(tmp_path, OUTPUT_PROFILE="jekyll")
    assert not passes(switched, request(WRITTEN)) and not passes(switched, request("20250207A0OTHE00"))
    stats = switched.crawler.stats.get_stats()
    assert stats["dedup/skipped/written"] == stats["dedup/skipped/other_layout"] == 2
    warnings = [r for r in caplog.records if r.levelname == "WARNING" and "fresh OUTPUT_ROOT" in r.getMessage()]
    assert len(warnings) == 1 and "content/posts/2025-02-07-a0.md" in warnings[0].getMessage()
    assert stats["ledger/skipped/written_other_layout"] == 2
    assert "2 already written in another profile's layout" in "\n".join(summary_lines(stats, "finished"))
    store_of(switched.crawler).spider_closed()
