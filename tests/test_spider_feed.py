"""The spider's feed paging and busy retries, unit-tested on the real feed sample (no reactor, no
mirror), and the downloader middleware that holds a busy retry back."""

from __future__ import annotations

import asyncio
import time

from scrapy import Request
from scrapy.http import JsonRequest, TextResponse

from crawler import settings as project_settings
from crawler.middlewares.delay import DelayMiddleware
from tests.support.components import project_crawler
from tests.support.feeds import SAMPLE, feed_page, spider


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
    qq.listings.already_written = lambda ident, updated=None, listing="": True  # type: ignore[method-assign]
    requests = feed_page(qq, SAMPLE.read_bytes())
    # The articles are still asked for (the dedup middleware drops them), but not the next page.
    assert [r for r in requests if isinstance(r, JsonRequest)] == []
    assert len(requests) == 3
    assert qq.crawler.stats.get_value("qq/skipped/video") == 1  # type: ignore[union-attr]


def test_the_last_page_asks_for_no_more() -> None:
    qq = spider(pages="2")
    requests = feed_page(qq, SAMPLE.read_bytes(), page=1)
    assert [r for r in requests if isinstance(r, JsonRequest)] == []


def test_busy_is_retried_with_backoff_then_given_up() -> None:
    qq = spider()
    retries, delay = qq.sources.config.qq_feed_busy_retries, qq.sources.config.qq_feed_busy_delay
    assert (retries, delay) == (3, 2.0)  # the settings' defaults
    request = qq.sources.feed_request("news_news_fx", 0)
    busy = b'{"code":1,"message":"busy"}'
    delays = []
    for attempt in range(1, retries + 1):
        request.meta["download_latency"] = 0.1  # set by the downloader on every request it answered
        response = TextResponse(request.url, body=busy, request=request, encoding="utf-8")
        started = time.monotonic()
        (request,) = qq.parse_feed(response, **request.cb_kwargs)
        assert time.monotonic() - started < 0.5  # the callback never waits: the downloader does
        assert request.cb_kwargs == {"channel": "news_news_fx", "page": 0, "busy": attempt} and request.dont_filter
        assert "retry_times" not in request.meta and "download_latency" not in request.meta  # no meta-copy warning
        delays.append(request.meta["qq_retry_delay"])
    assert delays == [2.0, 4.0, 8.0]
    response = TextResponse(request.url, body=busy, request=request, encoding="utf-8")
    assert list(qq.parse_feed(response, **request.cb_kwargs)) == []
    stats = qq.crawler.stats
    assert stats.get_value("qq/feed/busy/count") == 3  # type: ignore[union-attr]
    assert stats.get_value("qq/feed/busy/max_reached") == 1  # type: ignore[union-attr]
    assert stats.get_value("qq/feed/bad/busy") == 1  # type: ignore[union-attr]


def delay_middleware() -> DelayMiddleware:
    crawler = project_crawler()
    crawler.stats.open_spider()
    return DelayMiddleware.from_crawler(crawler)


def test_a_delayed_request_waits_without_holding_others_back() -> None:
    middleware = delay_middleware()
    delayed = Request("https://i.news.qq.com/web_feed/getPCList", meta={"qq_retry_delay": 0.3})
    other = Request("https://news.qq.com/rain/a/20260810A0TP0100")
    done: list[tuple[str, float]] = []

    async def send(request: Request) -> None:
        started = time.monotonic()
        assert await middleware.process_request(request) is None  # the request goes on
        done.append((request.url, time.monotonic() - started))

    async def both() -> None:
        await asyncio.gather(send(delayed), send(other))

    asyncio.run(both())
    assert [url for url, _ in done] == [other.url, delayed.url]
    assert done[0][1] < 0.1 and done[1][1] >= 0.29
    assert "qq_retry_delay" not in delayed.meta  # a later retry of it does not wait again
    stats = middleware.crawler.stats
    assert stats.get_value("delay/count") == 1 and stats.get_value("delay/seconds") == 0.3  # type: ignore[union-attr]


def test_requests_without_a_delay_pass_at_once() -> None:
    middleware = delay_middleware()
    for meta in [{}, {"qq_retry_delay": 0}, {"qq_retry_delay": None}]:
        assert asyncio.run(middleware.process_request(Request("https://news.qq.com/", meta=meta))) is None
    assert middleware.crawler.stats.get_value("delay/count") is None  # type: ignore[union-attr]


def test_the_delay_middleware_is_enabled() -> None:
    assert project_settings.DOWNLOADER_MIDDLEWARES["crawler.middlewares.delay.DelayMiddleware"] < 100  # before robots.txt
