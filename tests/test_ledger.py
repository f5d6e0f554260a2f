"""The ledger (issue 23): every article a crawl is asked for ends in exactly one outcome, and the
summary prints it so that it adds up. Every crawl of the suite is also checked to add up
(``tests/support/crawl.py``)."""

from __future__ import annotations

import re

import pytest

from crawler.ledger import Ledger
from tests.mirror.server import Mirror, Reply
from tests.support.crawl import Crawl, crawl, stat

SEED = "20250207A090J800"
DISALLOWED = "20260810A0BO7100"
INPUTS = [SEED, DISALLOWED, "20250101A0NON100", "20250207A0BAD200", "notaurl"]


def test_ledger_reads_outcomes_and_what_is_open() -> None:
    book = Ledger.of({"ledger/asked": 5, "ledger/written/new": 2, "ledger/skipped/old": 1, "ledger/bad_input": 1,
                      "ledger/bad_inputs": ["x"], "qq/requested": 9})  # fmt: skip
    assert (book.asked, book.settled, book.open) == (5, 4, 1)
    assert book.total("written") == 2 and book.bad_inputs == ("x",)
    assert "    open: 1 (no outcome recorded: a bug)" in book.lines(closed_early=False)
    assert "    open: 1 (the crawl closed before they were fetched)" in book.lines(closed_early=True)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Crawl, Crawl, Mirror]:
    site = Mirror()
    robots = f"User-agent: *\nDisallow: /rain/a/{DISALLOWED}\n".encode()
    site.routes.insert(0, (re.compile(r"^/news\.qq\.com/robots\.txt$"), lambda m, s: Reply(200, robots, "text/plain")))
    server, url = site.serve()
    output = tmp_path_factory.mktemp("ledger") / "output"
    try:
        first = crawl(url, output, "-a", "ids=" + ",".join(INPUTS))
        again = crawl(url, output, "-a", "ids=" + ",".join(INPUTS))
    finally:
        server.shutdown()
        server.server_close()
    return first, again, site


def test_every_article_asked_for_has_one_outcome(runs: tuple[Crawl, Crawl, Mirror]) -> None:
    first, _, _ = runs
    assert stat(first, "ledger/asked") == 5
    assert stat(first, "ledger/written/new") == 1
    assert stat(first, "ledger/not_fetched/robots_txt") == 1  # Scrapy ignored it: still in the account
    assert stat(first, "ledger/dropped/http_404") == 1
    assert stat(first, "ledger/dropped/no_data") == 1
    assert stat(first, "ledger/bad_input") == 1
    assert Ledger.of(first.stats).open == 0
    assert first.returncode == 3  # the bad input, said at the end; the rest was crawled
    assert "monitors/failed/ledger" not in first.stats


def test_the_summary_adds_up_in_words(runs: tuple[Crawl, Crawl, Mirror]) -> None:
    first, again, _ = runs
    summary = first.log[first.log.index("Crawl summary") :]
    assert "articles asked for: 5\n" in summary
    assert "    written: 1 (1 new)\n" in summary
    assert "    dropped: 2 (1 http 404, 1 no data)\n" in summary
    assert "    not fetched: 1 (1 robots.txt disallows)\n" in summary
    assert "    bad input: 1\n      not articles: 'notaurl'\n" in summary
    # The rerun: the written one and the dropped ones are skipped by their state, each said so.
    assert stat(again, "ledger/skipped/written") == 1
    assert stat(again, "ledger/skipped/dropped") == 2
    assert stat(again, "ledger/not_fetched/robots_txt") == 1
    assert "skipped: 3 (2 gave no article recently (DEDUP_RETRY_DROPPED), 1 already written)" in again.log


def test_a_robots_disallowed_article_is_never_requested(runs: tuple[Crawl, Crawl, Mirror]) -> None:
    first, again, site = runs
    assert stat(first, "robotstxt/forbidden") == 1 and stat(again, "robotstxt/forbidden") == 1
    assert not [path for path in site.requests if DISALLOWED in path]
    assert [path for path in site.requests if SEED in path] == [f"/news.qq.com/rain/a/{SEED}"]
