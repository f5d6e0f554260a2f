"""End to end: discovery through the mirror's channel feeds and sitemaps (real ``scrapy crawl qq``).

Each test gets a mirror of its own, so every feed page answers "busy" the first time it is asked
and the test can see which pages and articles the crawl asked for. The mirror's data is built by
``tests/fixtures/build_feed_site.py``; the ids below are the ones it lists there.
"""

from __future__ import annotations

from collections import Counter

import pytest

from tests.support.crawl import by_id, crawl, stat
from tests.support.discovery import FINANCE, TECH, TOP, fetched, flat, run

VIDEOS = ["20260810V0TV0100", "20260810V07PA300"]
PAID_IN_FEED = "20260810A0PD0200"  # the feed item says it is paid: never fetched
PAID_PAGE = "20260809A0PD0100"  # only its page says so
DELETED = "20260810A0DL0100"


def test_no_arguments_writes_every_article_of_the_default_channels(site, tmp_path) -> None:  # type: ignore[no-untyped-def]
    mirror, _ = site
    result = run(site, tmp_path)
    assert set(by_id(tmp_path)) == flat(*TOP, *TECH, *FINANCE)
    # Every page of every default channel, each asked twice (busy, then the answer), up to the
    # first empty page; world's first page is empty.
    asks = Counter(mirror.feed_asks)
    expected_pages = {("news_news_top", p) for p in range(4)} | {("news_news_tech", p) for p in range(3)}
    expected_pages |= {("news_news_finance", p) for p in range(3)} | {("news_news_world", 0)}
    assert set(asks) == expected_pages
    assert set(asks.values()) == {2}
    assert stat(result, "qq/feed/busy/count") == len(expected_pages)
    assert stat(result, "delay/count") == len(expected_pages)  # each retry held back in the downloader
    assert stat(result, "qq/feed/pages") == len(expected_pages)
    # Each article fetched once although SH01 is listed by two channels in two URL forms.
    counts = fetched(mirror)
    # The deleted one at the feed's link, then once more at its canonical URL before it counts.
    assert counts[DELETED] == 2 and stat(result, "qq/fallback") == 1
    assert set(counts.values()) == {1, 2}
    assert PAID_IN_FEED not in counts and not set(VIDEOS) & set(counts)
    assert stat(result, "qq/skipped/video") == 2
    assert stat(result, "qq/skipped/paid") == 2
    assert stat(result, "qq/deleted") == 1 and f"Deleted article {DELETED}" in result.log
    assert stat(result, "qq/feed/bad/item") == 1 and "没有id的条目" in result.log
    assert stat(result, "write/written") == len(flat(*TOP, *TECH, *FINANCE))
    # Requested once each: the written ones, the deleted one and the one whose page says paid.
    assert stat(result, "qq/requested") == len(flat(*TOP, *TECH, *FINANCE)) + 2 == len(counts)


def test_since_stops_paging_and_fetching(site, tmp_path) -> None:  # type: ignore[no-untyped-def]
    mirror, _ = site
    result = run(site, tmp_path, "-a", "since=2026-08-09")
    assert set(by_id(tmp_path)) == flat(TOP[0], TOP[1], TECH[0], FINANCE[0])
    pages = set(mirror.feed_asks)
    # top's page 2 is all older: read, then the paging stops (no page 3); the same for tech and
    # finance page 1.
    assert ("news_news_top", 2) in pages and ("news_news_top", 3) not in pages
    assert ("news_news_tech", 1) in pages and ("news_news_tech", 2) not in pages
    assert ("news_news_finance", 2) not in pages
    assert stat(result, "qq/skipped/old") == len(flat(TOP[2], TECH[1], FINANCE[1]))
    assert not set(fetched(mirror)) & flat(TOP[2], TECH[1], FINANCE[1])


def test_pages_limits_each_channel(site, tmp_path) -> None:  # type: ignore[no-untyped-def]
    mirror, _ = site
    result = run(site, tmp_path, "-a", "pages=1", "-a", "channels=top,tech")
    assert set(by_id(tmp_path)) == flat(TOP[0], TECH[0])
    assert stat(result, "qq/feed/busy/count") >= 1  # the mirror's feeds answer busy once
    assert "internal meta keys" not in result.log  # the busy retry copies no downloader meta
    assert {page for _, page in mirror.feed_asks} == {0}
    assert {channel for channel, _ in mirror.feed_asks} == {"news_news_top", "news_news_tech"}


def test_every_url_form_of_one_article_gives_one_file(site, tmp_path) -> None:  # type: ignore[no-untyped-def]
    mirror, _ = site
    ident = "20260810A0TP0100"
    forms = [
        f"https://news.qq.com/rain/a/{ident}",
        f"https://new.qq.com/rain/a/{ident}?suid=&media_id=",
        f"https://new.qq.com/omn/20260810/{ident}.html",
        f"https://view.inews.qq.com/a/{ident}#comments",
    ]
    url_file = tmp_path / "urls.txt"
    url_file.write_text(f"# one article, many forms\nnew.qq.com/rain/a/{ident}/\n\n{ident.lower()}\n", encoding="utf-8")
    output = tmp_path / "out"
    output.mkdir()
    # The top feed and the sitemap list it too.
    result = run(site, output, "-a", "urls=" + ",".join(forms), "-a", f"ids={ident}", "-a", f"url_file={url_file}",
              "-a", "channels=top", "-a", "pages=1", "-a", "sitemap=1")  # fmt: skip
    assert fetched(mirror)[ident] == 1
    files = by_id(output)
    assert ident in files
    assert len(list((output / "content" / "posts").glob("*cheng-shi-geng-xin*"))) == 1
    assert "qq/bad_input" not in result.stats
    assert stat(result, "qq/requested") == len(fetched(mirror))


def test_bad_feeds_and_sitemaps_are_counted_and_the_crawl_goes_on(site, tmp_path) -> None:  # type: ignore[no-untyped-def]
    mirror, _ = site
    # The mirror's broken feeds are channels no table knows: named by their ids.
    result = run(site, tmp_path, "-a", "channels=news_news_nojson,news_news_error,news_news_nodata,finance", "-a", "sitemap=1")
    assert stat(result, "qq/feed/bad/not_json") == 1
    assert stat(result, "qq/feed/bad/code") == 1
    assert stat(result, "qq/feed/bad/no_data") == 1
    assert stat(result, "qq/sitemap/bad/bad_gzip") == 1
    assert stat(result, "qq/sitemap/bad/not_xml") == 1
    assert stat(result, "qq/sitemap/urlsets") == 3
    assert "Bad sitemap https://news.qq.com/sitemap/sitemap_1000000003.xml.gz: bad_gzip" in result.log
    assert "Bad feed answer for news_news_nojson page 0 (https://i.news.qq.com/web_feed/getPCList): not_json" in result.log
    sitemap_only = {"20260801A0SM0000", "20260810A0SM0100", "20260805A0SM0200", "20260809A0SM0300"}
    in_sitemaps = {"20260810A0TP0100", "20260810A0SH0100", "20260809A0TP0400"}
    assert set(by_id(tmp_path)) == flat(*FINANCE) | sitemap_only | in_sitemaps
    assert stat(result, "qq/deleted") == 1  # listed in the gzip urlset


def test_since_filters_sitemaps_by_lastmod_or_the_id(site, tmp_path) -> None:  # type: ignore[no-untyped-def]
    mirror, _ = site
    result = run(site, tmp_path, "-a", "channels=none", "-a", "sitemap=1", "-a", "since=2026-08-09")
    assert set(by_id(tmp_path)) == {"20260810A0TP0100", "20260810A0SH0100", "20260810A0SM0100", "20260809A0SM0300", "20260809A0TP0400"}
    assert stat(result, "qq/sitemap/skipped_old") == 1  # the urlset last changed on 08-01 is not read
    assert not any("sitemap_0900000001" in path for path in mirror.requests)
    assert stat(result, "qq/skipped/old") == 1  # 08-05 by its lastmod
    assert mirror.feed_asks == []


def test_videos_written_with_their_link_when_asked(site, tmp_path) -> None:  # type: ignore[no-untyped-def]
    result = run(site, tmp_path, "-a", "channels=fx", "-s", "QQ_VIDEOS=write")
    files = by_id(tmp_path)
    assert set(files) == {"20260810A0BO7100", "20260810A07QG300", "20260810A08QTT00", "20260810V07PA300"}
    text = files["20260810V07PA300"].read_text(encoding="utf-8")
    assert "(https://v.qq.com/x/page/g1282xvickc.html)" in text
    assert "qq/skipped/video" not in result.stats


def test_a_page_that_turns_out_to_be_a_video_is_skipped(site, tmp_path) -> None:  # type: ignore[no-untyped-def]
    result = run(site, tmp_path, "-a", "ids=20260810V07PA300,20260809A0PD0100")
    assert by_id(tmp_path) == {}
    assert stat(result, "qq/skipped/video") == 1
    assert stat(result, "qq/skipped/paid") == 1
    assert fetched(site[0]) == Counter({"20260810V07PA300": 1, "20260809A0PD0100": 1})  # judged by their pages


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("-a", "since=yesterday"), "since='yesterday': expected YYYY-MM-DD"),
        (("-a", "pages=0"), "pages='0': expected a whole number"),
        (("-a", "channels=tech;rm"), "not a channel name or id"),
        (("-a", "channels=nosuchchannel"), "channels: unknown channel name 'nosuchchannel' (known: top, tech,"),
        (("-a", "urls="), "urls='': empty; give comma-separated article URLs, or leave urls out"),
        (("-a", "url_file=/nonexistent/urls.txt"), "url_file='/nonexistent/urls.txt': cannot be read"),
    ],
)
def test_bad_arguments_stop_the_crawl_before_any_request(site, tmp_path, args, message) -> None:  # type: ignore[no-untyped-def]
    mirror, url = site
    result = crawl(url, tmp_path, *args)
    assert "Bad spider arguments, nothing crawled" in result.stderr
    assert message in result.stderr
    assert stat(result, "finish_reason") == "bad_arguments"
    assert stat(result, "qq/bad_arguments") == 1
    assert "Traceback" not in result.stderr
    assert mirror.requests == []
    assert list(tmp_path.iterdir()) == []  # nothing written, not even the article store
