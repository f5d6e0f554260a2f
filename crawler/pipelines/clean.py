"""Cleaning: whitespace of every kind normalised in the article's text, punctuation untouched.

* zero-width characters (ZWSP, ZWNJ, ZWJ, word joiner, BOM, soft hyphen) are removed, and so
  are the characters no output format may hold (``FORBIDDEN``: what XML 1.0 forbids, which would
  make a site's RSS feed ill-formed, C1 controls, noncharacters, bidi overrides and marks);
* no-break, full-width (U+3000) and other typographic spaces, tabs and carriage returns become
  one ASCII space; runs of spaces collapse to one; a paragraph starts and ends with no space;
* a line break inside a paragraph (an artefact of the page's HTML source, not of the text) is
  removed where it touches a Chinese character or full-width punctuation, as a browser lays out
  Chinese text, and becomes one space between Latin words.

``clean_article`` is pure; ``CleanPipeline`` applies it and drops an article left with no body.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from crawler.items import Article, Block, Span
from crawler.ledger import Dropped
from crawler.stats import CLEAN_DROPPED, inc

logger = logging.getLogger(__name__)

_REMOVED = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)
# Characters no output may hold: what XML 1.0 forbids (C0 controls but tab, newline and CR, lone
# surrogates, U+FFFE/U+FFFF), the C1 controls and noncharacters it discourages, and the bidi
# embeddings, overrides, isolates and marks that would reorder what a reader sees.
FORBIDDEN = frozenset(
    [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), *range(0x7F, 0x85), *range(0x86, 0xA0),
     *range(0xD800, 0xE000), *range(0xFDD0, 0xFDF0), *(plane + 0xFFFE for plane in range(0, 0x110000, 0x10000)),
     *(plane + 0xFFFF for plane in range(0, 0x110000, 0x10000)),
     0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)]
)  # fmt: skip
_REMOVED.update(dict.fromkeys(FORBIDDEN, None))
_SPACES = dict.fromkeys(
    map(ord, "\t\r\f\v\u00a0\u3000\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f"),
    " ",
)
_BREAKS = dict.fromkeys(map(ord, "\u2028\u2029\u0085"), "\n")
_TRANSLATION = {**_REMOVED, **_SPACES, **_BREAKS}


def strip_forbidden(text: str) -> str:
    """``text`` without the characters no output may hold (``FORBIDDEN``), whitespace untouched."""
    return text.translate(_FORBIDDEN_TABLE)


_FORBIDDEN_TABLE = dict.fromkeys(FORBIDDEN, None)
_RUN_RE = re.compile(r"[ \n]+")
# Anything clean_spans would change: a character it translates, a line break, two spaces in a row,
# or a space at the start or end of the paragraph. Most paragraphs have none of these.
_DIRTY_RE = re.compile("[" + re.escape("".join(map(chr, _TRANSLATION)) + "\n") + "]|  |^ | $")


def _is_dirty(text: str) -> bool:
    """``_DIRTY_RE.search(text)``, without the regex for printable text (most paragraphs): every
    character it translates, and the line break, is one ``str.isprintable`` refuses."""
    if text.isprintable():
        return "  " in text or text[:1] == " " or text[-1:] == " "
    return _DIRTY_RE.search(text) is not None


def _is_wide(char: str) -> bool:
    """Chinese/Japanese/Korean characters and full-width punctuation, where spaces are not words."""
    return unicodedata.east_asian_width(char) in ("W", "F")


def clean_spans(spans: list[Span]) -> list[Span]:
    """Normalise whitespace across a paragraph's spans (a run may cross span boundaries)."""
    if not _is_dirty("".join([span.text for span in spans])):
        # Nothing to change (every single space between two characters stays): only empty spans go.
        return [span for span in spans if span.text]
    return _normalise(spans)


def _normalise(spans: list[Span]) -> list[Span]:
    chars: list[tuple[str, int]] = [
        (char, index)
        for index, span in enumerate(spans)
        for char in span.text.translate(_TRANSLATION)
    ]
    text = "".join(char for char, _ in chars)
    out: list[tuple[str, int]] = []
    position = 0
    for match in _RUN_RE.finditer(text):
        start, end = match.span()
        out.extend(chars[position:start])
        before = text[start - 1] if start else ""
        after = text[end] if end < len(text) else ""
        drop = not before or not after or ("\n" in match.group() and (_is_wide(before) or _is_wide(after)))
        if not drop:
            out.append((" ", chars[start][1]))
        position = end
    out.extend(chars[position:])
    cleaned: list[Span] = []
    for index, span in enumerate(spans):
        piece = "".join(char for char, owner in out if owner == index)
        if piece:
            cleaned.append(Span(text=piece, bold=span.bold, code=span.code, href=span.href))
    return cleaned


def clean_text(text: str) -> str:
    """Normalise whitespace in a single line of text (titles, names)."""
    spans = clean_spans([Span(text=text)])
    return spans[0].text if spans else ""


def clean_block(block: Block) -> Block | None:
    """The block with clean text, or None when nothing is left of it."""
    if block.kind == "image":
        return block if block.src else None
    if block.kind == "list":
        items = [spans for spans in map(clean_spans, block.items) if spans]
        return Block(kind="list", items=items, ordered=block.ordered) if items else None
    spans = clean_spans(block.spans)
    if not spans and block.kind != "video":
        return None
    return Block(kind=block.kind, spans=spans, src=block.src, level=block.level, cover=block.cover)


def clean_article(article: Article) -> Article:
    """Clean every text field of the article in place and return it."""
    article.title = clean_text(article.title)
    article.media = clean_text(article.media)
    article.keywords = [k for k in map(clean_text, article.keywords) if k]
    article.blocks = [b for b in map(clean_block, article.blocks) if b is not None]
    return article


class CleanPipeline:
    """Normalises the text of every Article; drops one whose body ends up empty.

    Settings: ``CLEAN_ENABLED`` Stats: ``clean/dropped/empty_body``, ``clean/dropped/no_title``.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CleanPipeline:
        if not crawler.settings.getbool("CLEAN_ENABLED"):
            raise NotConfigured("CLEAN_ENABLED is off")
        return cls(crawler)

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, Article):
            return item
        clean_article(item)
        reason = "no_title" if not item.title else "" if item.blocks else "empty_body"
        if reason:
            inc(self.crawler, CLEAN_DROPPED, reason=reason)
            logger.warning("Dropped %s (%s): %s after cleaning", item.id, item.source_url, reason)
            raise Dropped(reason, f"nothing left of {item.id} ({item.source_url}) after cleaning")
        return item
