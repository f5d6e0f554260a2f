"""Scrapy's robots.txt middleware, with every request that waits for a host's robots.txt judged by it.

Scrapy 2.19's ``RobotsTxtMiddleware.robot_parser`` awaits the one Deferred that the robots.txt
download fires: the first waiter takes the parser, and every other request that arrived while
robots.txt was being fetched gets ``None``, which Scrapy reads as "allowed". Each waiter here
gets the parser through a Deferred of its own (as Scrapy did before 2.13). Docs: docs/limits.md.
"""

from __future__ import annotations

from scrapy import Request
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware as ScrapyRobotsTxtMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.robotstxt import RobotParser
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.defer import Deferred

from crawler import ledger


class RobotsTxtMiddleware(ScrapyRobotsTxtMiddleware):
    def process_request_2(self, rp: RobotParser | None, request: Request) -> None:
        """Scrapy's judgement; a request it forbids ends with its ledger outcome (not_fetched/robots_txt)."""
        try:
            super().process_request_2(rp, request)
        except IgnoreRequest as forbidden:
            raise ledger.Settled(str(forbidden), (ledger.NOT_FETCHED, "robots_txt")) from forbidden

    async def robot_parser(self, request: Request) -> RobotParser | None:
        pending = self._parsers.get(urlparse_cached(request).netloc)
        if not isinstance(pending, Deferred):
            return await super().robot_parser(request)  # known, or this request fetches robots.txt
        waiter: Deferred[RobotParser | None] = Deferred()

        def relay(parser: RobotParser | None) -> RobotParser | None:
            waiter.callback(parser)
            return parser  # for the next waiter

        pending.addCallback(relay)
        return await maybe_deferred_to_future(waiter)
