"""Smoke test of the benchmarks' synthetic mirror: what it serves is what the crawler reads.

Only correctness is checked here (a page parses to the article it claims, feeds list the ids,
images are JPEGs); speed is measured by ``bench/`` scripts, never asserted in tests.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator

import pytest
from scrapy.http import HtmlResponse

from crawler.qq.pages import parse_article
from tests.mirror.synthetic import SyntheticSite, article_ident, cover_url, index_of


@pytest.fixture(scope="module")
def site() -> Iterator[tuple[SyntheticSite, str]]:
    synthetic = SyntheticSite(articles=50, feed_page_size=20)
    server, url = synthetic.serve()
    yield synthetic, url
    server.shutdown()
    server.server_close()


def fetch(url: str, data: bytes | None = None) -> tuple[int, str, bytes]:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=data), timeout=10) as response:
            return response.status, response.headers["Content-Type"], response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers["Content-Type"], error.read()


def test_ids_round_trip() -> None:
    for index in (0, 1, 6, 35, 36, 4999, 5000, 99_999):
        assert index_of(article_ident(index)) == index
    assert index_of("20250207A090J800") is None


@pytest.mark.parametrize("index", [0, 6, 49])  # 6 is an omn-template article
def test_served_page_parses_to_its_article(site, index: int) -> None:  # type: ignore[no-untyped-def]
    synthetic, url = site
    ident = article_ident(index)
    status, content_type, body = fetch(f"{url}/news.qq.com/rain/a/{ident}")
    assert status == 200
    article = parse_article(HtmlResponse(url=f"https://news.qq.com/rain/a/{ident}", body=body,
                                         headers={"Content-Type": content_type}))  # fmt: skip
    content = synthetic.content(ident)
    assert article.id == ident
    assert article.template == ("omn" if len(ident) == 14 else "current")
    assert article.title == content["title"]
    assert article.published.strftime("%Y-%m-%d %H:%M:%S") == content["pubtime"]
    assert len(article.images) == content["images"]
    if article.template == "current":  # each article its own thumbnail to download (its og:image)
        assert article.share_image == cover_url(ident)
    texts = [b.text for b in article.blocks if b.kind != "image"]
    assert texts == [text for kind, text in content["paragraphs"] if kind != "img"]


def test_unknown_article_is_404(site) -> None:  # type: ignore[no-untyped-def]
    _, url = site
    assert fetch(f"{url}/news.qq.com/rain/a/{article_ident(50)}")[0] == 404


def test_feed_pages_list_every_article_newest_first(site) -> None:  # type: ignore[no-untyped-def]
    synthetic, url = site
    listed = []
    for page in range(4):
        body = json.dumps({"base_req": {"from": "pc"}, "forward": "1", "channel_id": "news_news_fx", "page": page})
        status, _, raw = fetch(f"{url}/i.news.qq.com/web_feed/getPCList", body.encode())
        assert status == 200
        response = json.loads(raw)
        assert response["code"] == 0
        listed += [item["id"] for item in response["data"]]
    assert listed == list(reversed(synthetic.ids()))
    assert synthetic.counts["feed"] == 4


def test_images_are_jpeg(site) -> None:  # type: ignore[no-untyped-def]
    _, url = site
    status, content_type, body = fetch(f"{url}/inews.gtimg.com/news_bt/Oabc/641")
    assert (status, content_type) == (200, "image/jpeg")
    assert body[:3] == b"\xff\xd8\xff"
