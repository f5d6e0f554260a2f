"""The pre-2012 ``/a/`` template and the mid-2024 transition template, on bad input (issue 24).

The fixture pages and their expected Articles are checked by ``tests/test_pages.py`` like every
other fixture; here the same pages are changed the ways real copies differ: the ad table first, no
``#ArtFrom`` time, the charset declared wrong in both directions (property-based, Hypothesis), the
transition page's data losing its title or body (the DOM fallback, past the pop-up's ``<h1>``).
"""

from __future__ import annotations

import html
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scrapy.http import HtmlResponse

from crawler.items import Article
from crawler.qq.blocks import video_block
from crawler.qq.pages import PageError, parse_article, true_charset
from tests.conftest import EXPECTED
from tests.fixtures import build_archive_pages as build
from tests.support.articles import article_data

ARCHIVE_URL = "http://ent.qq.com/a/20090614/000123.htm"
TRANSITION_URL = "https://new.qq.com/rain/a/20240520A0TR0100"


def archive(page: str | bytes, charset: str = "gb2312") -> Article:
    body = page if isinstance(page, bytes) else build.archive_bytes(page)
    return parse_article(HtmlResponse(url=ARCHIVE_URL, body=body, headers={"Content-Type": f"text/html; charset={charset}"}))


def expected(case: str) -> dict[str, Any]:
    return json.loads((EXPECTED / f"{case}.json").read_text(encoding="utf-8"))


ARCHIVE = expected("archive-gbk-20090614000123")
TRANSITION = expected("transition-20240520A0TR0100")


def test_the_built_fixture_is_what_the_builder_makes() -> None:
    """The committed pages are the builder's output: GBK bytes, CRLF line ends, no UTF-8."""
    page = (build.PAGES / build.ARCHIVE_FILE).read_bytes()
    assert page == build.archive_bytes(build.archive_page())
    assert b"\r\n" in page and b"\n" not in page.replace(b"\r\n", b"")
    with pytest.raises(UnicodeDecodeError):
        page.decode("utf-8")
    assert (build.PAGES / build.TRANSITION_FILE).read_text(encoding="utf-8") == build.transition_page()


def test_a_pre2012_page_was_not_an_article_before() -> None:
    """What the issue found: no ARTICLE_INFO, no window.DATA, no <h1>. It is read now, in full."""
    page = build.archive_page()
    assert "ARTICLE_INFO" not in page and "window.DATA" not in page and "<h1" not in page.lower()
    assert article_data(archive(page)) == ARCHIVE


def test_the_ad_table_first_leaves_the_same_article() -> None:
    page = build.archive_page(ad_first=True)
    assert page.index("<TABLE") < page.index("<P align=center>")
    assert article_data(archive(page)) == ARCHIVE


def test_no_artfrom_time_gives_the_urls_date() -> None:
    article = archive(build.archive_page(art_from=False))
    assert article.published.isoformat() == "2009-06-14T00:00:00+08:00"
    assert article.extraction == "url"  # counted as qq/extraction/url
    assert article.media == "" and article.channel == ""
    data = article_data(article)
    assert {k: v for k, v in data.items() if k not in ("published", "media", "channel")} == {
        k: v for k, v in ARCHIVE.items() if k not in ("published", "media", "channel")
    }


def test_no_articletit_gives_the_headline_of_the_title_tag() -> None:
    page = build.archive_page().replace(f'<div id="ArticleTit">{build.ARCHIVE_TITLE}</div>', "")
    assert archive(page).title == build.ARCHIVE_TITLE
    without = page.replace(f"<title>{build.ARCHIVE_TITLE}_明星_娱乐_腾讯网</title>", "<title>腾讯网</title>")
    with pytest.raises(PageError) as error:
        archive(without)
    assert error.value.reason == "no_title"


def test_an_empty_body_is_dropped_with_its_reason() -> None:
    page = build.archive_page()
    start = page.index('<div id="ArticleCnt">')
    page = page[:start] + '<div id="ArticleCnt">' + build.ARCHIVE_AD_TABLE + "</div>" + page[page.index('\n<div id="ArtEditor">'):]
    with pytest.raises(PageError) as error:
        archive(page)
    assert error.value.reason == "empty_body"


@pytest.mark.parametrize(("encoding", "declared"), [("utf-8", "gb2312"), ("gbk", "utf-8")])
def test_a_wrong_charset_label_is_read_as_the_bytes(encoding: str, declared: str) -> None:
    """GBK declared (header and <meta>) but UTF-8 sent, and UTF-8 declared (header) but GBK sent."""
    body = build.archive_page().replace("\n", "\r\n").encode(encoding)
    response = HtmlResponse(url=ARCHIVE_URL, body=body, headers={"Content-Type": f"text/html; charset={declared}"})
    assert build.ARCHIVE_TITLE not in response.text  # read as declared, the text would be mojibake
    _, mismatch = true_charset(response)
    assert mismatch
    assert article_data(parse_article(response)) == ARCHIVE


# Chinese (all in GBK), ASCII, full-width punctuation and what HTML must escape.
_TEXT = st.text(
    alphabet=st.one_of(st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5), st.sampled_from("abcXYZ019 ，。：“”！？&<>")),
    min_size=1,
    max_size=40,
).filter(lambda text: text.strip())


@settings(max_examples=200, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(
    title=_TEXT,
    paragraph=_TEXT,
    encoding=st.sampled_from(["gbk", "utf-8"]),
    declared=st.sampled_from(["gb2312", "gbk", "utf-8", ""]),
    ad_first=st.booleans(),
)
def test_any_text_in_any_label_is_read_right_or_dropped_never_mojibake(
    title: str, paragraph: str, encoding: str, declared: str, ad_first: bool
) -> None:
    page = build.archive_page(ad_first=ad_first)
    page = page.replace(build.ARCHIVE_TITLE, html.escape(title))
    page = page.replace("腾讯娱乐讯 6月13日晚", html.escape(paragraph), 1)
    body = page.replace("\n", "\r\n").encode(encoding)
    headers = {"Content-Type": f"text/html; charset={declared}" if declared else "text/html"}
    try:
        article = parse_article(HtmlResponse(url=ARCHIVE_URL, body=body, headers=headers))
    except PageError as error:
        assert error.reason in ("no_title", "empty_body")
        return
    assert article.title == " ".join(title.split())
    assert any(" ".join(paragraph.split()) in " ".join(block.text.split()) for block in article.blocks)
    assert article.published.isoformat() == "2009-06-14T08:36:00+08:00"


# -- the mid-2024 transition template ----------------------------------------------------------------


def transition(data: dict[str, Any] | None) -> Article:
    page = build.transition_page(data)
    return parse_article(HtmlResponse(url=TRANSITION_URL, body=page.encode("utf-8"), headers={"Content-Type": "text/html; charset=utf-8"}))


def test_the_pop_up_comes_first_in_the_page() -> None:
    page = build.transition_page()
    assert page.index(f"<h1>{build.POPUP_TITLE}</h1>") < page.index(f"<h1>{build.TRANSITION_TITLE}</h1>")
    assert 'property="og:' not in page and "apub:time" not in page


def test_without_a_title_in_data_the_dom_gives_the_articles_heading() -> None:
    data = {k: v for k, v in build.TRANSITION_DATA.items() if k != "title"}
    article = transition(data)
    assert article.title == build.TRANSITION_TITLE
    assert article.extraction == "dom"
    assert article_data(article) == TRANSITION


def test_the_pop_up_heading_is_never_the_title() -> None:
    data = {k: v for k, v in build.TRANSITION_DATA.items() if k != "title"}
    page = build.transition_page(data).replace(f"<h1>{build.TRANSITION_TITLE}</h1>", "")
    with pytest.raises(PageError) as error:
        parse_article(HtmlResponse(url=TRANSITION_URL, body=page.encode("utf-8"), headers={"Content-Type": "text/html; charset=utf-8"}))
    assert error.value.reason == "no_title"


def test_without_origin_content_the_dom_gives_the_same_body() -> None:
    data = {k: v for k, v in build.TRANSITION_DATA.items() if k not in ("originContent", "originAttribute")}
    article = transition(data)
    assert article.extraction == "dom"
    assert article_data(article) == TRANSITION


def test_without_window_data_the_page_is_dropped_not_misread() -> None:
    """No data, no og: or article: meta: no publish time to be had; dropped with its reason."""
    with pytest.raises(PageError) as error:
        transition({})
    assert error.value.reason == "no_data"


@pytest.mark.parametrize(
    ("target", "href"),
    [
        ({"url": "javascript:alert(1)"}, None),
        ({"url": "file:///etc/passwd"}, None),
        ({}, None),
        (None, None),
        ({"url": 'https://example.com/"><script>alert(1)</script>'}, 'https://example.com/"><script>alert(1)</script>'),
        ({"url": "//new.qq.com/rain/a/20240518A0TR0200"}, "https://new.qq.com/rain/a/20240518A0TR0200"),
    ],
)
def test_a_secure_link_is_a_link_only_to_a_web_url(target: Any, href: str | None) -> None:
    data = json.loads(json.dumps(build.TRANSITION_DATA))
    if target is None:
        del data["originAttribute"]["SECURE_LINK_BEGIN_0"]
    else:
        data["originAttribute"]["SECURE_LINK_BEGIN_0"] = target
    article = transition(data)
    paragraph = article.blocks[2]
    assert paragraph.text == "据了解，今年计划新开工改造的小区覆盖加装电梯、管网更新等内容，此前的试点情况见老旧小区改造试点经验。"
    assert [span.href for span in paragraph.spans if span.href] == ([href] if href else [])
    assert all("script" not in block.text for block in article.blocks)


def test_unpaired_markers_leave_their_text() -> None:
    data = json.loads(json.dumps(build.TRANSITION_DATA))
    data["originContent"]["text"] = data["originContent"]["text"].replace("<!--SECURE_LINK_END_0-->", "")
    article = transition(data)
    assert article.blocks[2].text.endswith("此前的试点情况见老旧小区改造试点经验。")
    assert not [span for span in article.blocks[2].spans if span.href]


# -- video covers ----------------------------------------------------------------------------------


def test_a_video_cover_is_the_thumbnail_only_when_nothing_else_is() -> None:
    video = video_block("h0033y6yr5a", "标题", "http://inews.gtimg.com/newsapp_ls/0/11578378634_640480/0")
    assert video.cover == "https://inews.gtimg.com/newsapp_ls/0/11578378634_640480/0"
    base = dict(id="20200413003030", url="", source_url="", template="omn", title="t", published=None)
    assert Article(**base, blocks=[video]).thumbnail == video.cover  # type: ignore[arg-type]
    image = video_block("x", "y")
    assert image.cover == ""
    assert Article(**base, share_image="https://inews.gtimg.com/a/0", blocks=[video]).thumbnail == "https://inews.gtimg.com/a/0"  # type: ignore[arg-type]
    for hostile in ("javascript:alert(1)", "file:///etc/passwd", "data:image/png;base64,AAAA", "/relative.jpg"):
        assert video_block("h0033y6yr5a", "标题", hostile).cover == ""


def test_a_qq_source_link_is_the_media_and_the_link_after_the_time_the_channel() -> None:
    page = build.archive_page().replace(
        '<A href="http://www.chinanews.com.cn/" target=_blank>中国新闻网</A>', '<A href="http://ent.qq.com/" target=_blank>腾讯娱乐</A>'
    ).replace('<A href="http://ent.qq.com/" target=_blank>娱乐频道</A>', '<A href="http://news.qq.com/" target=_blank>新闻频道</A>')
    article = archive(page)
    assert (article.media, article.channel) == ("腾讯娱乐", "news")


def test_many_secure_link_markers_pair_by_number() -> None:
    """Unpaired, repeated and interleaved markers: each BEGIN_n pairs with the next END_n; the rest go."""
    data = json.loads(json.dumps(build.TRANSITION_DATA))
    noise = "<!--SECURE_LINK_BEGIN_7-->" * 2000 + "<!--SECURE_LINK_END_8-->" * 2000
    data["originContent"]["text"] = "<P>" + noise + "甲<!--SECURE_LINK_BEGIN_0-->乙<!--SECURE_LINK_END_0-->丙</P>"
    article = transition(data)
    assert [block.text for block in article.blocks] == ["甲乙丙"]
    assert [(span.text, span.href) for span in article.blocks[0].spans if span.href] == [("乙", build.TRANSITION_LINK)]
