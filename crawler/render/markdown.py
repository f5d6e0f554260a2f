"""Blocks -> the Markdown body (pure).

One block per line group, separated by one blank line: paragraphs on one line with ``**bold**``,
```code``` and ``[links](url)``; bold-only paragraphs therefore come out as ``**sub-heading**``;
``<h2>``-``<h6>`` as ATX headings; images as ``![图片](url)``; captions as plain paragraphs;
quotes with ``> ``; lists with ``- `` or ``1. ``; videos as a link to their page.

Text is escaped so that nothing the page wrote is read as markup by Markdown or by the site
builder's template engine: Markdown punctuation that would change meaning, raw HTML (``<``), HTML
entities, and template delimiters (``{{``, ``{%``, ``{#`` for Hugo shortcodes, Liquid, Nunjucks and
Tera; ``{:`` for kramdown's attribute lists) whose first brace becomes ``&#123;``, which every
Markdown renderer shows as ``{``. Braces in URLs are percent-encoded, and a code span holding a
template delimiter is written as plain escaped text: template engines run inside code spans too,
where an entity would show as written.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from crawler.items import Block, Span

_INLINE_ESCAPE_RE = re.compile(r"([\\`*_\[\]])")
_ENTITY_RE = re.compile(r"&(?=#?\w+;)")
_TEMPLATE_RE = re.compile(r"\{(?=[{%#:])")
# Line starts that would open a block construct: heading, quote, list item, thematic break.
_LINE_START_RE = re.compile(r"^(?:(#{1,6}|[-+])(?=\s|$)|(>)|(\d{1,9})([.)])(?=\s|$)|(-{3,}|_{3,})\s*$)")


def escape(text: str) -> str:
    """Escape text so Markdown and template engines show it as it is."""
    text = _INLINE_ESCAPE_RE.sub(r"\\\1", text)
    text = _ENTITY_RE.sub("&amp;", text)
    text = text.replace("<", "&lt;")
    return _TEMPLATE_RE.sub("&#123;", text)


def escape_url(url: str) -> str:
    """A URL safe inside ``(...)`` and from template engines: spaces, parentheses, braces encoded."""
    for char, code in ((" ", "%20"), ("(", "%28"), (")", "%29"), ("{", "%7B"), ("}", "%7D")):
        url = url.replace(char, code)
    return url


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


def render_block(block: Block, image_alt: str = "图片", image_paths: Mapping[str, str] | None = None) -> str:
    """One block as Markdown (no trailing newline); images link to ``image_paths[src]`` if given."""
    if block.kind == "image":
        src = (image_paths or {}).get(block.src, block.src)
        return f"![{escape(image_alt)}]({escape_url(src)})"
    if block.kind == "video":
        title = escape(block.text) or block.src
        return f"[视频：{title}]({escape_url(block.src)})"
    if block.kind == "heading":
        return "#" * max(2, min(block.level, 6)) + " " + inline(block.spans)
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
    link_text: str = "qq",
    image_alt: str = "图片",
    image_paths: Mapping[str, str] | None = None,
) -> str:
    """The whole body: blocks, then the link back to the article, ending in one newline."""
    parts = [text for text in (render_block(b, image_alt, image_paths) for b in blocks) if text.strip()]
    parts.append(f"[{escape(link_text)}]({escape_url(source_link)})")
    return "\n\n".join(parts) + "\n"


def summary(blocks: Iterable[Block], length: int = 50, ellipsis: str = "...") -> str:
    """The first ``length`` characters of the body text (text blocks only), then ``ellipsis``."""
    text = " ".join(
        b.text.strip() for b in blocks if b.kind in ("paragraph", "heading", "quote", "list") and b.text.strip()
    )
    return text if len(text) <= length else text[:length] + ellipsis
