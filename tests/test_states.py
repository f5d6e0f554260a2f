"""Article states without a reactor: feed update times, the state-aware dedup, outcomes and what a
deletion does to the files, lastmod per profile, the plan of a corrected article."""

from __future__ import annotations

import os
import sqlite3
import tomllib
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from scrapy import Request
from scrapy.exceptions import IgnoreRequest

from crawler.config import duration
from crawler.extensions.outcomes import Outcome, OutcomeRecorder, draft_text
from crawler.items import Block, Span
from crawler.ledger import Ledger
from crawler.middlewares.dedup import DedupMiddleware
from crawler.qq.feeds import feed_entry, parse_sitemap
from crawler.render import RenderOptions, render_article
from crawler.render.profiles import PROFILES
from crawler.settings import STORE_LOCK_TIMEOUT
from crawler.spiders.qq import QqSpider
from crawler.store import Record, StoreError
from crawler.store.base import now, stamp
from crawler.store.extension import store_of
from crawler.store.sqlite import COLUMNS, DEFAULT_NAME, SqliteStore
from crawler.times import BEIJING
from tests.support.articles import article
from tests.support.components import Writer, opened_store, project_crawler

ID = "20250207A090J800"


# -- feed update times ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "bad"),
    [
        (None, "missing"),
        ("", "missing"),
        ("yesterday", "malformed"),
        ("2026-13-45 99:00:00", "malformed"),
        ("2026-08-10 10:00:00", "older than publish_time"),
    ],
)
def test_an_unusable_update_time_reads_as_no_change(value: object, bad: str) -> None:
    entry = feed_entry({"id": "20260810A08QTT00", "publish_time": "2026-08-10 16:30:53", "update_time": value})
    assert entry is not None and entry.updated is None and entry.bad_update.startswith(bad)


def test_update_time_and_sitemap_lastmod() -> None:
    entry = feed_entry({"id": "20260810A08QTT00", "publish_time": "2026-08-10 16:30:53", "update_time": "2026-08-10 20:43:10"})
    assert entry is not None and entry.updated == datetime(2026, 8, 10, 20, 43, 10, tzinfo=BEIJING) and not entry.bad_update
    xml = b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>https://news.qq.com/rain/a/20260810A08QTT00</loc><lastmod>2026-08-11T08:00:00+08:00</lastmod></url></urlset>'
    (sitemap_entry,) = parse_sitemap(xml)[1]
    assert sitemap_entry.updated == datetime(2026, 8, 11, 8, tzinfo=BEIJING)


def test_durations() -> None:
    assert [duration(v) for v in ("48h", "30m", "7d", "90", 0, "1w")] == [172800, 1800, 604800, 90, 0, 604800]
    with pytest.raises(ValueError, match="UPDATE_WINDOW = 'soon' is not a duration"):
        duration("soon", "UPDATE_WINDOW")
    with pytest.raises(ValueError):
        duration("-1h")


# -- the SQLite store: migration of a store made before states ---------------------------------


def test_a_store_of_the_previous_version_is_migrated_in_place(tmp_path: Path) -> None:
    path = tmp_path / DEFAULT_NAME
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE articles (id TEXT PRIMARY KEY, path TEXT NOT NULL, fingerprint TEXT NOT NULL)")
    db.execute("CREATE INDEX articles_fingerprint ON articles (fingerprint)")
    db.execute("CREATE TABLE claims (id TEXT PRIMARY KEY, owner TEXT NOT NULL)")
    db.execute("INSERT INTO articles VALUES ('A', 'posts/a.md', 'fa')")
    db.commit()
    db.close()
    store = SqliteStore(path, STORE_LOCK_TIMEOUT)
    assert store.get("A") == Record("A", "posts/a.md", "fa")  # written, the new fields empty
    assert store.get("A").written and store.find_fingerprint("fa") == Record("A", "posts/a.md", "fa")
    store.put(Record("B", "", "", "deleted", seen=now()))
    store.close()
    again = SqliteStore(path, STORE_LOCK_TIMEOUT)  # opens the migrated file as it is
    assert [row[1] for row in again._db.execute("PRAGMA table_info(articles)")] == COLUMNS
    assert again.get("B").state == "deleted" and again.path_owner("") is None
    again.close()


def test_a_store_with_states_but_no_change_evidence_is_migrated_in_place(tmp_path: Path) -> None:
    path = tmp_path / DEFAULT_NAME
    db = sqlite3.connect(path)
    before = COLUMNS[: COLUMNS.index("seen") + 1]  # the version before issue 29
    db.execute(f"CREATE TABLE articles ({', '.join(n + ' TEXT NOT NULL' for n in before)}, PRIMARY KEY (id))")
    db.execute("CREATE TABLE claims (id TEXT PRIMARY KEY, owner TEXT NOT NULL)")
    db.execute(f"INSERT INTO articles VALUES ({', '.join('?' * len(before))})",
               ("A", "posts/a.md", "fa", "written", "2026-08-10T20:43:10+08:00", "", "", "", "2026-08-11T00:00:00+00:00"))  # fmt: skip
    db.commit()
    db.close()
    store = SqliteStore(path, STORE_LOCK_TIMEOUT)
    record = store.get("A")
    assert record == Record("A", "posts/a.md", "fa", updated="2026-08-10T20:43:10+08:00", seen="2026-08-11T00:00:00+00:00")
    assert record.listing == record.etag == record.quiet == "" and record.quiet_count == 0
    store.put(replace(record, listing="0123456789abcdef", etag='"v1"', quiet="2"))
    store.close()
    again = SqliteStore(path, STORE_LOCK_TIMEOUT)
    assert [row[1] for row in again._db.execute("PRAGMA table_info(articles)")] == COLUMNS
    assert again.get("A").etag == '"v1"' and again.get("A").quiet_count == 2
    again.close()
    db = sqlite3.connect(path)  # a table that is no version's is refused, not misread
    db.execute("ALTER TABLE articles ADD COLUMN other TEXT")
    db.commit()
    db.close()
    with pytest.raises(StoreError, match="unexpected articles table columns"):
        SqliteStore(path, STORE_LOCK_TIMEOUT)


def test_recent_written_articles_longest_unseen_first(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / DEFAULT_NAME, STORE_LOCK_TIMEOUT)
    moment = datetime(2026, 8, 12, 12, tzinfo=timezone.utc)
    for n, (published_hours_ago, seen_hours_ago, state) in enumerate(
        [(1, 10, "written"), (2, 30, "written"), (100, 50, "written"), (3, 40, "deleted"), (4, 1, "written")]
    ):
        store.put(Record(f"A{n}", f"p{n}.md", f"f{n}", state, published=stamp(moment - timedelta(hours=published_hours_ago)),
                         seen=stamp(moment - timedelta(hours=seen_hours_ago))))  # fmt: skip
    store.put(Record("OLD", "old.md", "fo", published=stamp(moment - timedelta(hours=1))))  # seen never: first
    due = store.recent(moment - timedelta(hours=48), moment - timedelta(hours=6), 10)
    assert [r.id for r in due] == ["OLD", "A1", "A0"]  # A2 too old, A3 deleted, A4 seen an hour ago
    assert [r.id for r in store.recent(moment - timedelta(hours=48), moment - timedelta(hours=6), 1)] == ["OLD"]
    store.close()



def test_seen_within_one_second_keeps_its_order(tmp_path: Path) -> None:
    """Two crawls within one second (a quick rerun): what the first saw is still the longest unseen."""
    store = SqliteStore(tmp_path / DEFAULT_NAME, STORE_LOCK_TIMEOUT)
    second = datetime(2026, 8, 12, 12, 0, 49, tzinfo=timezone.utc)
    published = stamp(second - timedelta(days=1))
    for ident, after in [("LATER", 0.97), ("EARLIER", 0.12), ("MIDDLE", 0.5)]:
        store.put(Record(ident, f"{ident}.md", ident, published=published, seen=stamp(second + timedelta(seconds=after))))
    due = store.recent(second - timedelta(days=2), second + timedelta(seconds=1), 2)
    assert [r.id for r in due] == ["EARLIER", "MIDDLE"]
    store.close()


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)),
       st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)))  # fmt: skip
def test_stamps_compare_as_the_times_do(a: datetime, b: datetime) -> None:
    a, b = a.replace(tzinfo=timezone.utc), b.replace(tzinfo=timezone.utc)
    assert (stamp(a) < stamp(b)) == (a < b) and (stamp(a) == stamp(b)) == (a == b)
    # A whole-second stamp, as records kept before: right against every time of another second.
    legacy, whole = a.replace(microsecond=0).isoformat(), a.replace(microsecond=0)
    if whole < b:
        assert legacy < stamp(b)
    elif whole > b:
        assert legacy > stamp(b)

# -- dedup by state -----------------------------------------------------------------------------


def dedup(root: Path, **settings: object) -> DedupMiddleware:
    crawler = project_crawler(root, QqSpider, **settings)
    crawler.spider = QqSpider.from_crawler(crawler)
    opened_store(crawler)
    middleware = DedupMiddleware.from_crawler(crawler)
    middleware.spider_opened()
    return middleware


def fetched(middleware: DedupMiddleware, ident: str, **meta: object) -> bool:
    try:
        middleware.process_request(Request(f"https://news.qq.com/rain/a/{ident}", meta={"qq_id": ident, **meta}))
    except IgnoreRequest:
        return False
    return True


def test_dedup_by_state(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("a\n", encoding="utf-8")
    (tmp_path / "legacy.md").write_text("b\n", encoding="utf-8")
    os.utime(tmp_path / "legacy.md", (0, datetime(2026, 8, 10, 12, tzinfo=timezone.utc).timestamp()))
    long_ago = stamp(datetime.now(timezone.utc) - timedelta(days=2))
    store = SqliteStore(tmp_path / DEFAULT_NAME, STORE_LOCK_TIMEOUT)
    for record in [
        Record("W", "a.md", "f", updated="2026-08-10T20:43:10+08:00"),
        Record("LEGACY", "legacy.md", "g"),  # written before update times were kept
        Record("DEL", "a.md", "f", "deleted"),
        Record("PAID", state="paid"),
        Record("VID", state="video"),
        Record("NEW_DROP", state="dropped", reason="no_data", seen=now()),
        Record("OLD_DROP", state="dropped", reason="no_data", seen=long_ago),
    ]:
        store.put(record)
    store.close()
    middleware = dedup(tmp_path, OUTPUT_PATH="{slug}.md")  # the layout the records' paths are in
    assert not fetched(middleware, "W")
    assert not fetched(middleware, "W", qq_updated="2026-08-10T20:43:10+08:00")  # same time: unchanged
    assert fetched(middleware, "W", qq_updated="2026-08-11T08:00:00+08:00")
    assert fetched(middleware, "W", qq_recheck=True)
    assert not fetched(middleware, "LEGACY", qq_updated="2026-08-10T19:00:00+08:00")  # before the file's mtime
    assert fetched(middleware, "LEGACY", qq_updated="2026-08-10T21:00:00+08:00")
    assert [fetched(middleware, i) for i in ("DEL", "PAID", "VID", "NEW_DROP", "OLD_DROP", "UNKNOWN")] == [
        False, False, False, False, True, True,
    ]  # fmt: skip
    stats = middleware.crawler.stats.get_stats()  # type: ignore[union-attr]
    assert {k: v for k, v in stats.items() if k.startswith("dedup/")} == {
        "dedup/skipped": 7, "dedup/skipped/written": 3, "dedup/skipped/deleted": 1, "dedup/skipped/paid": 1,
        "dedup/skipped/video": 1, "dedup/skipped/dropped": 1, "dedup/updated": 2, "dedup/recheck": 1,
        "dedup/retried": 1,
    }  # fmt: skip
    store_of(middleware.crawler).spider_closed()
    # Videos written now: a video skipped before is fetched; dropped ones every run with 0.
    again = dedup(tmp_path, QQ_VIDEOS="write", DEDUP_RETRY_DROPPED="0")
    assert fetched(again, "VID") and fetched(again, "NEW_DROP") and not fetched(again, "PAID")


# -- outcomes and deletions ---------------------------------------------------------------------


def written(tmp_path: Path, profile: str = "hugo", **settings: object) -> tuple[Writer, Path]:
    writer = Writer(tmp_path, OUTPUT_PROFILE=profile, **settings)
    item = writer.process_item(article())
    return writer, tmp_path / item.paths.markdown


def record(writer: Writer, outcome: Outcome) -> None:
    OutcomeRecorder.from_crawler(writer.crawler).record(outcome)


@pytest.mark.parametrize("profile", ["hugo", "zola", "jekyll", "eleventy"])
def test_draft_marks_the_file_unpublished_in_its_profile(tmp_path: Path, profile: str) -> None:
    writer, path = written(tmp_path, profile, DELETED_FILES="draft")
    before = path.read_text(encoding="utf-8")
    record(writer, Outcome(ID, "deleted"))
    text = path.read_text(encoding="utf-8")
    fence = text[:3]
    front = text[4:].split(f"\n{fence}\n", 1)[0]
    values = tomllib.loads(front) if fence == "+++" else yaml.safe_load(front)
    assert {k: values[k] for k in PROFILES[profile].draft} == PROFILES[profile].draft
    assert text.endswith(before[4:])
    assert draft_text(text, PROFILES[profile]) is None  # marked once
    assert writer.store.get(ID).state == "deleted" and writer.stat("outcomes/deleted/drafted") == 1


def test_remove_takes_the_file_and_its_images(tmp_path: Path) -> None:
    writer, path = written(tmp_path, DELETED_FILES="remove")
    images = [tmp_path / "static/images/qq" / name for name in (f"{ID}.jpg", f"{ID}-1.png", f"{ID}-12.gif")]
    other = tmp_path / "static/images/qq/20250207A0OTHE00.jpg"
    for image in [*images, other]:
        image.parent.mkdir(parents=True, exist_ok=True)
        image.write_bytes(b"x")
    record(writer, Outcome(ID, "deleted"))
    assert not path.exists() and not any(image.exists() for image in images) and other.exists()
    assert writer.stat("outcomes/deleted/removed") == 1
    assert writer.store.get(ID).state == "deleted"


def test_keep_is_the_default_and_a_written_article_stays_written_on_a_failed_page(tmp_path: Path) -> None:
    writer, path = written(tmp_path)
    before = path.read_bytes()
    record(writer, Outcome(ID, "dropped", "no_data"))  # e.g. a refusal page, once
    assert writer.store.get(ID).written
    record(writer, Outcome(ID, "deleted"))
    assert path.read_bytes() == before and writer.stat("outcomes/deleted/kept") == 1
    record(writer, Outcome("20250207A0NEVR00", "paid"))
    assert writer.store.get("20250207A0NEVR00").state == "paid"


# -- lastmod ------------------------------------------------------------------------------------


def test_lastmod_only_on_a_corrected_article(tmp_path: Path) -> None:
    writer, path = written(tmp_path)
    spec_bytes = path.read_bytes()
    assert b"lastmod" not in spec_bytes
    same = article()
    same.updated = datetime(2026, 8, 12, 18, tzinfo=BEIJING)
    writer.process_item(same)
    assert path.read_bytes() == spec_bytes and writer.stat("write/unchanged") == 1
    corrected = article(blocks=[Block("paragraph", [Span("更正后的正文。")])])
    corrected.updated = datetime(2026, 8, 12, 18, tzinfo=BEIJING)
    writer.process_item(corrected)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[2:4] == ['date: "2025-02-07 21:54:12"', 'lastmod: "2026-08-12 18:00:00"']
    assert writer.store.get(ID).modified == "2026-08-12T18:00:00+08:00" and writer.stat("plan/updated") == 1
    again = article(blocks=[Block("paragraph", [Span("更正后的正文。")])])  # fetched again, unchanged
    writer.process_item(again)
    assert 'lastmod: "2026-08-12 18:00:00"' in path.read_text(encoding="utf-8") and writer.stat("write/unchanged") == 2


@pytest.mark.parametrize(("profile", "key"), [("hugo", "lastmod"), ("jekyll", "last_modified_at"), ("zola", "updated"),
                                              ("hexo", "updated"), ("eleventy", "updated")])  # fmt: skip
def test_each_profile_has_its_lastmod_key(profile: str, key: str) -> None:
    from scrapy.settings import Settings

    from crawler import settings as project_settings

    settings = Settings()
    settings.setmodule(project_settings)
    settings.set("OUTPUT_PROFILE", profile)
    options = RenderOptions.from_settings(settings)
    item = article()
    assert key not in render_article(item, options).split("\n\n", 1)[0]
    item.modified = datetime(2026, 8, 12, 18, tzinfo=BEIJING)
    text = render_article(item, options)
    fence = text[:3]
    front = text[4:].split(f"\n{fence}\n", 1)[0]
    values = tomllib.loads(front) if fence == "+++" else yaml.safe_load(front)
    assert list(values).index(key) == list(values).index("date") + 1
    assert str(values[key]).startswith("2026-08-12")


def test_rebuild_keeps_lastmod_publish_time_and_drafts(tmp_path: Path) -> None:
    from crawler.store.__main__ import rebuild

    writer, path = written(tmp_path, DELETED_FILES="draft")
    corrected = article(blocks=[Block("paragraph", [Span("更正后的正文。")])])
    corrected.updated = datetime(2026, 8, 12, 18, tzinfo=BEIJING)
    writer.process_item(corrected)
    other = article("另一篇", [Block("paragraph", [Span("另一篇的正文。")])])
    other.id, other.url = "20250207A0OTHE00", "https://new.qq.com/rain/a/20250207A0OTHE00"
    writer.process_item(other)
    record(writer, Outcome(other.id, "deleted"))
    writer.close()
    assert rebuild(tmp_path, tmp_path / "rebuilt.sqlite3")[:2] == (2, 0)
    store = SqliteStore(tmp_path / "rebuilt.sqlite3", STORE_LOCK_TIMEOUT)
    first, second = store.get(ID), store.get(other.id)
    assert (first.state, first.modified, first.published) == ("written", "2026-08-12T18:00:00+08:00", "2025-02-07T13:54:12.000000+00:00")
    assert second.state == "deleted"
    store.close()


def test_feed_paging_goes_past_a_page_that_lists_an_update() -> None:
    import json

    from scrapy.http import JsonRequest

    from tests.support.feeds import SAMPLE, feed_page, spider

    def written_spider() -> QqSpider:
        qq = spider()
        extension = store_of(qq.crawler)
        for ident in ("20260810A0BO7100", "20260810A07QG300", "20260810A08QTT00"):
            (extension.root / f"{ident}.md").write_text("x\n", encoding="utf-8")
            extension.store.put(Record(ident, f"{ident}.md", ident, updated="2026-08-10T20:43:10+08:00"))
        return qq

    answer = json.loads(SAMPLE.read_bytes())
    answer["data"] = answer["data"][:2]  # the group and 20260810A08QTT00 (not the video, never written)
    assert not [r for r in feed_page(written_spider(), json.dumps(answer).encode()) if isinstance(r, JsonRequest)]
    answer["data"][1]["update_time"] = "2026-08-11 09:00:00"  # 20260810A08QTT00 changed
    qq = written_spider()
    requests = feed_page(qq, json.dumps(answer).encode())
    assert [r for r in requests if isinstance(r, JsonRequest)]  # the next page is read
    # The changed article waits for the refetch budget (asked when the crawl is idle), with its own stamp.
    assert "20260810A08QTT00" not in {r.meta.get("qq_id") for r in requests}
    (refetch,) = qq.listings.refetch_requests()
    assert (refetch.meta["qq_id"], refetch.meta.get("qq_updated")) == ("20260810A08QTT00", "2026-08-11T09:00:00+08:00")
    # A crawl that closes before every source is read never fetches what it held: held back, accounted.
    qq = written_spider()
    feed_page(qq, json.dumps(answer).encode())
    before = Ledger.of(qq.crawler.stats.get_stats())  # type: ignore[union-attr]
    qq.listings.closed()  # on spider_closed
    stats = qq.crawler.stats.get_stats()  # type: ignore[union-attr]
    after = Ledger.of(stats)
    assert (after.asked, after.open) == (before.asked + 1, before.open)
    assert stats["qq/refetch/held"] == stats["ledger/skipped/held_back"] == 1
