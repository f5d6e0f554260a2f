"""The URL policy (``crawler.urls``) at the one place every page-derived request passes.

``UrlPolicyMiddleware`` checks each request whose ``meta["urlpolicy"]`` is true (the image
requests of ``crawler.pipelines.thumbnails``): the URL by ``vet_url``, then, for a host name, every
address the resolver gives (``vet_addresses``). A refused request raises ``UrlRefused`` (an
``IgnoreRequest``) before anything is sent, robots.txt included: the middleware runs before
``RobotsTxtMiddleware`` (100), which would otherwise fetch ``/robots.txt`` from the refused host.
Redirects are checked too: ``RedirectMiddleware`` sends the redirected request, meta and all,
through ``process_request`` again. Resolutions are kept for the crawl (one lookup per host).

Settings: ``URLPOLICY_ENABLED`` (default True), ``URLPOLICY_RESOLVER`` (dotted path of a
``host -> list[str]`` function, default ``crawler.urls.resolve_host``; see ``crawler.urls`` for why).
Meta keys: ``urlpolicy`` (check this request). Stats: ``urlpolicy/allowed``,
``urlpolicy/refused/<reason>``.
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

from crawler.urls import is_address, vet_addresses, vet_url

logger = logging.getLogger(__name__)


class UrlRefused(IgnoreRequest):
    """A page-derived URL the policy refuses; ``reason`` names the rule (``scheme``, ``private``...)."""

    def __init__(self, reason: str, url: str) -> None:
        super().__init__(f"{reason}: {url}")
        self.reason = reason
        self.url = url


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

    def _inc(self, key: str) -> None:
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(key)

    async def process_request(self, request: Request) -> None:
        if not request.meta.get(self.META_KEY):
            return
        verdict = vet_url(request.url)
        reason = verdict.reason
        if not reason and not is_address(verdict.host):
            if verdict.host not in self.resolved:
                self.resolved[verdict.host] = vet_addresses(list(await self.lookup(verdict.host)))
            reason = self.resolved[verdict.host]
        if reason:
            self._inc(f"urlpolicy/refused/{reason}")
            raise UrlRefused(reason, request.url)
        self._inc("urlpolicy/allowed")
