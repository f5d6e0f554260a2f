"""The in-run dupefilter leaves article requests to the spider's ids seen and the article store."""

from __future__ import annotations

from scrapy import Request
from scrapy.utils.test import get_crawler

from crawler.dupefilter import RunDupeFilter


def test_article_requests_are_not_remembered_other_requests_are() -> None:
    dupefilter = RunDupeFilter.from_crawler(get_crawler())
    article = Request("https://news.qq.com/rain/a/20250207A090J800", meta={"qq_id": "20250207A090J800"})
    assert [dupefilter.request_seen(article) for _ in range(3)] == [False, False, False]
    robots = Request("https://news.qq.com/robots.txt")
    assert [dupefilter.request_seen(robots) for _ in range(2)] == [False, True]
