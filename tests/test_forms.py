"""End to end: every id and URL form of an article, fetched as given, through the mirror.

One real ``scrapy crawl qq`` against a mirror of its own (its request log is read) is given a
14-character-id URL, an ``omn`` numeric-id URL, a feed whose item links to ``view.inews.qq.com``,
URLs that are gone or redirect to the deleted-article page (the canonical URL is tried once), a
redirect between two forms of one article, a redirect to another article, both charset mislabels,
a deleted article and an id of no known form. The facts asserted are the crawl's own stats
(its ``STATS_FILE``), the mirror's request log and the files written.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import EXPECTED
from tests.mirror.server import Mirror
from tests.support.crawl import by_id, crawl

INPUTS = [
    "https://new.qq.com/rain/a/20201130A0G1JJ",  # 14-character id, served at that URL only
    "https://new.qq.com/omn/20200413/20200413003030.html",  # omn numeric id, served at its omn URLs only
    "https://new.qq.com/omn/20250207/20250207A090J800.html",  # 404 there: the canonical URL once
    "https://view.inews.qq.com/a/20250207A0CS0100",  # 302 to the deleted page there; fine at the canonical URL
    "https://new.qq.com/rain/a/TWF2021042600346900",  # 302 to the omn URL of the same article
    "20250207A0MIS100",  # 302 to another article's page
    "20250207A0CS0200",  # GB18030 bytes declared UTF-8
    "https://view.inews.qq.com/a/20220121A074NC00",  # deleted, at both URLs
    "https://new.qq.com/rain/a/20201130X0G1JJ",  # no known form
]
# The feed channel news_news_view lists 20260811A0VW0100 with link_info.url on view.inews.qq.com.
FEED_ARTICLE = "20260811A0VW0100"
WRITTEN = {
    "20201130A0G1JJ00": "omn-short-20201130A0G1JJ00",
    "20200413003030": "omn-numeric-20200413003030",
    "20250207A090J800": "seed-20250207A090J800",
    "20250207A0CS0100": "charset-gbk-label-20250207A0CS0100",
    "20210426003469": "omn-video-20210426003469",
    "20250207A0CS0200": "charset-utf8-label-20250207A0CS0200",
    FEED_ARTICLE: "feed-view-20260811A0VW0100",
}


@pytest.fixture(scope="module")
def crawled(tmp_path_factory) -> Iterator[tuple[Mirror, Path, dict[str, object], str]]:  # type: ignore[no-untyped-def]
    mirror = Mirror()
    server, url = mirror.serve()
    output = tmp_path_factory.mktemp("forms")
    result = crawl(
        url, output, "-a", "urls=" + ",".join(INPUTS), "-a", "channels=news_news_view", "-a", "pages=1",
        "-s", "QQ_FEED_BUSY_DELAY=0.01",
    )  # fmt: skip
    server.shutdown()
    server.server_close()
    assert result.returncode == 3, result.stderr[-3000:]  # the input of no known form: bad input, said at the end
    yield mirror, output, result.stats, result.log


def test_every_form_is_written_once_as_its_golden(crawled) -> None:  # type: ignore[no-untyped-def]
    _, output, stats, _ = crawled
    files = by_id(output)
    assert sorted(files) == sorted(WRITTEN)
    for ident, path in files.items():
        assert path.read_bytes() == (EXPECTED / f"{WRITTEN[ident]}.md").read_bytes(), ident
    assert stats["write/written"] == len(WRITTEN)


def test_urls_are_fetched_as_given(crawled) -> None:  # type: ignore[no-untyped-def]
    mirror, _, _, _ = crawled
    asked = set(mirror.requests)
    # The 14-character id at its own URL (not rewritten to the 16-character cms id).
    assert "/new.qq.com/rain/a/20201130A0G1JJ" in asked
    assert not [p for p in asked if "20201130A0G1JJ00" in p]
    # The omn numeric id at the URL given, never at a rain/a URL rebuilt from the id.
    assert "/new.qq.com/omn/20200413/20200413003030.html" in asked
    assert not [p for p in asked if "/rain/a/20200413003030" in p]
    # The feed item at its link_info.url.
    assert f"/view.inews.qq.com/a/{FEED_ARTICLE}" in asked
    assert f"/news.qq.com/rain/a/{FEED_ARTICLE}" not in asked


def test_a_gone_url_is_tried_once_at_the_canonical_url(crawled) -> None:  # type: ignore[no-untyped-def]
    mirror, _, stats, log = crawled
    for given, canonical in [
        ("/new.qq.com/omn/20250207/20250207A090J800.html", "/news.qq.com/rain/a/20250207A090J800"),  # 404
        ("/view.inews.qq.com/a/20250207A0CS0100", "/news.qq.com/rain/a/20250207A0CS0100"),  # deleted page
        ("/view.inews.qq.com/a/20220121A074NC00", "/news.qq.com/rain/a/20220121A074NC00"),  # deleted at both
    ]:
        assert mirror.requests.count(given) == 1 and mirror.requests.count(canonical) == 1, given
    assert stats["qq/fallback"] == 3
    assert stats["qq/deleted"] == 1 and "Deleted article 20220121A074NC00" in log
    assert "qq/dropped/http_404" not in stats


def test_redirects_are_followed_and_the_page_id_checked(crawled) -> None:  # type: ignore[no-untyped-def]
    mirror, output, stats, log = crawled
    # TWF2021042600346900 -> the omn URL of 20210426003469: the same article, written.
    assert "/new.qq.com/omn/20210426/20210426003469.html" in mirror.requests
    assert "20210426003469" in by_id(output)
    # 20250207A0MIS100 -> the page of 20250207A0BAD400: dropped, not written under either id.
    assert stats["qq/dropped/id_mismatch"] == 1
    warnings = [line for line in log.splitlines() if "20250207A0MIS100" in line and "WARNING" in line]
    assert len(warnings) == 1 and "20250207A0BAD400" in warnings[0]
    assert "20250207A0BAD400" not in by_id(output)


def test_charset_mislabels_are_read_as_their_bytes_and_counted(crawled) -> None:  # type: ignore[no-untyped-def]
    _, _, stats, log = crawled
    assert stats["qq/charset_mismatch"] == 2
    assert "20250207A0CS0100 (https://news.qq.com/rain/a/20250207A0CS0100): declared gb18030, but the bytes are utf-8" in log
    assert "20250207A0CS0200 (https://news.qq.com/rain/a/20250207A0CS0200): declared utf-8, but the bytes are gb18030" in log


def test_bad_input_is_refused_with_one_error_naming_it(crawled) -> None:  # type: ignore[no-untyped-def]
    _, _, stats, log = crawled
    assert stats["qq/bad_input"] == 1
    errors = [line for line in log.splitlines() if " ERROR: " in line]
    assert len(errors) == 1 and "https://new.qq.com/rain/a/20201130X0G1JJ" in errors[0]
    assert stats["qq/requested"] == len(INPUTS) - 1 + 1  # every input but the bad one, and the feed's
    assert "Traceback" not in log
