"""The connection's own name lookup held to the URL policy: a name the policy found public that
resolves to a loopback, private or reserved address when the crawl connects (DNS rebinding) is
refused there, and its request fails as refused (``rebound``). Scrapy's ``TWISTED_DNS_RESOLVER``.
Docs: docs/limits.md ("Where the crawler may connect").
"""

from __future__ import annotations

from collections.abc import Sequence

from scrapy.resolver import CachingThreadedResolver
from twisted.internet.defer import Deferred
from twisted.internet.error import DNSLookupError
from twisted.internet.interfaces import IResolverSimple
from zope.interface import implementer

from crawler.urls import vet_addresses

# One resolver serves the process (Scrapy installs it on the reactor), so what the URL policy
# found and what the lookup refused are kept here for the process: host names, a handful per crawl.
PUBLIC: set[str] = set()  # names the URL policy resolved to public addresses only
REBOUND: dict[str, str] = {}  # name -> what it resolved to when the crawl connected, and why refused


def _name(host: str) -> str:
    return host.rstrip(".").lower()


def vetted(host: str) -> None:
    """The URL policy let ``host`` through: its connection's lookup must agree."""
    PUBLIC.add(_name(host))


def rebound(host: str) -> str:
    """What ``host`` resolved to when the crawl connected, if it was refused for it ("" if not)."""
    return REBOUND.get(_name(host), "")


@implementer(IResolverSimple)
class GuardedResolver(CachingThreadedResolver):
    def getHostByName(self, name: str, timeout: Sequence[int] = ()) -> Deferred[str]:
        answer = self.lookup(name, timeout)
        if _name(name) in PUBLIC:
            answer.addCallback(self._vet, name)
        return answer

    def lookup(self, name: str, timeout: Sequence[int]) -> Deferred[str]:
        """The address of ``name`` (Scrapy's cached, threaded lookup)."""
        return super().getHostByName(name, timeout)

    def _vet(self, address: str, name: str) -> str:
        problem = vet_addresses([address])
        if problem:
            REBOUND[_name(name)] = f"{address} ({problem})"
            raise DNSLookupError(f"{name} resolved to {address} ({problem}) when connecting: refused")
        REBOUND.pop(_name(name), None)
        return address
