"""Property: no page text ever becomes markup (issue 13, point 3).

Arbitrary text, weighted toward Markdown's and its extensions' special characters, line starts,
CJK and emoji, is cleaned as the pipeline cleans it, rendered as a paragraph (and as the summary),
and parsed back by markdown-it-py configured like Hugo's Goldmark: CommonMark plus strikethrough,
tables, definition lists, footnotes, task lists, linkify and the typographer. The result must be
one paragraph holding exactly the text, with no other token: no emphasis, link, code, HTML,
heading, list, table, footnote, definition, replaced quote or dash.
"""

from __future__ import annotations

import os
from datetime import datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from mdit_py_plugins.deflist import deflist_plugin
from mdit_py_plugins.footnote import footnote_plugin
from mdit_py_plugins.tasklists import tasklists_plugin

from crawler import settings as project_settings
from crawler.items import Article, Block, Span
from crawler.pipelines.clean import clean_text
from crawler.render.frontmatter import article_fields
from crawler.render.markdown import escape, inline, render_block, render_body, summary
from crawler.times import BEIJING

GOLDMARK_LIKE = (
    MarkdownIt("commonmark", {"linkify": True, "typographer": True})
    .enable(["strikethrough", "table", "linkify", "replacements", "smartquotes"])
    .use(deflist_plugin)
    .use(footnote_plugin)
    .use(tasklists_plugin)
)
# markdown-it-py's fuzzy linkify (``example.com`` without a scheme) goes further than Goldmark's:
# keep it on, the escaping must hold against both.

SPECIALS = list("\\`*_[]~|<>&#{}%:!\"'@.-+=^$()/,;?\t ") + ["~~", "~~~", "```", "[^1]", "- [ ] ", "| --- |",
    "{{<", "{{%", "{%", "{#", "{:", "}}", "&amp;", "&#123;", "<script>", "-->", "<!--", "www.", "http://",
    "https://", "a@b.cn", "example.com", "qq.com", "//x.cn", "...", "--", "---", "(c)", "(tm)", "+-", ",,", "<<", ">>", ": ", "1. ", "1) ",
    "# ", "> ", "* ", "+ ", "    ", "\n", "  \n", "\\\n", " #", " ##"]
TEXT = st.lists(
    st.one_of(
        st.sampled_from(SPECIALS),
        st.sampled_from(list("中文字符测试，。：“”（）《》") + ["😀", "👍🏽", "🇨🇳"]),
        st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=4),
        st.sampled_from(list("abcxyz019 ")),
    ),
    min_size=1,
    max_size=24,
).map("".join)
LINE_START = st.sampled_from(["", "# ", "## ", "> ", "- ", "+ ", "* ", "1. ", "2) ", ": ", "~~~", "```", "---",
                              "***", "___", "| a | b |", "[^1]: ", "- [x] ", "    ", "=", "<div>", "{.x}"])
PARAGRAPH = st.tuples(LINE_START, TEXT).map("".join).map(clean_text).filter(bool)


def texts(markdown: str) -> list[str]:
    """The text of each paragraph of a document of paragraphs; AssertionError on any markup."""
    tokens = GOLDMARK_LIKE.parse(markdown)
    assert [t.type for t in tokens] == ["paragraph_open", "inline", "paragraph_close"] * (len(tokens) // 3), tokens
    inlines = [t.children or [] for t in tokens if t.type == "inline"]
    assert all(child.type in ("text", "text_special") for children in inlines for child in children), inlines
    return ["".join(child.content for child in children) for children in inlines]


def plain(markdown: str) -> str:
    """The text of a one-paragraph document; AssertionError on any markup."""
    [text] = texts(markdown)
    return text


def article(blocks: list[Block]) -> Article:
    return Article(
        id="20250207A090J800",
        url="https://new.qq.com/rain/a/20250207A090J800",
        source_url="https://news.qq.com/rain/a/20250207A090J800",
        template="current",
        title="t",
        published=datetime(2025, 2, 7, tzinfo=BEIJING),
        blocks=blocks,
    )


# The same examples on every run, so CI never fails on a new draw; HYPOTHESIS_EXPLORE=1 draws fresh
# ones (and more of them) to look for new counterexamples by hand.
EXPLORE = bool(os.environ.get("HYPOTHESIS_EXPLORE"))
FAST = settings(
    max_examples=5000 if EXPLORE else 400, deadline=None, derandomize=not EXPLORE,
    suppress_health_check=[HealthCheck.filter_too_much],
)  # fmt: skip


@FAST
@given(PARAGRAPH)
def test_a_paragraph_is_its_text(text: str) -> None:
    assert plain(inline([Span(text)])) == text


@FAST
@given(PARAGRAPH, PARAGRAPH)
def test_a_body_is_its_paragraphs(first: str, second: str) -> None:
    # Parsed whole: a definition list or a table would span the blank line between paragraphs.
    body = render_body([Block("paragraph", [Span(first)]), Block("paragraph", [Span(second)])], "https://x/", project_settings.MARKDOWN_LINK_TEXT, project_settings.MARKDOWN_IMAGE_ALT)
    assert texts(body.rsplit("\n\n", 1)[0]) == [first, second]


@FAST
@given(PARAGRAPH)
def test_the_summary_is_its_text(text: str) -> None:
    fields = article_fields(article([Block("paragraph", [Span(text)])]), "%Y-%m-%d %H:%M:%S", 30, "remote")
    if len(text) <= 30:
        assert plain(fields["summary"]) == text
        return
    # The crawler's own "..." is left to the typographer: "…" (markdown-it-py and Goldmark), and
    # markdown-it-py's "?..." or "!..." rule makes it ".." after a "?" or "!".
    rendered = plain(fields["summary"])
    assert rendered in (text[:30] + "…", text[:30] + "..")


@FAST
@given(TEXT.map(clean_text).filter(bool))
def test_no_template_delimiter_survives(text: str) -> None:
    # Hugo shortcodes, Liquid, Nunjucks, Tera and kramdown read "{" followed by one of "{%#:".
    for rendered in (escape(text), summary([Block("paragraph", [Span(text)])], project_settings.MARKDOWN_SUMMARY_LENGTH)):
        assert "{" not in rendered


def test_the_ellipsis_is_ours() -> None:
    # Only the crawler's own "..." is left to the typographer; a page's is kept as written.
    assert summary([Block("paragraph", [Span("字" * 10 + "...")])], 5) == "字" * 5 + "..."
    assert plain(summary([Block("paragraph", [Span("a...b")])], project_settings.MARKDOWN_SUMMARY_LENGTH)) == "a...b"


@FAST
@given(PARAGRAPH)
def test_a_heading_is_its_text(text: str) -> None:
    tokens = GOLDMARK_LIKE.parse(render_block(Block("heading", [Span(text)], level=3), project_settings.MARKDOWN_IMAGE_ALT))
    assert [t.type for t in tokens] == ["heading_open", "inline", "heading_close"], tokens
    children = tokens[1].children or []
    assert all(child.type in ("text", "text_special") for child in children), children
    assert "".join(child.content for child in children) == text


def test_heading_examples() -> None:
    for text in ("#", "a #", "a ##", "a \\#", "# a #"):
        assert plain_heading(render_block(Block("heading", [Span(text)], level=2), project_settings.MARKDOWN_IMAGE_ALT)) == text


def plain_heading(markdown: str) -> str:
    tokens = GOLDMARK_LIKE.parse(markdown)
    assert [t.type for t in tokens] == ["heading_open", "inline", "heading_close"], tokens
    return "".join(child.content for child in tokens[1].children or [])
