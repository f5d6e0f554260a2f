"""What a fetched article page becomes (``crawler.qq.judge``): the article, or a count, a line, the
article's outcome and its ledger entry; a page that says the article is deleted goes to
``crawler.spiders.fallback``. Docs: docs/stats.md (``qq/dropped``, ``qq/skipped``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.http import Response

from crawler import ledger
from crawler.config import config_of
from crawler.extensions.outcomes import DROPPED, PAID, VIDEO, Outcome, send_outcome
from crawler.items import Article
from crawler.qq.fallback import is_deleted_page
from crawler.qq.judge import judge_page
from crawler.spiders.fallback import Fallback
from crawler.stats import QQ_ARTICLES, QQ_CHARSET_MISMATCH, QQ_DROPPED, QQ_EXTRACTION, QQ_SKIPPED, inc

logger = logging.getLogger("crawler.spiders.qq")  # the spider's lines


class Pages:
    def __init__(self, crawler: Crawler, fallback: Fallback, videos: str) -> None:
        self.crawler = crawler
        self.fallback = fallback
        self.link_template = config_of(crawler).qq_article_url
        self.videos = videos  # QQ_VIDEOS, as the arguments resolved it

    def read(self, response: Response, ident: str) -> Iterator[Article | Request]:
        if is_deleted_page(response.url):
            assert response.request is not None
            retry = self.fallback.deleted(ident, response.request)
            if retry is not None:
                yield retry
            return
        page = judge_page(response, ident, self.link_template, self.videos)
        if page.charset_mismatch:
            inc(self.crawler, QQ_CHARSET_MISMATCH)
            logger.warning("Charset of %s (%s): %s; read as its bytes", ident, page.response.url, page.charset_mismatch)
        if page.extraction:
            inc(self.crawler, QQ_EXTRACTION, how=page.extraction)
        if page.dropped:
            inc(self.crawler, QQ_DROPPED, reason=page.dropped)
            logger.warning("Dropped %s%s", ident, page.why)
            send_outcome(self.crawler, Outcome(ident, DROPPED, page.dropped))
            ledger.settle(self.crawler, ledger.DROPPED, page.dropped)
        elif page.skipped:
            skip = page.skipped
            inc(self.crawler, QQ_SKIPPED, reason=skip)
            logger.info("Skipped %s (%s): %s", ident, page.response.url, skip)
            state, reason = (skip, "") if skip in (PAID, VIDEO) else (DROPPED, skip)
            send_outcome(self.crawler, Outcome(ident, state, reason))
            ledger.settle(self.crawler, ledger.SKIPPED, skip)
        elif page.article is not None:
            inc(self.crawler, QQ_ARTICLES)
            yield page.article
