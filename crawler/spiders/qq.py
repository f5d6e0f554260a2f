"""The ``qq`` spider: turns article URLs or ids into requests and pages into Articles.

It is thin on purpose: extraction is ``crawler.qq.pages``, cleaning and writing are pipelines.

Arguments (``-a name=value``):

* ``urls``: comma-separated qq.com article URLs, any form (``news.qq.com/rain/a/<id>``,
  ``new.qq.com/omn/<date>/<id>.html``, ``view.inews.qq.com/a/<id>``, ``<site>.qq.com/a/<date>/<n>.htm``);
* ``ids``: comma-separated article ids (``20250207A090J800``).

Every input is reduced to its canonical id first, so an article is fetched once per run whatever
forms it was given in. Stats: ``qq/requested``, ``qq/bad_input``, ``qq/deleted``,
``qq/dropped/<reason>`` (page errors, ``http_<status>`` and ``network`` failures), ``qq/articles``.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any

import scrapy
from scrapy import signals
from scrapy.http import Response, TextResponse
from twisted.python.failure import Failure

from crawler.items import Article
from crawler.qq.ids import article_id, fetch_url
from crawler.qq.pages import PageError, parse_article

logger = logging.getLogger(__name__)

DELETED_MARKER = "babygohome"


def split_arg(value: str | None) -> list[str]:
    """A comma-separated spider argument as a list of non-empty items."""
    return [part.strip() for part in (value or "").split(",") if part.strip()]


class QqSpider(scrapy.Spider):
    name = "qq"

    def __init__(self, urls: str = "", ids: str = "", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.inputs = split_arg(urls) + split_arg(ids)

    def _stat(self, key: str, count: int = 1) -> None:
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(key, count)

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for request in self.article_requests(self.inputs):
            await self._room()
            yield request

    async def _room(self) -> None:
        """Wait while the engine has enough to do (Scrapy's lazy start pattern).

        Scrapy consumes ``start()`` eagerly: without this, 100,000 ids would all wait as requests
        in the scheduler's memory queue, and memory would grow with the size of the crawl.
        """
        engine = self.crawler.engine
        if engine is not None and engine.needs_backout():
            await self.crawler.signals.wait_for(signals.scheduler_empty)

    def article_requests(self, inputs: list[str]) -> Iterator[scrapy.Request]:
        seen: set[str] = set()
        template = self.settings.get("QQ_FETCH_URL")
        for raw in inputs:
            ident = article_id(raw)
            if ident is None:
                self._stat("qq/bad_input")
                logger.error("Not a qq.com article URL or id, skipped: %r", raw)
                continue
            if ident in seen:
                continue
            seen.add(ident)
            self._stat("qq/requested")
            yield scrapy.Request(
                fetch_url(ident, template),
                callback=self.parse_article,
                errback=self.failed,
                cb_kwargs={"ident": ident},
            )

    def parse_article(self, response: Response, ident: str) -> Iterator[Article]:
        if DELETED_MARKER in response.url:
            self._stat("qq/deleted")
            logger.info("Deleted article %s: redirected to %s", ident, response.url)
            return
        if not isinstance(response, TextResponse):
            self._stat("qq/dropped/not_html")
            logger.warning("Dropped %s: %s is not an HTML page", ident, response.url)
            return
        try:
            article = parse_article(response, self.settings.get("QQ_ARTICLE_URL"))
        except PageError as error:
            self._stat(f"qq/dropped/{error.reason}")
            logger.warning("Dropped %s (%s): %s", ident, response.url, error.detail)
            return
        self._stat("qq/articles")
        yield article

    def failed(self, failure: Failure) -> None:
        request = failure.request  # type: ignore[attr-defined]
        response = getattr(failure.value, "response", None)
        if response is not None:
            self._stat(f"qq/dropped/http_{response.status}")
            logger.warning("Dropped %s: HTTP %s", request.url, response.status)
        else:
            self._stat("qq/dropped/network")
            logger.warning("Dropped %s: %s", request.url, failure.getErrorMessage())
