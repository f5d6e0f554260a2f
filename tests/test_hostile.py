"""Hostile input, unit by unit (issue 13): characters no output may hold, flags, deep and odd
structure, file modes. The URL policy is in test_urls.py, the escaping in test_escaping.py, the
crawl over a corpus of hostile pages in test_hostile_crawl.py."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest

from crawler import files
from crawler.items import Block, Span
from crawler.pipelines.clean import FORBIDDEN, clean_block, clean_text
from crawler.qq.blocks import blocks_from_html
from crawler.qq.flags import flag

# -- point 4: characters ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "char",
    ["\x00", "\x08", "\x1b", "\x7f", "\x9b", "\ufffe", "\uffff", "\U0001fffe", "\ud800", "\udfff",
     "\u202e", "\u202d", "\u2066", "\u2069", "\u200f", "\u061c", "\ufeff"],
)  # fmt: skip
def test_forbidden_characters_never_survive_cleaning(char: str) -> None:
    assert clean_text(f"标题{char}正文") == "标题正文"
    block = clean_block(Block("paragraph", [Span(f"a{char}b", bold=True), Span(char)]))
    assert block is not None and block.text == "ab"


def test_line_and_paragraph_separators_are_breaks_not_text() -> None:
    assert clean_text("中文\u2028中文") == "中文中文"
    assert clean_text("one\u2029two") == "one two"


def test_every_xml_forbidden_character_is_listed() -> None:
    allowed = {0x09, 0x0A, 0x0D}
    assert {c for c in range(0x20) if c not in allowed} <= FORBIDDEN
    assert {0xFFFE, 0xFFFF, 0xD800, 0xDBFF, 0xDC00, 0xDFFF} <= FORBIDDEN
    assert not {ord(c) for c in "\t\n\r 中a😀"} & FORBIDDEN


# -- point 7: flags -----------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["0", "false", "False", " 0 ", 0, 0.0, False, None, "", "null", "no", "off", [], {}, "收费?"])
def test_flags_that_mean_no(value: object) -> None:
    assert flag(value) is False


@pytest.mark.parametrize("value", ["1", "true", "TRUE", " yes ", "on", 1, 2, True, "2"])
def test_flags_that_mean_yes(value: object) -> None:
    assert flag(value) is True


# -- point 5: structure -------------------------------------------------------------------------


@pytest.mark.parametrize("tag", ["div", "span", "section", "b", "blockquote", "custom-tag", "font", "li"])
def test_deep_nesting_keeps_every_word(tag: str) -> None:
    depth = 5000
    html = f"<p>开头</p>{f'<{tag}>' * depth}<p>最深处</p>{f'</{tag}>' * depth}<p>结尾</p>"
    limit = sys.getrecursionlimit()
    text = " ".join(b.text for b in blocks_from_html(html))
    assert sys.getrecursionlimit() == limit
    assert "开头" in text and "最深处" in text and "结尾" in text


def test_deep_nested_lists_keep_every_item() -> None:
    depth = 3000
    html = "<ul><li>第一项" * depth + "</li></ul>" * depth + "<p>结尾</p>"
    blocks = blocks_from_html(html)
    assert blocks[0].kind == "list" and blocks[0].text.count("第一项") == depth
    assert blocks[-1].text == "结尾"


@pytest.mark.parametrize(
    "player",
    ["<embed src='x.swf'>", "<embed src='x.swf'/>", "<object data='x'>", "<video src='v.mp4'>",
     "<audio src='a.mp3'>", "<qqvideo vid='x'>", "<iframe src='x'>", "<canvas>", "<video><source src='v'>"],
)  # fmt: skip
def test_players_and_unknown_tags_never_hide_what_follows(player: str) -> None:
    html = f"<p>前面</p>{player}<p>后面第一段</p><p>后面第二段</p>"
    texts = [b.text for b in blocks_from_html(html)]
    assert texts == ["前面", "后面第一段", "后面第二段"]


def test_players_fallback_text_is_not_article_text() -> None:
    html = "<p>前面</p><video src='v.mp4'>您的浏览器不支持视频</video><p>后面</p>"
    assert [b.text for b in blocks_from_html(html)] == ["前面", "后面"]


# -- point 6: file modes ------------------------------------------------------------------------


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o027, 0o640), (0o002, 0o664)])
def test_written_files_follow_the_umask(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, umask: int, mode: int) -> None:
    monkeypatch.setattr(files, "_FILE_MODE", None)
    old = os.umask(umask)
    try:
        files.write_atomic(tmp_path / "a" / "file.md", "text\n")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "a" / "file.md").stat().st_mode) == mode


def test_urls_in_output_hold_no_control_or_bidi_character() -> None:
    from crawler.render.markdown import escape_url

    assert escape_url("https://x.cn/a\x08b\u202ec d") == "https://x.cn/a%08b%E2%80%AEc%20d"


def test_a_deep_page_dom_is_read_whole() -> None:
    from scrapy.http import HtmlResponse

    from crawler.qq.pages import parse_article

    deep = "<div>" * 4000 + "<p>最深处</p>" + "</div>" * 4000
    page = (
        '<html><head><meta property="og:title" content="标题"><meta property="article:published_time" '
        f'content="2025-02-07 21:54:12"></head><body><h1 id="article-title">标题</h1><div id="article-content">'
        f"<p>开头</p>{deep}<p>结尾</p></div></body></html>"
    )
    response = HtmlResponse("https://news.qq.com/rain/a/20250207A090J800", body=page.encode(), encoding="utf-8")
    texts = [b.text for b in parse_article(response).blocks]
    assert texts == ["开头", "最深处", "结尾"]


def test_a_video_id_stays_one_path_segment_of_the_video_site() -> None:
    from crawler.qq.blocks import video_block

    assert video_block("x00abc", "t").src == "https://v.qq.com/x/page/x00abc.html"
    assert video_block("../../a) ![x](javascript:alert(1)", "t").src.startswith("https://v.qq.com/x/page/..%2F..%2Fa%29%20")
