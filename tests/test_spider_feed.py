"""The spider's feed paging, unit-tested on the real feed sample (no reactor, no mirror)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from scrapy.http import JsonRequest, TextResponse
from scrapy.utils.test import get_crawler

from crawler import settings as project_settings
from crawler.spiders.qq import QqSpider

SAMPLE = Path(__file__).parent / "fixtures" / "feeds" / "2026_getPCList_news_news_fx.SUBSET.json"


def spider(**arguments: str) -> QqSpider:
    settings = {k: getattr(project_settings, k) for k in dir(project_settings) if k.isupper()}
    crawler = get_crawler(QqSpider, settings)
    return QqSpider.from_crawler(crawler, **arguments)


def feed_page(qq: QqSpider, body: bytes, page: int = 0) -> list[Any]:
    request = qq.feed_request("news_news_fx", page)
    response = TextResponse(request.url, body=body, request=request, encoding="utf-8")

    async def collect() -> list[Any]:
        return [r async for r in qq.parse_feed(response, "news_news_fx", page)]

    return asyncio.run(collect())


def test_a_page_asks_for_its_articles_and_the_next_page() -> None:
    qq = spider()
    requests = feed_page(qq, SAMPLE.read_bytes())
    urls = [r.url for r in requests]
    # Each at the link the feed gave (link_info.url), not at a URL rebuilt from its id.
    assert urls[:3] == [
        "https://view.inews.qq.com/a/20260810A0BO7100",
        "https://view.inews.qq.com/a/20260810A07QG300",
        "https://new.qq.com/rain/a/20260810A08QTT00",
    ]
    assert [r.meta["qq_id"] for r in requests[:3]] == ["20260810A0BO7100", "20260810A07QG300", "20260810A08QTT00"]
    assert requests[0].meta["qq_fallback"] == "https://news.qq.com/rain/a/20260810A0BO7100"
    assert isinstance(requests[3], JsonRequest) and b'"page": 1' in requests[3].body
    assert len(requests) == 4  # the video is skipped
    assert qq.crawler.stats.get_value("qq/skipped/video") == 1  # type: ignore[union-attr]


def test_already_written_articles_end_the_paging() -> None:
    qq = spider()
    qq.already_written = lambda ident: True  # type: ignore[method-assign]
    assert feed_page(qq, SAMPLE.read_bytes()) == []
    assert qq.crawler.stats.get_value("qq/skipped/written") == 4  # the video too  # type: ignore[union-attr]


def test_the_last_page_asks_for_no_more() -> None:
    qq = spider(pages="2")
    requests = feed_page(qq, SAMPLE.read_bytes(), page=1)
    assert [r for r in requests if isinstance(r, JsonRequest)] == []


def test_busy_is_retried_with_backoff_then_given_up() -> None:
    qq = spider()
    qq.busy_delay = 0.001
    request = qq.feed_request("news_news_fx", 0)
    busy = b'{"code":1,"message":"busy"}'
    for attempt in range(1, qq.busy_retries + 1):
        response = TextResponse(request.url, body=busy, request=request, encoding="utf-8")

        async def collect() -> list[Any]:
            return [r async for r in qq.parse_feed(response, **request.cb_kwargs)]

        (request,) = asyncio.run(collect())
        assert request.cb_kwargs["busy"] == attempt and request.dont_filter
        assert "retry_times" not in request.meta
    response = TextResponse(request.url, body=busy, request=request, encoding="utf-8")

    async def last() -> list[Any]:
        return [r async for r in qq.parse_feed(response, **request.cb_kwargs)]

    assert asyncio.run(last()) == []
    stats = qq.crawler.stats
    assert stats.get_value("qq/feed/busy/count") == 3  # type: ignore[union-attr]
    assert stats.get_value("qq/feed/busy/max_reached") == 1  # type: ignore[union-attr]
    assert stats.get_value("qq/feed/bad/busy") == 1  # type: ignore[union-attr]
