"""Feed and sitemap requests and parsing (crawler.qq.feeds) on the real feed sample and the mirror's
sitemaps, and the skip rule (crawler.qq.rules) they and the pages share."""

from __future__ import annotations

import gzip
import json
from datetime import datetime
from pathlib import Path

import pytest
from scrapy.http import JsonRequest

from crawler.items import Article
from crawler.qq.arguments import parse_since
from crawler.qq.feeds import (
    CHANNELS,
    Entry,
    SourceError,
    channel_id,
    entry_kind,
    feed_body,
    feed_entry,
    feed_request,
    parse_feed,
    parse_sitemap,
    sitemap_request,
)
from crawler.qq.rules import page_entry, skip_reason
from crawler.times import BEIJING

SAMPLE = Path(__file__).parent / "fixtures" / "feeds" / "2026_getPCList_news_news_fx.SUBSET.json"
SITEMAPS = Path(__file__).parent / "mirror" / "sitemap"


def test_real_feed_sample_gives_its_articles_in_order() -> None:
    page = parse_feed(SAMPLE.read_bytes())
    assert [(e.id, e.kind) for e in page.entries] == [
        ("20260810A0BO7100", "article"),  # inside the 525 group
        ("20260810A07QG300", "article"),  # inside the 525 group
        ("20260810A08QTT00", "article"),
        ("20260810V07PA300", "video"),
    ]
    assert page.bad_items == []
    first = page.entries[0]
    assert first.published == datetime(2026, 8, 10, 19, 43, 37, tzinfo=BEIJING)
    assert first.url == "https://view.inews.qq.com/a/20260810A0BO7100"
    assert first.title.startswith("Meta开源30B智能体模型")
    assert page.entries[2].url == "https://new.qq.com/rain/a/20260810A08QTT00"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"<html><body>502 Bad Gateway</body></html>", "not_json"),
        (b"[1, 2]", "not_json"),
        (b'{"code":1,"message":"busy"}', "busy"),
        (b'{"code":2,"message":"invalid channel","data":[]}', "code"),
        (b'{"message":"no code","data":[]}', "code"),
        (b'{"code":0,"message":""}', "no_data"),
        (b'{"code":0,"data":{"list":[]}}', "no_data"),
    ],
)
def test_bad_feed_answers_name_their_reason(body: bytes, reason: str) -> None:
    with pytest.raises(SourceError) as error:
        parse_feed(body)
    assert error.value.reason == reason


def test_items_without_ids_are_reported_and_the_rest_kept() -> None:
    real = json.loads(SAMPLE.read_bytes())
    real["data"] += [{"articletype": "0", "title": "无id"}, "junk", {"id": "", "link_info": {"url": "https://www.qq.com/"}}]
    page = parse_feed(json.dumps(real).encode())
    assert len(page.entries) == 4
    assert len(page.bad_items) == 3
    assert "无id" in page.bad_items[0]


def test_item_id_from_its_link_when_the_id_is_missing() -> None:
    entry = feed_entry({"articletype": "0", "link_info": {"url": "https://new.qq.com/omn/20260810/20260810A08QTT00.html"}})
    assert entry is not None and entry.id == "20260810A08QTT00"


def test_an_item_keeps_the_link_it_gives_to_be_fetched_at() -> None:
    page = parse_feed(SAMPLE.read_bytes())
    assert [e.url for e in page.entries[:3]] == [
        "https://view.inews.qq.com/a/20260810A0BO7100",
        "https://view.inews.qq.com/a/20260810A07QG300",
        "https://new.qq.com/rain/a/20260810A08QTT00",
    ]
    # Normalised only; a link to another article is not used (the item is fetched by its id).
    cut = feed_entry({"id": "20260810A08QTT00", "link_info": {"url": "http://view.inews.qq.com/a/20260810A08QTT00?uid=1#c"}})
    assert cut is not None and cut.url == "https://view.inews.qq.com/a/20260810A08QTT00"
    other = feed_entry({"id": "20260810A08QTT00", "link_info": {"url": "https://view.inews.qq.com/a/20260810A0BO7100"}})
    assert other is not None and (other.id, other.url) == ("20260810A08QTT00", "")


def test_an_item_with_a_14_character_id_is_an_article() -> None:
    entry = feed_entry({"id": "20201130A0G1JJ", "articletype": "0", "link_info": {"url": "https://new.qq.com/rain/a/20201130A0G1JJ"}})
    assert entry is not None
    assert (entry.id, entry.url, entry.kind) == ("20201130A0G1JJ00", "https://new.qq.com/rain/a/20201130A0G1JJ", "article")


def test_item_kinds_and_paid_flag() -> None:
    assert feed_entry({"id": "20260810A08QTT00", "articletype": "118"}).kind == "video"  # type: ignore[union-attr]
    assert feed_entry({"id": "20260810V08QTT00", "articletype": "0"}).kind == "video"  # type: ignore[union-attr]
    other = feed_entry({"id": "20260810A08QTT00", "articletype": "56"})
    assert other is not None and (other.kind, other.type) == ("other", "56")
    assert feed_entry({"id": "20260810A08QTT00", "article_is_pay": 1}).paid  # type: ignore[union-attr]
    assert not feed_entry({"id": "20260810A08QTT00", "payment_info": {}}).paid  # type: ignore[union-attr]


def test_channel_names_and_request_body() -> None:
    assert channel_id("tech") == "news_news_tech"
    assert channel_id(" News_News_Top ") == "news_news_top"
    with pytest.raises(ValueError, match="not a channel"):
        channel_id("tech/../x")
    assert feed_body("news_news_fx", 0) == {"base_req": {"from": "pc"}, "forward": "2", "channel_id": "news_news_fx", "page": 0}
    assert feed_body("news_news_fx", 3)["forward"] == "1"


def test_channel_names_come_from_the_table_and_ids_pass_as_given() -> None:
    # Every channel of the mirror's feed and of the real sample is a known name.
    for name in ["top", "tech", "finance", "world", "ent", "fx"]:
        assert name in CHANNELS and channel_id(name) == f"news_news_{name}"
    assert channel_id("news_news_xyz") == "news_news_xyz"  # a channel the table does not know yet
    with pytest.raises(ValueError) as unknown:
        channel_id("nosuchchannel")
    assert str(unknown.value).startswith("unknown channel name 'nosuchchannel' (known: top, tech, finance,")
    assert ";" not in str(unknown.value)  # the spider joins argument errors with "; "
    for bad in ["", "news_news_", "tech;rm"]:
        with pytest.raises(ValueError, match="not a channel name or id"):
            channel_id(bad)


def callback(*args: object) -> None: ...


def errback(*args: object) -> None: ...


def test_feed_request_posts_the_page_and_is_never_filtered() -> None:
    request = feed_request("https://i.news.qq.com/web_feed/getPCList", "news_news_tech", 2, callback, errback)
    assert isinstance(request, JsonRequest) and request.method == "POST"
    assert json.loads(request.body) == feed_body("news_news_tech", 2)
    assert request.headers["Referer"] == b"https://news.qq.com/ch/tech"
    assert request.cb_kwargs == {"channel": "news_news_tech", "page": 2}
    assert (request.callback, request.errback) == (callback, errback)
    assert request.meta["qq_source_stats"] == "qq/feed/bad"
    assert request.dont_filter


def test_sitemap_request_is_never_filtered() -> None:
    request = sitemap_request("https://news.qq.com/sitemap/index.xml", callback, errback)
    assert (request.method, request.url) == ("GET", "https://news.qq.com/sitemap/index.xml")
    assert (request.callback, request.errback) == (callback, errback)
    assert request.meta["qq_source_stats"] == "qq/sitemap/bad"
    assert request.dont_filter


def test_older_than_by_date_else_by_the_day_in_the_id() -> None:
    since = parse_since("2026-08-09 12:00")
    assert Entry("20260809A0TP0400", published=datetime(2026, 8, 9, 11, 59, tzinfo=BEIJING)).older_than(since)
    assert not Entry("20260809A0TP0400", published=since).older_than(since)
    assert not Entry("20260809A0TP0400").older_than(since)  # no time: the whole day counts
    assert Entry("20260808A0TP0400").older_than(since)


def test_sitemap_index_and_urlsets() -> None:
    links, entries = parse_sitemap((SITEMAPS / "index.xml").read_bytes())
    assert entries == []
    assert links[0].url == "https://news.qq.com/sitemap/sitemap_1182200090.xml"
    assert links[0].lastmod == datetime(2026, 8, 10, 20, tzinfo=BEIJING)
    assert len(links) == 5
    links, entries = parse_sitemap((SITEMAPS / "sitemap_1182200090.xml").read_bytes())
    assert links == []
    assert [e.id for e in entries] == ["20260810A0TP0100", "20260810A0SH0100", "20260810A0SM0100", "20260805A0SM0200"]
    assert entries[1].published == datetime(2026, 8, 10, tzinfo=BEIJING)
    _, zipped = parse_sitemap((SITEMAPS / "sitemap_1081500468.xml.gz").read_bytes())
    assert [e.id for e in zipped] == ["20260809A0SM0300", "20260809A0TP0400", "20260810A0DL0100"]
    assert zipped[0].published is None


def test_sitemap_skips_locs_that_are_not_articles() -> None:
    xml = b'<urlset><url><loc>https://news.qq.com/ch/tech</loc></url><url><loc>https://news.qq.com/rain/a/20260810V07PA300</loc></url></urlset>'
    _, entries = parse_sitemap(xml)
    assert [(e.id, e.kind) for e in entries] == [("20260810V07PA300", "video")]


def test_sitemap_entries_keep_their_loc_normalised() -> None:
    xml = b"<urlset><url><loc>https://new.qq.com/omn/TWF20200/TWF2020041300303000.html?pgv_ref=x</loc></url></urlset>"
    _, entries = parse_sitemap(xml)
    assert [(e.id, e.url) for e in entries] == [("20200413003030", "https://new.qq.com/omn/TWF20200/TWF2020041300303000.html")]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ((SITEMAPS / "sitemap_1000000004.xml").read_bytes(), "not_xml"),
        (b"", "not_xml"),
        (b"plain text", "not_xml"),
        ((SITEMAPS / "sitemap_1000000003.xml.gz").read_bytes(), "bad_gzip"),
        (b"\x1f\x8b\x08garbage", "bad_gzip"),
        (gzip.compress(b"not xml"), "not_xml"),
    ],
)
def test_bad_sitemaps_name_their_reason(body: bytes, reason: str) -> None:
    with pytest.raises(SourceError) as error:
        parse_sitemap(body)
    assert error.value.reason == reason


def test_gzip_sitemap_larger_than_the_limit_is_refused() -> None:
    body = (SITEMAPS / "sitemap_1081500468.xml.gz").read_bytes()
    with pytest.raises(SourceError) as error:
        parse_sitemap(body, max_size=100)
    assert error.value.reason == "too_big"
    assert parse_sitemap(body, max_size=10_000)[1]


def test_a_video_page_body_is_its_video() -> None:
    from scrapy.http import HtmlResponse

    from crawler.qq.pages import parse_article

    page = Path(__file__).parent / "fixtures" / "pages" / "feed" / "20260810V07PA300.html"
    response = HtmlResponse("https://news.qq.com/rain/a/20260810V07PA300", body=page.read_bytes(), encoding="utf-8")
    article = parse_article(response)
    assert article.article_type == "4"
    assert [(b.kind, b.src, b.text) for b in article.blocks] == [
        ("video", "https://v.qq.com/x/page/g1282xvickc.html", "认知科学家Joscha Bach：人类本身就是AI")
    ]


SINCE = datetime(2026, 8, 9, 12, tzinfo=BEIJING)


@pytest.mark.parametrize(
    ("entry", "videos", "reason"),
    [
        (Entry("20260810A0TP0100"), "skip", None),
        (Entry("20260808A0TP0100"), "skip", "old"),  # by the day in its id
        (Entry("20260809A0TP0100", published=datetime(2026, 8, 9, 11, tzinfo=BEIJING)), "skip", "old"),
        (Entry("20260809V0TP0100", published=datetime(2026, 8, 9, 11, tzinfo=BEIJING), kind="video"), "write", "old"),
        (Entry("20260810V07PA300", kind="video", type="4"), "skip", "video"),
        (Entry("20260810V07PA300", kind="video", type="4"), "write", None),
        (Entry("20260810V07PA300", kind="video", type="4", paid=True), "write", "paid"),
        (Entry("20260810A0TP0100", kind="other", type="56"), "skip", "type_56"),
        (Entry("20260810A0TP0100", kind="other", type="56", paid=True), "skip", "type_56"),
        (Entry("20260810A0PD0200", paid=True), "skip", "paid"),
    ],
)
def test_skip_rule(entry: Entry, videos: str, reason: str | None) -> None:
    assert skip_reason(entry, SINCE, videos) == reason


def test_skip_rule_without_since_never_says_old() -> None:
    assert skip_reason(Entry("20160101A0TP0100"), None, "skip") is None


def article(**fields: object) -> Article:
    values: dict = {"id": "x", "url": "u", "source_url": "s", "template": "t", "title": "T", "published": SINCE}
    return Article(**{**values, **fields})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("ident", "fields", "reason"),
    [
        ("20260810A0TP0100", {}, None),
        ("20260810A0TP0100", {"article_type": "4"}, "video"),
        ("20260810A0TP0100", {"article_type": "118"}, "video"),
        ("20260810V07PA300", {"article_type": "0"}, "video"),  # the id says so
        ("20260810A0TP0100", {"article_type": "56"}, "type_56"),
        ("20260810A0TP0100", {"is_paid": True}, "paid"),
        ("20260801A0TP0100", {"published": datetime(2026, 8, 1, tzinfo=BEIJING)}, "old"),
    ],
)
def test_a_page_is_judged_by_the_same_rule(ident: str, fields: dict, reason: str | None) -> None:
    entry = page_entry(ident, article(**fields))
    assert entry.id == ident
    assert skip_reason(entry, SINCE, "skip") == reason


def test_entry_kind_of_type_codes_and_ids() -> None:
    assert [entry_kind(code, "20260810A0TP0100") for code in ["0", "", "4", "118", "56"]] == [
        "article", "article", "video", "video", "other",
    ]  # fmt: skip
    assert entry_kind("0", "20260810V07PA300") == "video"
