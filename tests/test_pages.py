"""Saved pages -> Article and Markdown, without a reactor: two expected files per fixture page.

Beside each page ``tests/fixtures/pages/<case>.html``:

* ``tests/fixtures/expected/<case>.json``: the Article extraction gives (``crawler.qq.pages``,
  before cleaning), field by field, so a site change names the field that broke (web-poet style);
* ``tests/fixtures/expected/<case>.md``: the file written for it (cleaned and rendered).

Both were produced by the code and then read against their page (see the README's "Tests"
section). To regenerate after a deliberate change: ``UPDATE_GOLDEN=1 python -m pytest
tests/test_pages.py``, then read the diff.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from typing import Any

import pytest
import yaml

from crawler.pipelines.clean import clean_article
from crawler.qq.pages import PageError, parse_article, true_charset
from crawler.render import RenderOptions, render_article
from tests.conftest import EXPECTED, FIXTURES, all_cases, case_id, page_response
from tests.support.articles import article_data

SPEC = FIXTURES / "spec" / "seed-article.md"
# sha256 of the user's file (shared/spec/seed-article.md), so the copy in the repository is checked
# without a folder outside it.
SPEC_SHA256 = "531ba6a2112d6577c0c6e9dee0adbff69d489d527c8a370cd8d263dbbc4e8905"

# Bad pages and the reason each is dropped with (the ``qq/dropped/<reason>`` counter).
BAD = {
    "bad-truncated-20250207A0BAD100": "bad_json",
    "bad-no-data-20250207A0BAD200": "no_data",
    "bad-empty-body-20250207A0BAD300": "empty_body",
}
GOOD = [case for case in all_cases() if case not in BAD]


def render(case: str, settings, body: bytes | None = None) -> str:  # type: ignore[no-untyped-def]
    article = clean_article(parse_article(page_response(case, body), settings.get("QQ_ARTICLE_URL")))
    return render_article(article, RenderOptions.from_settings(settings))


def test_spec_article_byte_for_byte(settings) -> None:  # type: ignore[no-untyped-def]
    expected = SPEC.read_bytes()
    assert render("seed-20250207A090J800", settings).encode("utf-8") == expected


def test_spec_copy_is_the_users_file() -> None:
    assert hashlib.sha256(SPEC.read_bytes()).hexdigest() == SPEC_SHA256
    assert (EXPECTED / "seed-20250207A090J800.md").read_bytes() == SPEC.read_bytes()


@pytest.mark.parametrize("case", GOOD)
def test_golden(case: str, settings) -> None:  # type: ignore[no-untyped-def]
    golden = EXPECTED / f"{case}.md"
    output = render(case, settings)
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_text(output, encoding="utf-8", newline="\n")
    assert output == golden.read_text(encoding="utf-8")


@pytest.mark.parametrize("case", GOOD)
def test_expected_article(case: str, settings) -> None:  # type: ignore[no-untyped-def]
    path = EXPECTED / f"{case}.json"
    actual = article_data(parse_article(page_response(case), settings.get("QQ_ARTICLE_URL")))
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(json.dumps(actual, ensure_ascii=False, indent=2) + "\n", encoding="utf-8", newline="\n")
    expected = json.loads(path.read_text(encoding="utf-8"))
    assert sorted(actual) == sorted(expected), case
    assert not broken_fields(actual, expected), f"{case}: " + "; ".join(
        f"{name} is {value!r}" for name, value in broken_fields(actual, expected).items()
    )


def broken_fields(actual: dict[str, Any], expected: dict[str, Any]) -> dict[str, Any]:
    """Field (or ``blocks[i]``) -> the value extraction gave, for each that differs from expected."""
    broken = {f: actual.get(f) for f in expected if f != "blocks" and actual.get(f) != expected[f]}
    got, want = actual.get("blocks", []), expected.get("blocks", [])
    for i in range(max(len(got), len(want))):
        if got[i : i + 1] != want[i : i + 1]:
            broken[f"blocks[{i}]"] = got[i] if i < len(got) else None
    return broken


def test_a_broken_field_is_named(settings) -> None:  # type: ignore[no-untyped-def]
    """The comparison names the field: a page whose media changed fails on ``media`` alone."""
    case = "omn-short-20201130A0G1JJ00"
    body = (FIXTURES / "pages" / f"{case}.html").read_bytes().replace('"较真"'.encode(), '"别的媒体"'.encode())
    actual = article_data(parse_article(page_response(case, body), settings.get("QQ_ARTICLE_URL")))
    expected = json.loads((EXPECTED / f"{case}.json").read_text(encoding="utf-8"))
    assert list(broken_fields(actual, expected)) == ["media"]


@pytest.mark.parametrize("case", GOOD)
def test_charset_mismatch_only_where_the_label_is_wrong(case: str) -> None:
    _, mismatch = true_charset(page_response(case))
    if case.startswith("charset-"):
        assert mismatch, case
    else:
        assert mismatch == "", (case, mismatch)


@pytest.mark.parametrize("case", ["charset-gbk-label-20250207A0CS0100", "charset-utf8-label-20250207A0CS0200"])
def test_a_wrong_label_would_give_mojibake(case: str) -> None:
    """Without reading the bytes, the declared charset garbles the title: the fixtures test something."""
    response = page_response(case)
    assert "字符集测试" not in response.text
    assert parse_article(response).title.startswith("字符集测试")


@pytest.mark.parametrize(("case", "reason"), sorted(BAD.items()))
def test_bad_pages_raise_their_reason(case: str, reason: str) -> None:
    with pytest.raises(PageError) as error:
        parse_article(page_response(case))
    assert error.value.reason == reason
    assert page_response(case).url in str(error.value)


def test_home_page_after_deleted_redirect_is_not_an_article() -> None:
    from tests.mirror.server import HOME_PAGE

    with pytest.raises(PageError) as error:
        parse_article(page_response("seed-20250207A090J800", HOME_PAGE.encode("utf-8")))
    assert error.value.reason == "not_article"


def test_dom_fallback_gives_the_same_body(settings) -> None:  # type: ignore[no-untyped-def]
    """Without ``originContent`` the server-rendered ``.qnt-p`` body yields the same file."""
    page = (FIXTURES / "pages" / "seed-20250207A090J800.html").read_text(encoding="utf-8")
    match = re.search(r"window\.DATA = (\{.*?\});\n", page, flags=re.S)
    assert match
    data = json.loads(match.group(1))
    del data["originContent"]
    page = page[: match.start(1)] + json.dumps(data, ensure_ascii=False) + page[match.end(1) :]
    assert render("seed-20250207A090J800", settings, page.encode("utf-8")) == SPEC.read_text(encoding="utf-8")


def test_meta_fallback_without_window_data(settings) -> None:  # type: ignore[no-untyped-def]
    """No ``window.DATA`` at all: title, date and body from the DOM and og:/article: meta."""
    page = (FIXTURES / "pages" / "seed-20250207A090J800.html").read_text(encoding="utf-8")
    page = re.sub(r"window\.DATA = \{.*?\};\n", "", page, flags=re.S)
    output = render("seed-20250207A090J800", settings, page.encode("utf-8"))
    assert output == SPEC.read_text(encoding="utf-8")


def test_chrome_never_reaches_the_body(settings) -> None:  # type: ignore[no-untyped-def]
    for case in GOOD:
        body = render(case, settings).split("\n---\n", 1)[1]
        for chrome in ("问AI", "转播到腾讯微博", "精彩视频推荐", "自动播放", "rv-root", "<style", "function(", "VERTICAL_CARD"):
            assert chrome not in body, (case, chrome)
        assert "\n\n\n" not in body, case


def test_hostile_page_round_trips_and_is_neutralised(settings) -> None:  # type: ignore[no-untyped-def]
    output = render("bad-hostile-20250207A0BAD400", settings)
    front = yaml.safe_load(output.split("---\n")[1])
    assert front["title"] == '他说:"AI #1" {{< 来了 >}}第二行 {% raw %}'
    body = output.split("\n---\n", 1)[1]
    assert "{{<" not in body and "{%" not in body and "{{" not in body
    assert "<b>" not in body and "<script" not in body
    assert "第一段 有不换行空格，零宽字符和全角空格 在中间。" in body
    assert "源码里的换行不是文字，English words keep one space." in body
    assert "\n**小标题**\n" in body


def test_gbk_page_is_decoded_from_gbk_bytes() -> None:
    raw = (FIXTURES / "pages" / "old-gbk-20161014006270.html").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    article = parse_article(page_response("old-gbk-20161014006270"))
    assert article.title == "DeepMind新电脑已可利用记忆自学 人工智能迈上新台阶"
    assert article.media == "TNW中文站"
    assert article.published.isoformat() == "2016-10-14T07:17:00+08:00"


def test_article_info_strings_are_read_as_javascript_reads_them() -> None:
    """Every JavaScript string escape of an old page's ``ARTICLE_INFO``, in either quote."""
    page = (FIXTURES / "pages" / "old-gbk-20161014006270.html").read_bytes().decode("gbk")
    title = "title: 'DeepMind新电脑已可利用记忆自学 人工智能迈上新台阶',"
    assert title in page
    escaped = (
        "title: '\\u300aAI\\u300b \\x41\\'s \\\"brain\\\" a\\\\b http:\\/\\/qq.com {not} [an] 续\\\n行 \\uD83D\\uDE00',"
    )
    changed = page.replace(title, escaped).replace("site: 'tech',", '"site": "te\\"ch}",')
    article = parse_article(page_response("old-gbk-20161014006270", changed.encode("gbk")))
    assert article.title == '《AI》 A\'s "brain" a\\b http://qq.com {not} [an] 续行 😀'
    assert article.channel == 'te"ch}'
    assert article.published.isoformat() == "2016-10-14T07:17:00+08:00"  # fields after them still read


@pytest.mark.parametrize("case", ["current-rich-20260810A0BO7100", "charset-gbk-label-20250207A0CS0100", "old-gbk-20161014006270"])
def test_a_page_is_decoded_once_when_judged(case: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from crawler.qq import pages
    from crawler.qq.judge import judge_page

    reads = []
    real = pages._read
    monkeypatch.setattr(pages, "_read", lambda response: reads.append(response.url) or real(response))
    from scrapy import Request

    response = page_response(case)
    response = response.replace(request=Request(response.url))
    judged = judge_page(response, case_id(case), "https://new.qq.com/rain/a/{id}", "skip")
    assert judged.article is not None and judged.article.id == case_id(case)
    assert len(reads) == 1
