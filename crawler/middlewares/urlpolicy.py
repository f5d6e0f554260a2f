"""The URL policy (``crawler.urls``) applied to every request the crawl makes, and to every redirect hop.

Docs: docs/limits.md ("Where the crawler may connect"). Settings: ``URLPOLICY_ENABLED``,
``URLPOLICY_RESOLVER``. Stats: ``urlpolicy/allowed``, ``urlpolicy/refused/<reason>``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.misc import load_object
from twisted.internet.threads import deferToThread

from crawler.resolver import vetted
from crawler.stats import URLPOLICY_ALLOWED, URLPOLICY_REFUSED, inc
from crawler.urls import is_address, vet_addresses, vet_url

logger = logging.getLogger(__name__)


class UrlRefused(IgnoreRequest):
    """A URL the policy refuses; ``reason`` names the rule (``scheme``, ``private``...)."""

    def __init__(self, reason: str, url: str) -> None:
        super().__init__(f"{reason}: {url}")
        self.reason = reason
        self.url = url


def page_derived(request: Request) -> bool:
    """Whether a page (not the crawl's own arguments and sources) chose this URL: a URL a page named
    (``meta["urlpolicy"]``: images, sitemap-index links) or any redirect's target."""
    return bool(request.meta.get(UrlPolicyMiddleware.META_KEY) or request.meta.get("redirect_urls"))


class UrlPolicyMiddleware:
    META_KEY = "urlpolicy"

    def __init__(self, crawler: Crawler, resolver: Callable[[str], list[str]]) -> None:
        self.crawler = crawler
        self.resolver = resolver
        self.resolved: dict[str, str] = {}  # host -> its problem ("" when fine)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> UrlPolicyMiddleware:
        settings = crawler.settings
        if not settings.getbool("URLPOLICY_ENABLED"):
            raise NotConfigured("URLPOLICY_ENABLED is off")
        return cls(crawler, load_object(settings.get("URLPOLICY_RESOLVER")))

    async def lookup(self, host: str) -> list[str]:
        """The resolver's answer, from a thread (``getaddrinfo`` blocks)."""
        return await maybe_deferred_to_future(deferToThread(self.resolver, host))

    async def process_request(self, request: Request) -> None:
        verdict = vet_url(request.url)
        reason = verdict.reason
        if not reason and not is_address(verdict.host):
            if verdict.host not in self.resolved:
                self.resolved[verdict.host] = vet_addresses(list(await self.lookup(verdict.host)))
                if not self.resolved[verdict.host]:
                    vetted(verdict.host)  # the connection's own lookup must agree (crawler.resolver)
            reason = self.resolved[verdict.host]
            # A name that does not resolve cannot be reached: the crawl's own requests go on, so
            # that the downloader's DNS failure tells "no network" (crawler.middlewares.network).
            if reason == "unresolvable" and not page_derived(request):
                reason = ""
        if reason:
            inc(self.crawler, URLPOLICY_REFUSED, why=reason)
            raise UrlRefused(reason, request.url)
        inc(self.crawler, URLPOLICY_ALLOWED)
