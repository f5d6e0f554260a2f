"""The spider fed a saved feed answer, without a reactor."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from scrapy.http import TextResponse

from crawler.spiders.qq import QqSpider
from tests.support.components import opened_store, project_crawler

SAMPLE = Path(__file__).parents[1] / "fixtures" / "feeds" / "2026_getPCList_news_news_fx.SUBSET.json"


def spider(**arguments: str) -> QqSpider:
    """The spider of a crawl whose article store (in an empty output root of its own) is open."""
    crawler = project_crawler(Path(tempfile.mkdtemp(prefix="qq-feed-test-")), QqSpider)
    opened_store(crawler)
    crawler.spider = QqSpider.from_crawler(crawler, **arguments)
    return crawler.spider


def feed_page(qq: QqSpider, body: bytes, page: int = 0) -> list[Any]:
    request = qq.sources.feed_request("news_news_fx", page)
    response = TextResponse(request.url, body=body, request=request, encoding="utf-8")
    return list(qq.parse_feed(response, **request.cb_kwargs))
