"""No network: recognised within seconds, the crawl closed with reason ``network`` in one line.

Scrapy treats a DNS failure or a refused connection like any other download error: it retries it
(``RETRY_TIMES``), logs each give-up, logs a robots.txt failure with its traceback, and goes on
to the next request, so a machine without network spends minutes failing every request one by
one and then ends ``finished``. What is missing is added here, in two small downloader middlewares:

* ``NetworkMiddleware`` (after ``RetryMiddleware`` on the way in, so it sees every attempt before
  the retry): a connection that could not be made (``NO_CONNECTION``: DNS lookup failed,
  connection refused, no route, connect timeout) ``NETWORK_FAILURES`` times in a row, with no
  answer of any kind in between, closes the crawl with reason ``network`` and one ERROR line
  naming the host and the cause. Every request after that is ignored quietly (the crawl is
  closing): not sent, or not retried, so no retry, give-up or drop is logged for it. ``NETWORK_FAILURES = 0``: off.
* ``RobotsErrorMiddleware`` (before ``RetryMiddleware`` on the way in, so it sees what is left
  after the retries): a robots.txt request that failed is logged in one WARNING line (host and
  cause) and handed to Scrapy's robots.txt middleware as ignored, which then crawls the host as
  allowed, as it does after any robots.txt failure, without the traceback.

Settings: ``NETWORK_FAILURES``. Stats: ``network/errors`` (failed connections),
``network/down`` (1 when the crawl was closed for it), ``network/robots_failed``.
"""

from __future__ import annotations

import logging

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import CannotResolveHostError, DownloadConnectionRefusedError, IgnoreRequest, NotConfigured
from scrapy.http import Response
from scrapy.utils.defer import deferred_from_coro
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.error import ConnectError

from crawler import ledger
from crawler.stats import NETWORK_DOWN, NETWORK_ERRORS, NETWORK_ROBOTS_FAILED, inc, set_value

logger = logging.getLogger(__name__)


class NoNetwork(ledger.Settled):
    """A request not sent, or given up, because the crawl is closing for want of a network."""

    def __init__(self, why: str) -> None:
        super().__init__(why, (ledger.NOT_FETCHED, "network"))

# A connection that could not be made: Scrapy's wrappers of Twisted's DNS and refusal errors, and
# Twisted's other connect errors (no route, connect timeout) that Scrapy passes on as they are.
NO_CONNECTION = (CannotResolveHostError, DownloadConnectionRefusedError, ConnectError)


def cause(exception: BaseException) -> str:
    """A failed connection in a few words: Twisted's message without its boilerplate."""
    text = str(exception).strip().rstrip(".")
    return text or type(exception).__name__


class NetworkMiddleware:
    def __init__(self, crawler: Crawler, limit: int) -> None:
        self.crawler = crawler
        self.limit = limit
        self.failures = 0  # failed connections in a row, no answer between
        self.closing = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> NetworkMiddleware:
        limit = crawler.settings.getint("NETWORK_FAILURES")
        if limit <= 0:
            raise NotConfigured("NETWORK_FAILURES is 0")
        return cls(crawler, limit)

    def process_request(self, request: Request) -> None:
        if self.closing:
            raise NoNetwork("no network")

    def process_response(self, request: Request, response: Response) -> Response:
        self.failures = 0
        return response

    def process_exception(self, request: Request, exception: Exception) -> None:
        if not isinstance(exception, NO_CONNECTION):
            return
        if self.closing:
            raise NoNetwork(f"no network ({cause(exception)})")
        inc(self.crawler, NETWORK_ERRORS)
        self.failures += 1
        if self.failures < self.limit:
            return  # RetryMiddleware tries it again
        self.closing = True
        set_value(self.crawler, NETWORK_DOWN, 1)
        logger.error(
            "No network: %s could not be reached (%s), %d connections in a row failed; closing the crawl",
            urlparse_cached(request).hostname, cause(exception), self.failures,
        )  # fmt: skip
        assert self.crawler.engine is not None
        deferred_from_coro(self.crawler.engine.close_spider_async(reason="network"))
        raise NoNetwork(f"no network ({cause(exception)})")


class RobotsErrorMiddleware:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RobotsErrorMiddleware:
        if not crawler.settings.getbool("ROBOTSTXT_OBEY"):
            raise NotConfigured("ROBOTSTXT_OBEY is off")
        return cls(crawler)

    def process_exception(self, request: Request, exception: Exception) -> None:
        if not request.meta.get("dont_obey_robotstxt") or not request.url.endswith("/robots.txt"):
            return
        if isinstance(exception, IgnoreRequest):
            return
        inc(self.crawler, NETWORK_ROBOTS_FAILED)
        logger.warning(
            "robots.txt of %s could not be fetched (%s): crawling it as allowed",
            urlparse_cached(request).hostname, cause(exception),
        )  # fmt: skip
        raise IgnoreRequest(f"robots.txt failed: {cause(exception)}")
