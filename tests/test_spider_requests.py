"""Every request the spider's rooms make names a method of the spider as its callback and errback,
so Scrapy can serialize it (``JOBDIR``'s disk queues) and give it back to the same room."""

from __future__ import annotations

import json

from scrapy.utils.request import request_from_dict

from crawler.qq.feeds import Entry
from tests.support.feeds import SAMPLE, feed_page, spider


def test_every_request_round_trips_through_scrapys_serialization() -> None:
    qq = spider(ids="20260810A0BO7100")
    article = next(qq.articles.named(["20260810A0BO7100"]))
    listed = qq.listings.follow(Entry(id="20260810A07QG300", url="https://news.qq.com/rain/a/20260810A07QG300"), "test")
    assert listed is not None
    answer = json.loads(SAMPLE.read_bytes())
    requests = [article, listed, qq.sources.feed_request("news_news_fx", 0), *feed_page(qq, json.dumps(answer).encode())]
    requests.append(qq.sources.sitemap_request("https://news.qq.com/sitemap/index.xml"))
    assert {r.callback.__name__ for r in requests} == {"parse_article", "parse_feed", "parse_sitemap"}  # type: ignore[union-attr]
    for request in requests:
        again = request_from_dict(request.to_dict(spider=qq), spider=qq)
        assert again.callback == request.callback and again.errback == request.errback
        assert again.callback.__self__ is qq  # type: ignore[union-attr]
        assert (again.url, again.meta, again.cb_kwargs) == (request.url, request.meta, request.cb_kwargs)
