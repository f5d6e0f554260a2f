"""Hourly crawls that cost what they find (issue 29, docs/updates.md "The change signal"): real
crawls of the local mirror on a feed and a sitemap restamped every run (``tests/mirror/restamped.py``)."""

from __future__ import annotations

import time
from pathlib import Path

from crawler.settings import STORE_LOCK_TIMEOUT
from crawler.store.sqlite import DEFAULT_NAME, SqliteStore
from tests.mirror.restamped import CHANNEL, IDS, RestampedFeed
from tests.support.crawl import by_id, crawl, stat

FEED = ("-a", f"channels={CHANNEL}", "-a", "pages=5")
SITEMAP = ("-a", "channels=news_news_empty", "-a", "sitemap=1", "-s", "QQ_SITEMAP_URL=https://news.qq.com/sitemap/restamped.xml")


def next_hour(feed: RestampedFeed) -> None:
    """A new refresh stamp, strictly after every fetch so far (stamps are whole seconds)."""
    time.sleep(1.1)
    feed.hour()


def lastmod(path: Path) -> str | None:
    front = path.read_text(encoding="utf-8").split("\n---\n", 1)[0].splitlines()
    found = [line for line in front if line.startswith("lastmod: ")]
    return found[0].removeprefix("lastmod: ").strip('"') if found else None


def test_a_restamped_feed_costs_only_what_changed(site, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    mirror, url = site
    mirror.validators = True
    feed = RestampedFeed(mirror).install()
    output = tmp_path / "site"

    first = crawl(url, output, *FEED)
    assert first.returncode == 0, first.log[-3000:]
    assert feed.fetched() == sorted(IDS) and stat(first, "write/written") == len(IDS)
    assert stat(first, "qq/feed/stamp/refresh") == len(IDS)  # every item's stamp is the answer's
    assert stat(first, "conditional/article_pages") == len(IDS)
    files = by_id(output)
    before = {ident: path.read_bytes() for ident, path in files.items()}

    # Run 2, an hour later: every stamp moved, no text did. No article page is fetched; the
    # first feed page, all settled, ends the paging.
    next_hour(feed)
    asked = len(mirror.requests)
    second = crawl(url, output, *FEED)
    assert second.returncode == 0, second.log[-3000:]
    assert feed.fetched(asked) == [] and feed.feed_pages(asked) == 1
    assert "dedup/updated" not in second.stats and "dedup/listing" not in second.stats
    assert stat(second, "dedup/skipped/written") == 6 and stat(second, "qq/feed/stamp/refresh") == 6
    assert "conditional/article_pages" not in second.stats

    # Run 3: restamped again; one article corrected with its own newer stamp, one retitled (its
    # stamp is the shared one, like everyone's). Exactly those two are fetched and rewritten.
    next_hour(feed)
    corrected, retitled = IDS[1], IDS[8]  # the second on page 2: paging goes on past page 1
    own = feed.correct(corrected)
    title = feed.retitle(retitled)
    asked = len(mirror.requests)
    third = crawl(url, output, *FEED)
    assert third.returncode == 0, third.log[-3000:]
    assert feed.fetched(asked) == sorted([corrected, retitled])
    assert stat(third, "dedup/updated") == 1 and stat(third, "dedup/listing") == 1
    assert stat(third, "conditional/sent") == 2 and "conditional/not_modified" not in third.stats
    assert stat(third, "write/rewritten") == 2 and stat(third, "plan/updated") == 2
    after = by_id(output)
    assert after == files
    assert lastmod(after[corrected]) == own
    assert "这是更正后的第一段" in after[corrected].read_text(encoding="utf-8")
    assert f'title: "{title}"' in after[retitled].read_text(encoding="utf-8") and lastmod(after[retitled])
    for ident in set(IDS) - {corrected, retitled}:
        assert after[ident].read_bytes() == before[ident], ident

    # Run 4: a feed claiming everything changed (each item its own new stamp, no text moved). At
    # most UPDATE_REFETCH_BUDGET are fetched, the least recently seen first; every one answers
    # 304 (its ETag matches): unchanged without parsing, and its stamp is taken.
    store = SqliteStore(output / DEFAULT_NAME, STORE_LOCK_TIMEOUT)
    by_seen = sorted(IDS, key=lambda ident: store.get(ident).seen)  # type: ignore[union-attr]
    store.close()
    assert set(by_seen[-2:]) == {corrected, retitled}
    next_hour(feed)
    feed.claim_all()
    asked = len(mirror.requests)
    fourth = crawl(url, output, *FEED, "-s", "UPDATE_REFETCH_BUDGET=3")
    assert fourth.returncode == 0, fourth.log[-3000:]
    assert feed.fetched(asked) == sorted(by_seen[:3])
    assert stat(fourth, "qq/refetch/queued") == len(IDS) and stat(fourth, "qq/refetch") == 3
    assert stat(fourth, "qq/refetch/held") == len(IDS) - 3
    assert stat(fourth, "ledger/skipped/held_back") == len(IDS) - 3  # in the account of the run
    assert stat(fourth, "conditional/not_modified") == 3 and stat(fourth, "dedup/updated") == 3
    assert stat(fourth, "ledger/unchanged/not_modified") == 3  # a 304 is an unchanged article in the ledger
    assert "write/written" not in fourth.stats and "qq/articles" not in fourth.stats  # nothing parsed
    assert sorted(p.rsplit("/", 1)[1] for p in mirror.not_modified) == sorted(by_seen[:3])
    assert {ident: path.read_bytes() for ident, path in by_id(output).items() if ident in by_seen[:3]} == {
        ident: before[ident] for ident in by_seen[:3]
    }

    # Run 5: the same claims. The three answered 304 took their stamps; the next three least
    # recently seen go: the budget spreads over the runs, never the same ones again and again.
    asked = len(mirror.requests)
    fifth = crawl(url, output, *FEED, "-s", "UPDATE_REFETCH_BUDGET=3")
    assert fifth.returncode == 0, fifth.log[-3000:]
    assert feed.fetched(asked) == sorted(by_seen[3:6])
    assert stat(fifth, "qq/refetch/held") == len(IDS) - 6


def test_a_stamp_moving_every_run_without_a_text_change_is_no_loop(site, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    mirror, url = site
    feed = RestampedFeed(mirror).install()
    output = tmp_path / "site"
    assert crawl(url, output, *FEED).returncode == 0
    fetched = []
    for _ in range(4):  # each run: every item a new own stamp, no text change
        next_hour(feed)
        feed.claim_all()
        asked = len(mirror.requests)
        run = crawl(url, output, *FEED, "-s", "UPDATE_STAMP_MISSES=2")
        assert run.returncode == 0, run.log[-3000:]
        fetched.append(len(feed.fetched(asked)))
    # Two stamp-driven fetches that found the same text, then its stamps are no signal.
    assert fetched == [len(IDS), len(IDS), 0, 0]
    assert stat(run, "qq/stamp/distrusted") == 6  # the first page's (paging ends there)
    # A changed title is still seen.
    next_hour(feed)
    feed.retitle(IDS[0])
    asked = len(mirror.requests)
    run = crawl(url, output, *FEED)
    assert feed.fetched(asked) == [IDS[0]] and stat(run, "write/rewritten") == 1


def test_a_restamped_sitemap_costs_only_what_changed(site, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    mirror, url = site
    feed = RestampedFeed(mirror).install()
    output = tmp_path / "site"
    first = crawl(url, output, *SITEMAP)
    assert first.returncode == 0, first.log[-3000:]
    assert stat(first, "write/written") == len(IDS) and stat(first, "qq/sitemap/stamp/refresh") == len(IDS)

    next_hour(feed)
    asked = len(mirror.requests)
    second = crawl(url, output, *SITEMAP)
    assert second.returncode == 0, second.log[-3000:]
    assert feed.fetched(asked) == [] and stat(second, "dedup/skipped/written") == len(IDS)

    next_hour(feed)
    own = feed.correct(IDS[5])
    asked = len(mirror.requests)
    third = crawl(url, output, *SITEMAP)
    assert third.returncode == 0, third.log[-3000:]
    assert feed.fetched(asked) == [IDS[5]] and stat(third, "write/rewritten") == 1
    assert lastmod(by_id(output)[IDS[5]]) == own
