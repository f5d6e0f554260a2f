"""The discovery mirror's channels and a crawl of them."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from crawler.qq.ids import article_id
from tests.mirror.server import Mirror
from tests.support.crawl import Crawl, crawl

# The mirror's feeds answer busy once: asked again at once.
FAST = ("-s", "QQ_FEED_BUSY_DELAY=0.01")

# The mirror's default channels (QQ_CHANNELS = top, tech, finance, world), page by page.
TOP = [["20260810A0TP0100", "20260810A0TP0200", "20260810A0TP0300", "20260810A0SH0100"],
       ["20260809A0TP0400", "20260809A0TP0500"],
       ["20260808A0TP0600", "20260808A0TP0700"]]  # fmt: skip


TECH = [["20260810A0TC0100"], ["20260807A0TC0300", "20260807A0TC0400"]]  # and SH01, also in top


FINANCE = [["20260810A0FN0100", "20260810A0FN0200"], ["20260806A0FN0300"]]


def flat(*pages: list[str]) -> set[str]:
    return {ident for page in pages for ident in page}


def fetched(mirror: Mirror) -> Counter[str]:
    """How many times each article page was asked for, at whatever URL form (the feed's links)."""
    found = (article_id("https:/" + path.split("?", 1)[0]) for path in mirror.requests)
    return Counter(ident for ident in found if ident)


def run(site: tuple[Mirror, str], output: Path, *args: str) -> Crawl:
    result = crawl(site[1], output, *FAST, *args)
    assert result.returncode == 0, result.log[-3000:]
    assert "Traceback" not in result.log
    return result
