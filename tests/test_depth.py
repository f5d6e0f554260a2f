"""The depth scan (``crawler.qq.blocks.max_depth``) gives what its first, plainer form gave.

``max_depth`` decides whether a page is flattened before it is parsed, so it must decide exactly
as before on every input: here its possessive regexes and running-sum arithmetic are compared with
the lazy regexes and the step-by-step loop it replaced, on random markup made of the pieces that
matter (start, end, void and self-closing tags in either case, quoted attributes holding ``>``,
unbalanced quotes, comments, raw-text elements, stray ``<`` and ``/``)."""

from __future__ import annotations

import random
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from crawler.qq import blocks
from crawler.qq.blocks import VOID_TAGS, flatten, is_deep, max_depth

_LAZY_TAG_RE = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9:-]*)\b(?:[^>\"']|\"[^\"]*\"|'[^']*')*?(/?)>|<!--.*?-->", re.S)
_LAZY_RAW_RE = re.compile(r"<(script|style|textarea|title|xmp)\b.*?</\1\s*>", re.S | re.I)


def reference_depth(html: str) -> int:
    depth = deepest = 0
    for match in _LAZY_TAG_RE.finditer(_LAZY_RAW_RE.sub("", html)):
        closing, name, self_closing = match.group(1, 2, 3)
        if name is None or name.lower() in VOID_TAGS or self_closing:
            continue
        depth = max(depth - 1, 0) if closing else depth + 1
        deepest = max(deepest, depth)
    return deepest


PIECES = [
    "<div>", "</div>", "<DIV class='a>b'>", "<p>", "</P>", "<p/>", "<br>", "<BR/>", "<img src=\"x>y\">",
    "<a-b->", "<a:b >", "<a_b>", "</a>", "<a href=\"x\" / >", "<a //>", "<x \"unclosed>", "<y 'q>", "'", "\"",
    "<!-- c -->", "<!--->", "<!-->", "-->", "<!--", "<script>", "</script>", "</SCRIPT >", "<Style a=1>",
    "</style>", "<title>", "</titlex>", "</title\n>", "<textarea>", "</textarea>", "<xmp>", "</xmp>", "<",
    "/", ">", "-", "text", "中文", " ", "\n", "<span>", "</span>", "<section>", "<b>", "</b>", "<meta>",
]  # fmt: skip
MARKUP = st.lists(st.sampled_from(PIECES), max_size=60).map("".join)


@settings(max_examples=3000)
@given(MARKUP)
def test_depth_is_what_the_step_by_step_scan_said(html: str) -> None:
    assert max_depth(html) == reference_depth(html)


def test_tag_matches_are_those_of_the_lazy_patterns() -> None:
    rng = random.Random(18)
    for _ in range(3000):
        html = "".join(rng.choice(PIECES) for _ in range(rng.randint(0, 80)))
        assert blocks._RAW_RE.sub("", html) == _LAZY_RAW_RE.sub("", html), html
        assert [m.group(0, 1, 2, 3) for m in blocks._TAG_RE.finditer(html)] == [
            m.group(0, 1, 2, 3) for m in _LAZY_TAG_RE.finditer(html)
        ], html
        assert [m.span() for m in blocks._RAW_RE.finditer(html)] == [m.span() for m in _LAZY_RAW_RE.finditer(html)]


def test_deep_and_shallow() -> None:
    assert max_depth("") == 0
    assert max_depth("</div></div><div>") == 1  # the depth never goes below 0
    assert max_depth("<div>" * 200 + "</div>" * 200) == 200
    assert max_depth("<p>" * 129) == 129
    assert flatten("<p>a</p>" * 300) == "<p>a</p>" * 300


@settings(max_examples=2000)
@given(MARKUP, st.integers(min_value=0, max_value=8))
def test_is_deep_decides_as_the_depth_does(html: str, limit: int) -> None:
    assert is_deep(html, limit) == (reference_depth(html) > limit)
