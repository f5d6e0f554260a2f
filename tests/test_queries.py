"""The page queries compiled once in ``crawler.qq.pages`` find what parsel's ``sel.css`` finds."""

from __future__ import annotations

from pathlib import Path

import pytest
from parsel import Selector

from crawler.qq import pages

PAGES = sorted((Path(__file__).parent / "fixtures" / "pages").rglob("*.html"))
ODD = [
    '<html id="article-content"><body><div id="article-content">a</div><p id="article-content ">b</p></body></html>',
    '<div ID="Cnt-Main-Article-QQ"><div id="Cnt-Main-Article-QQ"><h1>t</h1></div></div><div id="cnt-main-article-qq"></div>',
    '<div id="article-content" id="x"><section class="rich_media_content x">a</section></div><div class="qnt-p">b</div>',
    '<meta property="og:url" name="keywords" content=" a "><meta name="og:url" content="b"><body><meta name="og:url" content="c">',
    "<p>no ids at all</p>",
    '<meta name="keywords"><meta property="keywords" content=""><meta name="keywords" content="k"><meta content="c">',
    '<meta property="og:image" name="og:url" content="i"><meta property="og:url" content="u"><META NAME="category" CONTENT="c">',
    '<div class="LEFT"><h1>t</h1></div><div class=" content-article "><p class="one-p x">p</p></div>',
    '<span class="where"><a>m</a></span><span class="pubTime">2016年10月14日07:17</span><div class="hd"><h1>h</h1></div>',
    '<h1 id="article-title">标题</h1><span class="media-name">媒体</span>',
]
ELEMENTS = {
    "_OLD_BODY": "#Cnt-Main-Article-QQ", "_ARTICLE_CONTENT": "#article-content",
    "_OMN_BODY": "div.content-article p.one-p, div.LEFT", "_OMN_CONTAINERS": "div.content-article",
    "_DOM_TITLE_OR_OG": "h1#article-title, meta[property='og:title']", "_ANY_ARTICLE": "h1, #article-content",
    "_RICH_CONTAINERS": "#article-content .rich_media_content", "_QNT_CONTAINERS": "#article-content .qnt-p",
}
TEXTS = {
    "_DOM_TITLE": "h1#article-title::text", "_MEDIA_NAME": ".media-name::text", "_OMN_TITLE": "div.LEFT h1::text",
    "_OLD_TITLE": "#C-Main-Article-QQ h1::text, .hd h1::text",
    "_OLD_TIME": "span.pubTime::text, span.a_time::text, span.article-time::text",
    "_OLD_MEDIA": "span.where::text, span.a_source::text, span.where a::text",
}  # fmt: skip


@pytest.mark.parametrize("html", [p.read_bytes().decode("utf-8", "replace") for p in PAGES] + ODD)
def test_compiled_queries_find_what_parsel_finds(html: str) -> None:
    sel = Selector(text=html)
    for name, css in ELEMENTS.items():
        assert getattr(pages, name)(sel.root) == [s.root for s in sel.css(css)], css
    for name in ("og:url", "keywords", "og:title", "og:image", "article:published_time"):
        expected = sel.xpath(f"//meta[@property='{name}' or @name='{name}']/@content").get(default="").strip()
        assert pages._meta(sel.root, name) == expected
    for name, css in TEXTS.items():
        assert pages._first(getattr(pages, name), sel.root) == sel.css(css).get(default=""), css


EDGES = [b"", b" ", b"\n", b"\x1c", b"\x1f ", b"\xc2\xa0", b"\xc2\x85", b"\xe3\x80\x80", b"\xef\xbb\xbf", b"\x00", b"x", b"<", b"\xe4\xb8\xad"]
BODIES = [p.read_bytes() for p in PAGES] + [a + b + b"<p>\xe4\xb8\xad</p>" + c for a in EDGES for b in (b"", b"\t") for c in EDGES]


@pytest.mark.parametrize("charset", ["utf-8", "gbk"])
def test_the_page_is_read_and_parsed_as_response_text_and_parsel_read_and_parse_it(charset: str) -> None:
    from lxml import etree
    from scrapy.http import HtmlResponse

    for body in BODIES:
        response = HtmlResponse("https://news.qq.com/rain/a/20250207A090J800", body=body, encoding=charset)
        read, mismatch, utf8 = pages._read(response)
        assert (read.encoding, mismatch) == (lambda r, m: (r.encoding, m))(*pages.true_charset(response))
        assert utf8 is None or utf8 == read.text
        text = read.text
        expected = Selector(text=pages.html_blocks.flatten(text)).root
        assert etree.tostring(pages._parse(read, text, utf8 is not None)) == etree.tostring(expected), body[:40]


FRAGMENTS = [
    "<p>a</p>", "  <p>a</p>", "lead <b>b</b> tail", "\n\t<p>a</p>\n", "<html><body><p>a</p></body></html>", "<!DOCTYPE html><p>a</p>",
    "<body class='ac-ask-ai'><p>a</p></body>", "<body id='Status'>x</body>", "</body><p>a</p><body><p>b</p>", "<head><title>t</title></head><p>a</p>",
    "<!-- c --><p>a</p>", "text only", "<p>a</p></html><p>after</p>", "<frameset><frame></frameset>", "<ul><li>x<ol><li>y</li></ol></li></ul>",
    "<script>videoArr.push({\"vid\": \"v1\", \"title\": \"t\"})</script><p>a</p>", "<p>a\x00b</p>", "<iframe><p>in</p>", "<br>a<br>b",
]  # fmt: skip


@pytest.mark.parametrize("fragment", FRAGMENTS + [p.read_bytes().decode("utf-8", "replace")[:3000] for p in PAGES[:8]])
def test_fragments_are_walked_as_lxml_html_wraps_them(fragment: str) -> None:
    from lxml import html as lxml_html

    from crawler.qq import blocks

    def expected() -> object:
        html = blocks.flatten(fragment.replace("\x00", ""))
        root = lxml_html.fragment_fromstring(html, create_parent="div", parser=blocks._PARSER)
        return blocks.blocks_from_elements([root])

    def outcome(make: object) -> object:
        try:
            return make()  # type: ignore[operator]
        except Exception as error:  # noqa: BLE001
            return type(error).__name__

    assert outcome(lambda: blocks.blocks_from_html(fragment)) == outcome(expected)
