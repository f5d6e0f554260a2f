"""The qq spider's answer to an article whose given URL is gone: one retry at its canonical
current URL (``crawler.qq.fallback``), else the article counted deleted or dropped. Docs:
docs/updates.md (what a deleted article becomes), docs/stats.md (``qq/fallback``, ``qq/deleted``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from scrapy import Request
from scrapy.crawler import Crawler

from crawler import ledger
from crawler.extensions.outcomes import DELETED, Outcome, send_outcome
from crawler.qq.fallback import given_url, is_deleted_page, retry_meta
from crawler.stats import QQ_DELETED, QQ_FALLBACK, inc

logger = logging.getLogger("crawler.spiders.qq")  # the spider's lines, as before

# (ident, url, fallback, meta, retry=...) -> the article request (the spider's ``_article_get``).
ArticleGet = Callable[..., Request]


class Fallback:
    def __init__(self, crawler: Crawler, article_get: ArticleGet) -> None:
        self.crawler = crawler
        self.article_get = article_get

    def at_canonical_url(self, ident: str, request: Request, why: str) -> Request | None:
        """The one retry of an article whose given URL is gone, at its canonical current URL."""
        url = request.meta.get("qq_fallback")
        if not url:
            return None
        inc(self.crawler, QQ_FALLBACK)
        logger.info("Article %s: %s at %s; trying %s", ident, why, given_url(request), url)
        return self.article_get(ident, url, None, retry_meta(request.meta), retry=True)

    def deleted(self, ident: str, request: Request) -> Request | None:
        """An article request ended on the deleted-article page: its retry, else it is counted deleted."""
        retry = self.at_canonical_url(ident, request, "redirected to the deleted-article page")
        if retry is None:
            inc(self.crawler, QQ_DELETED)
            logger.info("Deleted article %s: redirected to %s", ident, request.url)
            send_outcome(self.crawler, Outcome(ident, DELETED))
            ledger.settle(self.crawler, ledger.DELETED)
        return retry

    def dropped(self, request: Request) -> None:
        """On request_dropped: every deleted article redirects to the same page, so a dupefilter that
        keeps article requests (distributed mode's shared one) drops that redirect after the first
        one of a run, and no callback would ever see it."""
        ident = request.meta.get("qq_id")
        if ident and is_deleted_page(request.url):
            retry = self.deleted(ident, request)
            if retry is not None and self.crawler.engine is not None:
                self.crawler.engine.crawl(retry)
        elif ident:  # a shared dupefilter's: another crawl of the same Redis asked for it this run
            ledger.settle(self.crawler, ledger.SKIPPED, "requested_elsewhere")
