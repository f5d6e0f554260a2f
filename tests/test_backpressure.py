"""Feed paging waits for the articles it found: memory stays flat however long the feed.

Every feed page lists 20 articles. If the next page were fetched before the articles of the last
one, the scheduler would hold every article of the feed as a queued request at once (tens of MB
at 100,000 articles, docs/BENCHMARKS.md). A real crawl of a synthetic feed of 400 articles (20
pages), with Scrapy's own concurrency (16 requests at once): when page N is asked for, the article
pages of the pages before it have been asked for, but for at most the page in hand and a few in
flight.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.mirror.synthetic import SyntheticSite, feed_args
from tests.support.crawl import crawl, stat

ARTICLES = 400
PAGE = 20
# Politeness relaxed as the benchmarks relax it (bench/common.py), so the queue is what is measured.
RELAXED = {"AUTOTHROTTLE_ENABLED": "False", "DOWNLOAD_DELAY": "0", "CONCURRENT_REQUESTS": "16",
           "CONCURRENT_REQUESTS_PER_DOMAIN": "16", "DOWNLOAD_SLOTS": "{}"}  # fmt: skip


@pytest.fixture
def site() -> Iterator[tuple[SyntheticSite, str]]:
    synthetic = SyntheticSite(articles=ARTICLES, feed_page_size=PAGE)
    server, url = synthetic.serve()
    yield synthetic, url
    server.shutdown()
    server.server_close()


def test_feed_paging_does_not_run_ahead_of_the_articles(site: tuple[SyntheticSite, str], tmp_path: Path) -> None:
    synthetic, url = site
    relaxed = [arg for name, value in RELAXED.items() for arg in ("-s", f"{name}={value}")]
    arguments = [arg for name, value in feed_args(ARTICLES, PAGE).items() for arg in ("-a", f"{name}={value}")]
    result = crawl(url, tmp_path / "out", *relaxed, *arguments)
    assert result.returncode == 0, result.log[-3000:]
    assert stat(result, "write/written") == ARTICLES
    pages = [page for page, _ in synthetic.feed_log]
    assert pages == list(range(ARTICLES // PAGE + 1))  # every page once, in order, then the empty one
    # Article pages asked for before each feed page: all of the pages before it but the last one
    # (whose articles may still be waiting for a download slot) and the 16 in flight.
    behind = [(page, served) for page, served in synthetic.feed_log if served < PAGE * (page - 1) - 16]
    assert behind == [], f"feed pages asked for ahead of their articles (page, article pages served): {behind}"
