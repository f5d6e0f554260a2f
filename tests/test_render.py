"""Rendering: front matter YAML and Markdown body, as pure functions."""

from __future__ import annotations

import pytest
import yaml

from crawler import settings as project_settings
from crawler.items import Block, Span
from crawler.render import RenderOptions, render_article
from crawler.render.frontmatter import front_matter_values, to_yaml
from crawler.render.markdown import escape, inline, render_body, summary
from crawler.render.profiles import HUGO_FRONT_MATTER
from tests.support.articles import article


@pytest.mark.parametrize(
    "title",
    [
        'He said "hi"',
        "key: value",
        "# not a comment",
        "line one\nline two",
        "{{< shortcode >}}",
        "- dash",
        "'single'",
        "yes",
        "null",
        "@at `tick` |pipe >fold",
        "\\back\\slash",
        "很长的标题" * 40,
        "tab\there",
        "  spaces around  ",
    ],
)
def test_hostile_titles_round_trip(title: str, settings) -> None:  # type: ignore[no-untyped-def]
    text = render_article(article(title), RenderOptions.from_settings(settings))
    front = text.split("---\n")[1]
    assert yaml.safe_load(front)["title"] == title
    assert front.startswith('title: "')
    assert len(front.splitlines()) == len(HUGO_FRONT_MATTER) + 7  # one line per list item: 4 lists of 1, 1 of 3


def test_yaml_conventions() -> None:
    text = to_yaml({"s": "中文", "b": False, "l": ["a", "b"], "e": ""})
    assert text == 's: "中文"\nb: false\nl:\n  - "a"\n  - "b"\ne: ""\n'


def test_front_matter_template_fields() -> None:
    values = front_matter_values({"title": "{title}", "lead": "", "x": "{nope!}"}, {"title": "T"})
    assert values == {"title": "T", "lead": "", "x": "{nope!}"}
    with pytest.raises(KeyError):
        front_matter_values({"title": "{missing}"}, {"title": "T"})


def test_settings_change_static_fields_without_code(settings) -> None:  # type: ignore[no-untyped-def]
    settings.set("MARKDOWN_FRONT_MATTER", {"title": "{title}", "date": "{date}", "description": "{summary}", "draft": True})
    settings.set("MARKDOWN_DATE_FORMAT", "iso")
    text = render_article(article(), RenderOptions.from_settings(settings))
    assert text.startswith('---\ntitle: "标题"\ndate: "2025-02-07T21:54:12+08:00"\ndescription: "正文。"\ndraft: true\n---\n')


def test_summary_rules() -> None:
    fifty = "字" * 50
    assert summary([Block("paragraph", [Span(fifty)])], project_settings.MARKDOWN_SUMMARY_LENGTH) == fifty
    assert summary([Block("paragraph", [Span(fifty + "多")])], project_settings.MARKDOWN_SUMMARY_LENGTH) == fifty + "..."
    blocks = [Block("image", src="https://x/1"), Block("paragraph", [Span("第一段")]), Block("paragraph", [Span("第二段", bold=True)])]
    assert summary(blocks, project_settings.MARKDOWN_SUMMARY_LENGTH) == "第一段 第二段"


def test_inline_markup() -> None:
    spans = [Span("前"), Span(" 粗体 ", bold=True), Span("后"), Span("链接", href="https://a.example/x(1)"), Span("code", code=True)]
    assert inline(spans) == "前 **粗体** 后[链接](https://a.example/x%281%29)`code`"
    assert inline([Span("1. 不是列表")]) == "1\\. 不是列表"
    assert inline([Span("# 不是标题")]) == "\\# 不是标题"
    assert inline([Span("#话题#")]) == "#话题#"
    assert inline([Span("> 不是引用")]) == "\\> 不是引用"


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("{{< x >}}", "&#123;&#123;&lt; x \\>}}"),
        ("{% if %}", "&#123;% if %}"),
        ("{{ v }}", "&#123;&#123; v }}"),
        ("{# c #}", "&#123;# c #}"),
        ("a*b_c", "a\\*b\\_c"),
        ("<b>raw</b>", "&lt;b\\>raw&lt;/b\\>"),
        ("&amp; &#1; AT&T", "&amp;amp; &amp;#1; AT&T"),
        ("(本文来自第一财经)", "(本文来自第一财经)"),
        ("“引号”：冒号", "“引号”：冒号"),
    ],
)
def test_escape(raw: str, escaped: str) -> None:
    assert escape(raw) == escaped


def test_body_layout() -> None:
    blocks = [
        Block("image", src="https://inews.gtimg.com/a/641"),
        Block("paragraph", [Span("段落")]),
        Block("paragraph", [Span("小标题", bold=True)]),
        Block("heading", [Span("二级")], level=2),
        Block("quote", [Span("引用")]),
        Block("list", items=[[Span("一")], [Span("二")]], ordered=True),
        Block("video", [Span("视频标题")], src="https://v.qq.com/x/page/v1.html"),
        Block("caption", [Span("图注")]),
    ]
    assert render_body(blocks, "https://new.qq.com/rain/a/ID", project_settings.MARKDOWN_LINK_TEXT, project_settings.MARKDOWN_IMAGE_ALT) == (
        "![图片](https://inews.gtimg.com/a/641)\n\n段落\n\n**小标题**\n\n## 二级\n\n> 引用\n\n1. 一\n2. 二\n\n"
        "[视频：视频标题](https://v.qq.com/x/page/v1.html)\n\n图注\n\n[qq](https://new.qq.com/rain/a/ID)\n"
    )
