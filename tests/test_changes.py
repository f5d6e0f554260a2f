"""The change signal of feed answers (``crawler.qq.changes``), on the real getPCList sample and
on made-up answers; no reactor."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from crawler.qq.changes import answer_time, listing_digest, own_stamps
from crawler.qq.feeds import Entry, feed_entry, parse_feed
from crawler.times import BEIJING

SAMPLE = Path(__file__).resolve().parent / "fixtures" / "feeds" / "2026_getPCList_news_news_fx.SUBSET.json"
LOCAL_SAMPLE = Path(__file__).resolve().parents[1] / "bench" / "fixtures" / "getPCList-item.json"
NOW = datetime(2026, 8, 11, tzinfo=timezone.utc)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=BEIJING)


def entry(ident: str, updated: str | None, published: str = "2026-08-10 09:00:00", listing: str = "") -> Entry:
    return Entry(id=ident, published=at(published), updated=at(updated) if updated else None, listing=listing)


def test_the_real_answer_stamps_every_item_with_its_refresh_time() -> None:
    page = parse_feed(SAMPLE.read_bytes())
    assert len(page.entries) == 4
    assert len({e.updated for e in page.entries}) == 1 and page.entries[0].updated is not None
    assert page.answered is None  # its timestamp is ""
    kept, odd = own_stamps(page.entries, page.answered, NOW)
    assert [e.updated for e in kept] == [None] * len(kept)
    assert odd == {"refresh": len(kept)}
    assert [e.id for e in kept] == [e.id for e in page.entries]
    assert all(e.listing and len(e.listing) == 16 for e in kept)


def test_an_item_whose_stamp_differs_from_its_siblings_keeps_it() -> None:
    page = [entry(f"2026081{n}A0000000", "2026-08-10 20:43:10") for n in range(5)]
    own = entry("20260810A0OWN000", "2026-08-10 18:12:00")
    kept, odd = own_stamps([*page, own], None, NOW)
    assert kept[-1].updated == at("2026-08-10 18:12:00")
    assert all(e.updated is None for e in kept[:-1]) and odd == {"refresh": 5}


def test_two_items_of_a_page_each_with_its_own_stamp_keep_them() -> None:
    kept, odd = own_stamps([entry("a", "2026-08-10 10:00:00"), entry("b", "2026-08-10 11:00:00")], None, NOW)
    assert [e.updated for e in kept] == [at("2026-08-10 10:00:00"), at("2026-08-10 11:00:00")] and not odd


def test_a_shared_stamp_of_a_minority_is_kept() -> None:
    shared = [entry(f"s{n}", "2026-08-10 12:00:00") for n in range(2)]
    others = [entry(f"o{n}", f"2026-08-10 1{n}:30:00") for n in range(3)]
    kept, odd = own_stamps([*shared, *others], None, NOW)
    assert all(e.updated is not None for e in kept) and not odd


def test_stamps_at_or_after_the_answer_time_are_its_refresh() -> None:
    answered = at("2026-08-10 20:00:00")
    kept, odd = own_stamps([entry("a", "2026-08-10 20:00:00"), entry("b", "2026-08-10 19:00:00")], answered, NOW)
    assert [e.updated for e in kept] == [None, at("2026-08-10 19:00:00")] and odd == {"refresh": 1}


def test_future_and_publish_time_stamps_are_no_signal() -> None:
    future = (NOW + timedelta(days=2)).astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S")
    kept, odd = own_stamps([entry("a", future), entry("b", "2026-08-10 09:00:00"), entry("c", None)], None, NOW)
    assert [e.updated for e in kept] == [None, None, None] and odd == {"future": 1, "at_publish": 1}
    # A sitemap's entries have their lastmod as publish time: equal is no oddity there.
    kept, odd = own_stamps([entry("b", "2026-08-10 09:00:00")], None, NOW, publish_known=False)
    assert kept[0].updated is not None and not odd


def test_answer_time() -> None:
    assert answer_time("") is None and answer_time(None) is None and answer_time("soon") is None
    assert answer_time(1786365790) == datetime(2026, 8, 10, 12, 43, 10, tzinfo=timezone.utc)
    assert answer_time("1786365790123") == datetime(2026, 8, 10, 12, 43, 10, tzinfo=timezone.utc)
    assert answer_time(10**30) is None


def test_listing_digest_moves_with_title_abstract_and_image_only() -> None:
    item = json.loads(LOCAL_SAMPLE.read_text(encoding="utf-8"))
    digest = listing_digest(item)
    assert digest == feed_entry(item).listing  # type: ignore[union-attr]
    assert listing_digest({**item, "update_time": "2026-08-11 00:00:00", "interation_info": {}}) == digest
    assert listing_digest({**item, "title": item["title"] + "（更正）"}) != digest
    assert listing_digest({**item, "desc": "另一段摘要"}) != digest
    assert listing_digest({**item, "pic_info": {"big_img": ["https://inews.gtimg.com/other/0"]}}) != digest
    assert listing_digest({"id": "x"}) == ""


stamps = st.one_of(st.none(), st.datetimes(datetime(2026, 1, 1), datetime(2027, 12, 31)).map(lambda d: d.replace(tzinfo=BEIJING)))


@given(st.lists(stamps, max_size=30), st.one_of(st.none(), stamps))
def test_the_rule_only_ever_removes_stamps_and_never_keeps_a_future_or_majority_one(values, answered) -> None:  # type: ignore[no-untyped-def]
    entries = [Entry(id=str(n), published=at("2026-01-01 00:00:00"), updated=v) for n, v in enumerate(values)]
    kept, odd = own_stamps(entries, answered, NOW)
    assert [e.id for e in kept] == [e.id for e in entries]
    assert all(k.updated in (None, e.updated) for k, e in zip(kept, entries, strict=True))
    assert sum(odd.values()) == sum(1 for k, e in zip(kept, entries, strict=True) if k.updated != e.updated)
    left = [k.updated for k in kept if k.updated is not None]
    assert all(u <= NOW + timedelta(minutes=10) for u in left)
    stamped = sum(v is not None for v in values)
    assert all(left.count(u) < 2 or 2 * values.count(u) < stamped for u in left)


# -- the refetch budget -------------------------------------------------------------------------

from crawler.qq.refetch import Refetches  # noqa: E402


def test_the_budget_keeps_the_least_recently_seen_and_counts_the_rest() -> None:
    queue: Refetches[str] = Refetches(3)
    for name, seen in [("a", "2026-08-10"), ("b", "2026-08-08"), ("c", ""), ("d", "2026-08-09"), ("e", "2026-08-11")]:
        queue.offer(name, seen)
    assert queue.take() == ["c", "b", "d"] and queue.held == 2
    queue.offer("f", "")  # the budget is per run: nothing more once it is spent
    assert queue.take() == [] and queue.held == 3 and queue.taken == 3


@given(st.lists(st.text(alphabet="0123", max_size=3), max_size=60), st.integers(0, 10))
def test_the_budget_is_never_exceeded(seens, budget) -> None:  # type: ignore[no-untyped-def]
    queue: Refetches[int] = Refetches(budget)
    for n, seen in enumerate(seens[: len(seens) // 2]):
        queue.offer(n, seen)
    first = queue.take()
    for n, seen in enumerate(seens[len(seens) // 2 :], start=len(seens) // 2):
        queue.offer(n, seen)
    second = queue.take()
    assert len(first) + len(second) == min(budget, len(first) + len(second) + queue.held) <= budget
    assert len(first) + len(second) + queue.held == len(seens)
    half = seens[: len(seens) // 2]
    assert sorted(seens[n] for n in first) == sorted(half)[: len(first)]


# -- what the store keeps: validators, quiet count -------------------------------------------------

from scrapy.http import Response  # noqa: E402

from crawler.items import Article  # noqa: E402
from crawler.middlewares.conditional import header  # noqa: E402
from crawler.pipelines.plan import change_evidence  # noqa: E402
from crawler.store import Record  # noqa: E402


@given(st.binary(max_size=400))
def test_a_validator_is_kept_only_short_and_printable(value: bytes) -> None:
    response = Response("https://news.qq.com/rain/a/X", headers={"ETag": value} if value else {})
    kept = header(response, "ETag")
    assert kept == "" or (len(kept) <= 200 and kept.isprintable() and kept == value.decode("latin-1").strip())


def test_the_quiet_count_grows_with_stamp_driven_fetches_that_found_nothing() -> None:
    item = Article(id="X", url="", source_url="", template="", title="t", published=NOW, refetch="updated",
                   updated=at("2026-08-10 21:00:00"), listing="l" * 16, etag='"e"')  # fmt: skip
    old = Record("X", "x.md", "same", quiet="1", listing="o" * 16, last_modified="Mon, 10 Aug 2026 00:00:00 GMT")
    evidence = change_evidence(old, item, "same")
    assert evidence == {"listing": "l" * 16, "announced": "2026-08-10T21:00:00+08:00", "quiet": "2", "etag": '"e"',
                        "last_modified": ""}  # fmt: skip
    assert change_evidence(old, item, "other")["quiet"] == ""  # a real change resets it
    listed = Article(id="X", url="", source_url="", template="", title="t", published=NOW, refetch="listing")
    assert change_evidence(old, listed, "same")["quiet"] == "1" and change_evidence(old, listed, "same")["listing"] == "o" * 16
