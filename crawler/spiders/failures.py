"""What a failed request of the qq spider becomes: an article's gone URL retried at its canonical
one (``crawler.spiders.fallback``), else a count under its source, a log line, the article's
outcome and its ledger entry. Docs: docs/limits.md (faults below the page), docs/stats.md.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import scrapy
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from crawler import ledger
from crawler.extensions.outcomes import DROPPED, Outcome, send_outcome
from crawler.faults import transport_fault, why
from crawler.middlewares.urlpolicy import UrlRefused
from crawler.spiders.fallback import Fallback
from crawler.stats import QQ_DROPPED, QQ_FEED_BAD, QQ_SITEMAP_BAD, inc, parent

logger = logging.getLogger("crawler.spiders.qq")  # the spider's lines, as before


# What a request's fault is counted under: its source's (``meta["qq_source_stats"]``, the base key
# crawler.qq.feeds sets on feed and sitemap requests), else an article page's.
FAULT_STATS = {parent(template): template for template in (QQ_DROPPED, QQ_FEED_BAD, QQ_SITEMAP_BAD)}


def fault_stat(request: scrapy.Request) -> str:
    return FAULT_STATS.get(request.meta.get("qq_source_stats", ""), QQ_DROPPED)


class Failures:
    def __init__(self, crawler: Crawler, fallback: Fallback) -> None:
        self.crawler = crawler
        self.fallback = fallback

    def outcome(self, ident: str, state: str, reason: str = "") -> None:
        send_outcome(self.crawler, Outcome(ident, state, reason))

    def article_failed(self, failure: Failure) -> Iterator[scrapy.Request]:
        """An article request failed: a given URL that is gone (404/410) is tried at the canonical one."""
        response = getattr(failure.value, "response", None)
        if response is not None and response.status in (404, 410):
            request = failure.request  # type: ignore[attr-defined]
            retry = self.fallback.at_canonical_url(request.meta["qq_id"], request, f"HTTP {response.status}")
            if retry is not None:
                yield retry
                return
            self.outcome(request.meta["qq_id"], DROPPED, f"http_{response.status}")
        self.failed(failure)

    def failed(self, failure: Failure) -> None:
        request = failure.request  # type: ignore[attr-defined]
        counted = fault_stat(request)
        article = request.meta.get("qq_id")
        if failure.check(ledger.Settled):  # a middleware's decision (dedup, a 304, robots.txt, no network), counted by it
            if article:
                ledger.settle(self.crawler, *failure.value.outcome)
            return
        if failure.check(UrlRefused):
            inc(self.crawler, counted, reason="refused")
            asked = request.meta.get("redirect_urls", [request.url])[0]
            via = f" (redirected to {request.url[:300]})" if asked != request.url else ""
            logger.warning("Not fetched (%s): %s%s", failure.value.reason, asked[:300], via)
            if article:
                self.outcome(article, DROPPED, f"refused_{failure.value.reason}")
                ledger.settle(self.crawler, ledger.NOT_FETCHED, "refused")
            return
        fault = transport_fault(failure.value)
        if fault is not None:
            self.transport_failed(failure, fault)
            return
        if failure.check(IgnoreRequest) and not failure.check(HttpError):
            # Another middleware's decision, counted by it.
            if article:
                ledger.settle(self.crawler, ledger.NOT_FETCHED, "ignored")
            return
        # Every feed page is a POST to one URL: name its channel and page, not only the URL.
        what = request.url
        if "channel" in request.cb_kwargs:
            what = f"feed {request.cb_kwargs['channel']} page {request.cb_kwargs.get('page', 0)} ({request.url})"
        response = getattr(failure.value, "response", None)
        if response is not None:
            inc(self.crawler, counted, reason=f"http_{response.status}")
            logger.warning("Dropped %s: HTTP %s", what, response.status)
            if article:
                ledger.settle(self.crawler, ledger.DROPPED, f"http_{response.status}")
        else:
            inc(self.crawler, counted, reason="network")
            logger.warning("Dropped %s: %s", what, why(failure.value))
            if article:
                ledger.settle(self.crawler, ledger.NOT_FETCHED, "network")

    def transport_failed(self, failure: Failure, fault: str) -> None:
        """A request the answer's fault ended (``too_big``, ``redirect_loop``: counted under its
        source, an article dropped with the reason), or the stop cancelled (``stopped``: nothing is
        recorded, the next run fetches it; ``crawler.extensions.stop`` counts them)."""
        if fault == "stopped":
            return
        request = failure.request  # type: ignore[attr-defined]
        inc(self.crawler, fault_stat(request), reason=fault)
        asked = request.meta.get("redirect_urls", [request.url])[0]
        what = request.meta.get("qq_id") or request.cb_kwargs.get("channel") or "sitemap"
        logger.warning("Dropped %s (%s): %s: %s", what, asked[:300], fault, why(failure.value)[:300])
        if "qq_id" in request.meta:
            self.outcome(request.meta["qq_id"], DROPPED, fault)
            ledger.settle(self.crawler, ledger.DROPPED, fault)
