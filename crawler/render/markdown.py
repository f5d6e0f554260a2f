"""Blocks -> the Markdown body and the summary, escaped so that nothing a page wrote becomes markup (pure).

What each block becomes and what is escaped, and why: docs/profiles.md ("The file", "Nothing is
executed or misread").
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from crawler.items import Block, Span

# Always escaped with a backslash: CommonMark's inline markup and the extensions' markers.
_INLINE_ESCAPE_RE = re.compile(r"""([\\`*_\[\]~|>"'@])""")
# Escaped where they would start an extension's construct: typographer sequences ("--", "...",
# ",,", "+-", "(c)"), linkify ("http://", "www.example.com", "a@b.cn").
_CONTEXT_ESCAPE_RE = re.compile(
    r"(?<=-)-|(?<=\.)\.|\.(?=\.)|(?<=\w)\.(?=[^\W\d_])|(?<=,),|(?<=\+)-|\((?=(?:c|r|tm|p)\))|:(?=/)",
    re.IGNORECASE,
)
_ENTITY_RE = re.compile(r"&(?=#?\w+;)")
_TEMPLATE_RE = re.compile(r"\{(?=[{%#:])")
# Line starts that would open a block construct: heading, quote, list item, thematic break,
# definition (": ").
_LINE_START_RE = re.compile(r"^(?:(#{1,6}|[-+:])(?=\s|$)|(>)|(\d{1,9})([.)])(?=\s|$)|(-{3,}|_{3,})\s*$)")


# Every character any rule of ``escape`` starts from: text without one is left as it is.
_ESCAPED_CHARS_RE = re.compile(r"""[\\`*_\[\]~|>"'@.,(:&<{-]""")


def escape(text: str) -> str:
    """Escape text so Markdown, its extensions and template engines show it as it is."""
    return _escape(text) if _ESCAPED_CHARS_RE.search(text) else text


def _escape(text: str) -> str:
    text = _CONTEXT_ESCAPE_RE.sub(r"\\\g<0>", _INLINE_ESCAPE_RE.sub(r"\\\1", text))
    text = _ENTITY_RE.sub("&amp;", text)
    text = text.replace("<", "&lt;")
    return text.replace("{", "&#123;")


def is_web_url(url: str) -> bool:
    """An absolute http(s) URL: the only remote URL a page may have printed (no ``javascript:``,
    ``data:`` or ``file:`` image, no relative one that would point into the site)."""
    return url.lower().startswith(("http://", "https://"))


def escape_url(url: str) -> str:
    """A URL safe inside ``(...)`` and from template engines: spaces, parentheses, braces encoded,
    and the characters no output may hold (controls, bidi)."""
    url = _URL_UNSAFE_RE.sub(lambda m: "".join(f"%{b:02X}" for b in m.group().encode("utf-8")), url)
    for char, code in ((" ", "%20"), ("(", "%28"), (")", "%29"), ("{", "%7B"), ("}", "%7D")):
        url = url.replace(char, code)
    return url


_VIDEO_PAGE_RE = re.compile(r"^https://v\.qq\.com/x/page/([0-9A-Za-z]{1,32})\.html$")
_URL_UNSAFE_RE = re.compile(r"[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff\ufffe\uffff\ud800-\udfff]")


def _styled(text: str, bold: bool, code: bool) -> str:
    if code and not _TEMPLATE_RE.search(text):
        fence = "``" if "`" in text else "`"
        pad = " " if text.startswith("`") or text.endswith("`") else ""
        return f"{fence}{pad}{text}{pad}{fence}"
    escaped = escape(text)
    if not bold:
        return escaped
    core = escaped.strip(" ")
    if not core:
        return escaped
    lead = escaped[: len(escaped) - len(escaped.lstrip(" "))]
    trail = escaped[len(escaped.rstrip(" ")) :]
    return f"{lead}**{core}**{trail}"


def inline(spans: Iterable[Span]) -> str:
    """Spans -> one line of inline Markdown. Adjacent spans of one link share its brackets."""
    out: list[str] = []
    spans = list(spans)
    index = 0
    while index < len(spans):
        span = spans[index]
        if span.href:
            group = [span]
            while index + 1 < len(spans) and spans[index + 1].href == span.href:
                index += 1
                group.append(spans[index])
            label = "".join(_styled(s.text, s.bold, s.code) for s in group).strip()
            out.append(f"[{label}]({escape_url(span.href)})" if label else "")
        else:
            out.append(_styled(span.text, span.bold, span.code))
        index += 1
    return _escape_line_start("".join(out))


def _escape_line_start(line: str) -> str:
    match = _LINE_START_RE.match(line)
    if not match:
        return line
    if match.group(3):  # "1. " -> "1\. "
        return match.group(3) + "\\" + line[len(match.group(3)) :]
    return "\\" + line


def render_block(
    block: Block, image_alt: str, image_paths: Mapping[str, str] | None = None, video_embed: str = ""
) -> str:
    """One block as Markdown (no trailing newline); images link to ``image_paths[src]`` if given;
    a video is its link, with ``video_embed`` (a line with ``{vid}``) above it when its vid is
    plain letters and digits (any other vid is the page's word, never put in a template)."""
    if block.kind == "image":
        src = (image_paths or {}).get(block.src) or (block.src if is_web_url(block.src) else "")
        return f"![{escape(image_alt)}]({escape_url(src)})" if src else ""
    if block.kind == "video":
        title = escape(block.text) or block.src
        link = f"[视频：{title}]({escape_url(block.src)})"
        vid = _VIDEO_PAGE_RE.match(block.src)
        return f"{video_embed.replace('{vid}', vid.group(1))}\n\n{link}" if video_embed and vid else link
    if block.kind == "heading":
        text = inline(block.spans)
        stem = text[:-1]
        # A trailing "#" not already escaped would be read as the heading's closing sequence.
        if text.endswith("#") and (len(stem) - len(stem.rstrip("\\"))) % 2 == 0:
            text = stem + "\\#"
        return "#" * max(2, min(block.level, 6)) + " " + text
    if block.kind == "quote":
        return "> " + inline(block.spans)
    if block.kind == "list":
        return "\n".join(
            (f"{number}. " if block.ordered else "- ") + inline(item)
            for number, item in enumerate(block.items, start=1)
        )
    return inline(block.spans)


def render_body(
    blocks: Iterable[Block],
    source_link: str,
    link_text: str,
    image_alt: str,
    image_paths: Mapping[str, str] | None = None,
    video_embed: str = "",
) -> str:
    """The whole body: blocks, then the link back to the article, ending in one newline."""
    parts = [text for text in (render_block(b, image_alt, image_paths, video_embed) for b in blocks) if text.strip()]
    parts.append(f"[{escape(link_text)}]({escape_url(source_link)})")
    return "\n\n".join(parts) + "\n"


_SUMMARY_KINDS = frozenset(["paragraph", "heading", "quote", "list"])


def summary(blocks: Iterable[Block], length: int, ellipsis: str = "...", *, plain: bool = False) -> str:
    """The first ``length`` characters of the body text (text blocks only), then ``ellipsis``,
    escaped as one Markdown paragraph (Hugo renders a front matter ``summary`` as Markdown), or
    with ``plain`` as it is: the form themes that print a ``description`` as text want."""
    # The text blocks' texts joined by spaces, read no further than the first ``length`` + 1 characters.
    parts: list[str] = []
    size = -1
    for b in blocks:
        if b.kind in _SUMMARY_KINDS:
            part = b.text.strip()
            if part:
                parts.append(part)
                size += len(part) + 1
                if size > length >= 0:  # (a negative length cuts from the end)
                    break
    text = " ".join(parts)
    if plain:
        return text if len(text) <= length else text[:length] + ellipsis
    return cut_summary(text, length, ellipsis)


def cut_summary(text: str, length: int, ellipsis: str = "...") -> str:
    """``text`` cut at ``length`` characters, then ``ellipsis``, escaped as one Markdown paragraph."""
    if len(text) <= length:
        return _escape_line_start(escape(text))
    cut = _escape_line_start(escape(text[:length]))
    # The page's last character must not merge with the ellipsis ("." + "..." is one "…").
    stem, last = cut[:-1], cut[-1:]
    if last in ".!?" and (len(stem) - len(stem.rstrip("\\"))) % 2 == 0:
        cut = stem + "\\" + last
    return cut + ellipsis
