"""Fast paths (clean_spans on paragraphs with nothing to clean, escape on text with no markup character) give what the full paths give."""

from __future__ import annotations

import random

from crawler.items import Span
from crawler.pipelines.clean import _normalise, clean_spans

_PIECES = ["中文", "，", "Latin", "word", " ", "  ", "\n", "\u3000", "\u00a0", "\t", "\u200b", "\u2028", "x", ""]


def test_every_paragraph_is_cleaned_as_the_full_normalisation_cleans_it() -> None:
    rng = random.Random(18)
    for _ in range(5000):
        spans = [
            Span(text="".join(rng.choice(_PIECES) for _ in range(rng.randint(0, 4))), bold=rng.random() < 0.3)
            for _ in range(rng.randint(1, 4))
        ]
        assert clean_spans(spans) == _normalise(spans), spans


def test_a_clean_paragraph_is_kept_as_it_is() -> None:
    spans = [Span(text="第一句 Latin words，"), Span(text="", bold=True), Span(text="加粗", bold=True)]
    assert clean_spans(spans) == [spans[0], spans[2]]


def test_text_without_markup_characters_is_escaped_as_the_full_escape_escapes_it() -> None:
    from crawler.render.markdown import _escape, escape

    alphabet = [chr(c) for c in range(0x20, 0x7F)] + list("中文，。：“”（）ｃ\u212a\u0130\u00a0\u3000\n\t")
    rng = random.Random(18)
    for _ in range(20000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 6)))
        assert escape(text) == _escape(text), text
    for char in map(chr, range(0x10000)):
        assert escape(char) == _escape(char) and escape(f"a{char}b") == _escape(f"a{char}b"), hex(ord(char))


def test_the_dirty_check_answers_as_the_regex_does() -> None:
    from crawler.pipelines.clean import _DIRTY_RE, _TRANSLATION, _is_dirty

    assert not any(chr(code).isprintable() for code in [*_TRANSLATION, 10])
    rng = random.Random(18)
    alphabet = [*_PIECES, " ", "\ue000", "\U000f0000", "\u0378", "\u200d", "a", "中"]
    for _ in range(20000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 5)))
        assert _is_dirty(text) == (_DIRTY_RE.search(text) is not None), repr(text)
    for char in map(chr, range(0x110000)):
        assert _is_dirty(f"a{char}b") == (_DIRTY_RE.search(f"a{char}b") is not None), hex(ord(char))


def test_the_summary_reads_as_far_as_it_needs_and_says_what_the_whole_text_says() -> None:
    from crawler.items import Block
    from crawler.render.markdown import cut_summary, summary

    def whole(blocks: list[Block], length: int, ellipsis: str = "...") -> str:
        """The summary of the whole text, joined first (as ``summary`` did before it read only as far as it needs)."""
        text = " ".join(b.text.strip() for b in blocks if b.kind in ("paragraph", "heading", "quote", "list") and b.text.strip())
        return cut_summary(text, length, ellipsis)

    rng = random.Random(18)
    kinds = ["paragraph", "heading", "quote", "list", "image", "caption", "video"]
    for _ in range(5000):
        blocks = []
        for _ in range(rng.randint(0, 6)):
            kind = rng.choice(kinds)
            text = "".join(rng.choice(["中文", " ", "a.", "!", "\\", "-", "x" * rng.randint(0, 30)]) for _ in range(rng.randint(0, 4)))
            blocks.append(Block(kind, items=[[Span(text)], [Span(text)]]) if kind == "list" else Block(kind, [Span(text), Span("")][: rng.randint(1, 2)]))
        length = rng.choice([-3, 0, 1, 5, 20, 50, 120])
        assert summary(blocks, length) == whole(blocks, length), (blocks, length)
