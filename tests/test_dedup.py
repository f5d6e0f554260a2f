"""The dedup middleware on its own: which requests it drops, and when it lets them through."""

from __future__ import annotations

from pathlib import Path

import pytest
from scrapy import Request
from scrapy.exceptions import NotConfigured
from scrapy.utils.test import get_crawler

from crawler import settings as project_settings
from crawler.middlewares.dedup import DedupMiddleware
from crawler.spiders.qq import QqSpider
from crawler.store import Record
from crawler.store.sqlite import DEFAULT_NAME, SqliteStore

WRITTEN = "20250207A090J800"


def middleware(root: Path, *, refresh: str = "", **overrides: object) -> DedupMiddleware:
    values = {k: getattr(project_settings, k) for k in dir(project_settings) if k.isupper()}
    values.update({"OUTPUT_ROOT": str(root), **overrides})
    crawler = get_crawler(QqSpider, settings_dict=values)
    crawler.stats.open_spider()
    crawler.spider = QqSpider.from_crawler(crawler, **({"refresh": refresh} if refresh else {}))
    return DedupMiddleware.from_crawler(crawler)


def request(ident: str, **meta: object) -> Request:
    return Request(f"https://news.qq.com/rain/a/{ident}", meta={"qq_id": ident, **meta})


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "posts").mkdir()
    (tmp_path / "posts/a.md").write_text("written\n", encoding="utf-8")
    store = SqliteStore(tmp_path / DEFAULT_NAME)
    store.put(Record(WRITTEN, "posts/a.md", "f"))
    store.put(Record("20250207A0GONE00", "posts/gone.md", "g"))  # its file was deleted by hand
    store.close()
    return tmp_path


def test_drops_only_articles_written_and_on_disk(root: Path) -> None:
    mw = middleware(root)
    assert mw.get_processed_request(request(WRITTEN), None) is None
    new, gone = request("20250207A0NEW000"), request("20250207A0GONE00")
    assert mw.get_processed_request(new, None) is new
    assert mw.get_processed_request(gone, None) is gone
    other = Request("https://news.qq.com/robots.txt")
    assert mw.get_processed_request(other, None) is other
    assert mw.crawler.stats.get_value("qq/dedup/skipped") == 1


def test_refresh_and_dont_dedup_let_it_through(root: Path) -> None:
    again = request(WRITTEN)
    assert middleware(root, refresh="1").get_processed_request(again, None) is again
    forced = request(WRITTEN, dont_dedup=True)
    assert middleware(root).get_processed_request(forced, None) is forced
    assert middleware(root, refresh="0").get_processed_request(request(WRITTEN), None) is None


def test_disabled(root: Path) -> None:
    with pytest.raises(NotConfigured):
        middleware(root, DEDUP_ENABLED=False)


@pytest.mark.parametrize(
    ("arguments", "overrides", "expected"),
    [({}, {}, True), ({"refresh": "1"}, {}, False), ({}, {"DEDUP_ENABLED": False}, False)],
)
def test_the_spider_asks_the_store_for_feed_paging(
    root: Path, arguments: dict[str, str], overrides: dict[str, object], expected: bool
) -> None:
    values = {k: getattr(project_settings, k) for k in dir(project_settings) if k.isupper()}
    crawler = get_crawler(QqSpider, settings_dict={**values, "OUTPUT_ROOT": str(root), **overrides})
    spider = QqSpider.from_crawler(crawler, **arguments)
    assert spider.already_written(WRITTEN) is expected
    assert spider.already_written("20250207A0GONE00") is False
    spider.closed("finished")
