"""The throttle middleware on its own: Retry-After, per-host backoff, restore, bounds."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from scrapy import Request
from scrapy.core.downloader import Slot
from scrapy.core.engine import ExecutionEngine
from scrapy.exceptions import NotConfigured
from scrapy.http import HtmlResponse
from scrapy.utils.test import get_crawler

from crawler import settings as project_settings
from crawler.middlewares.throttle import ThrottleMiddleware, retry_after_seconds

NOW = datetime(2026, 11, 28, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        (b"120", 120.0),
        ("7", 7.0),
        (b"Sat, 28 Nov 2026 12:00:30 GMT", 30.0),
        (b"Sat, 28 Nov 2026 11:00:00 GMT", 0.0),  # in the past
        (b"99999999999999999999", 1e20),  # huge: the middleware caps it
        (b"soon", None),
        (b"-5", None),
        (b"1.5", None),
        (b"Mon, 99 Foo 2026 99:99:99 GMT", None),
        (b"", None),
        (None, None),
    ],
)
def test_retry_after(header: bytes | str | None, seconds: float | None) -> None:
    assert retry_after_seconds(header, NOW) == seconds


def middleware(**overrides: object) -> ThrottleMiddleware:
    values = {k: getattr(project_settings, k) for k in dir(project_settings) if k.isupper()}
    values.update({"THROTTLE_BACKOFF_BASE": 1.0, "THROTTLE_MAX_DELAY": 10.0, **overrides})
    crawler = get_crawler(settings_dict=values)
    crawler.stats.open_spider()
    crawler.engine = ExecutionEngine(crawler, lambda _: None)
    crawler.engine.downloader.slots.update({"news.qq.com": Slot(4, 0.25, 0), "inews.gtimg.com": Slot(8, 0.1, 0)})
    return ThrottleMiddleware.from_crawler(crawler)


def answer(mw: ThrottleMiddleware, host: str, status: int, retry_after: str | None = None) -> float:
    request = Request(f"https://{host}/rain/a/20250207A090J800", meta={"download_slot": host})
    headers = {"Retry-After": retry_after} if retry_after is not None else {}
    response = HtmlResponse(request.url, status=status, headers=headers, body=b"<html></html>", request=request)
    assert mw.process_response(request, response) is response
    return mw.crawler.engine.downloader.slots[host].delay


def test_refused_host_backs_off_exponentially_and_alone() -> None:
    mw = middleware()
    assert [answer(mw, "news.qq.com", 567) for _ in range(5)] == [1.0, 2.0, 4.0, 8.0, 10.0]
    assert mw.crawler.engine.downloader.slots["inews.gtimg.com"].delay == 0.1  # the others go on
    assert answer(mw, "news.qq.com", 200) == 0.25  # answering again restores its delay
    assert answer(mw, "news.qq.com", 429) == 1.0  # a new run of refusals starts small again
    stats = mw.crawler.stats
    assert stats.get_value("throttle/refused/567") == 5
    assert stats.get_value("throttle/refused/429") == 1
    assert stats.get_value("throttle/backoff") == 6
    assert stats.get_value("throttle/max_delay") == 10.0


@pytest.mark.parametrize(("header", "delay"), [("6", 6.0), ("86400", 10.0), ("garbage", 1.0)])
def test_retry_after_within_the_maximum(header: str, delay: float) -> None:
    assert answer(middleware(), "news.qq.com", 503, header) == delay


def test_other_answers_are_left_alone() -> None:
    mw = middleware()
    for status in (200, 404, 302, 500):
        assert answer(mw, "news.qq.com", status) == 0.25
    # Nothing counted (Spidermon's validation pipeline, built with the engine, records its validator).
    assert not [k for k in mw.crawler.stats.get_stats() if not k.startswith("spidermon/")]


def test_disabled() -> None:
    with pytest.raises(NotConfigured):
        middleware(THROTTLE_ENABLED=False)
