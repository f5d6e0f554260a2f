"""Connection resolvers (``TWISTED_DNS_RESOLVER``) for a name that rebinds: ``rebinding.example``
answers public to the URL policy (``tests.mirror.resolver``) and loopback when the crawl connects,
where a test's server listens. No DNS query leaves the machine for it."""

from __future__ import annotations

from collections.abc import Sequence

from scrapy.resolver import CachingThreadedResolver
from twisted.internet.defer import Deferred, succeed

from crawler.resolver import GuardedResolver

NAME = "rebinding.example"


class Rebinding(GuardedResolver):
    """The crawl's resolver, over a lookup that answers loopback for ``NAME``."""

    def lookup(self, name: str, timeout: Sequence[int]) -> Deferred[str]:
        return succeed("127.0.0.1") if name == NAME else super().lookup(name, timeout)


class Unguarded(CachingThreadedResolver):
    """Scrapy's own resolver over the same lookup: what the crawl did before ``crawler.resolver``."""

    def getHostByName(self, name: str, timeout: Sequence[int] = ()) -> Deferred[str]:
        return succeed("127.0.0.1") if name == NAME else super().getHostByName(name, timeout)
