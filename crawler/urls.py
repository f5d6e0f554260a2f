"""The URL policy's verdicts: may a URL a page named be fetched? (pure, but for ``resolve_host``).

Applied by ``crawler.middlewares.urlpolicy``. Docs: docs/limits.md ("Where the crawler may connect").
"""

from __future__ import annotations

import functools
import ipaddress
import re
import socket
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

SCHEMES = frozenset(["http", "https"])
# WHATWG URL parsing strips these before reading a URL, browsers too: so does the policy.
_STRIPPED_RE = re.compile(r"[\t\n\r]")
_UNSAFE_RE = re.compile(r"[\x00-\x20\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff\"<>\\^`{|}]")
_IPV4_SPELLING_RE = re.compile(r"^(?:0x[0-9a-f]*|[0-9]+)(?:\.(?:0x[0-9a-f]*|[0-9]+)){0,3}\.?$", re.I)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


@dataclass(frozen=True)
class Verdict:
    """``url`` (absolute, cleaned) and ``reason`` (empty when the URL may be fetched)."""

    url: str
    reason: str = ""
    host: str = ""

    @property
    def ok(self) -> bool:
        return not self.reason


def resolve(raw: str, base: str = "") -> str:
    """``raw`` made absolute against ``base``: tabs and line breaks removed as browsers do, and
    spaces, controls and bidi characters percent-encoded (they never reach an output verbatim)."""
    url = _STRIPPED_RE.sub("", raw).strip(" \x00\x0b\x0c")
    if url.startswith("//"):
        url = "https:" + url
    if base:
        try:
            url = urljoin(base, url)
        except ValueError:
            pass
    return _UNSAFE_RE.sub(lambda m: "".join(f"%{b:02X}" for b in m.group().encode("utf-8")), url)


def address_problem(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    """Why the crawler must not connect to ``address`` (a class name), or ``""``."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address.teredo:
            embedded = address.teredo[1]
        if embedded is None and address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            return address_problem(embedded)
    if address.is_unspecified:
        return "unspecified"
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link_local"
    if address.is_multicast:
        return "multicast"
    if address.is_reserved:
        return "reserved"
    if address.is_private:
        return "private"
    if not address.is_global:
        return "reserved"
    return ""


def literal_address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address a host names literally, in any spelling ``inet_aton`` accepts, or None."""
    host = host.strip("[]")
    if ":" in host:
        try:
            return ipaddress.IPv6Address(host.split("%", 1)[0])
        except ValueError:
            return None
    if _IPV4_SPELLING_RE.match(host):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host.rstrip(".")))
        except OSError:
            return None
    return None


# Pure, and asked twice of each image (its request, then its result: crawler.pipelines.thumbnails).
@functools.lru_cache(maxsize=1024)
def vet_url(raw: str, base: str = "") -> Verdict:
    """Whether a page-derived URL may be fetched, as far as the URL itself tells; a host name
    still has to pass ``vet_addresses`` once resolved."""
    url = resolve(raw, base)
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").rstrip(".").lower()
        parts.port  # noqa: B018 (raises ValueError on a bad port)
    except ValueError:
        return Verdict(url, "malformed")
    if parts.scheme.lower() not in SCHEMES:
        return Verdict(url, "scheme")
    if not host:
        return Verdict(url, "no_host")
    if parts.username is not None or parts.password is not None:
        return Verdict(url, "credentials", host)
    if host == "localhost" or host.endswith(".localhost"):
        return Verdict(url, "loopback", host)
    address = literal_address(host)
    if address is not None:
        return Verdict(url, address_problem(address), host)
    if _IPV4_SPELLING_RE.match(host) or ":" in host:  # looks like an address but is none
        return Verdict(url, "malformed", host)
    return Verdict(url, "", host)


def is_address(host: str) -> bool:
    """Whether ``host`` is an address literal (nothing to resolve)."""
    return literal_address(host) is not None


def vet_addresses(addresses: list[str]) -> str:
    """Why a host resolving to ``addresses`` must not be reached (the first problem), or ``""``."""
    if not addresses:
        return "unresolvable"
    for text in addresses:
        try:
            problem = address_problem(ipaddress.ip_address(text.split("%", 1)[0]))
        except ValueError:
            problem = "unresolvable"
        if problem:
            return problem
    return ""


def resolve_host(host: str) -> list[str]:
    """Every address the system resolver gives for ``host`` (blocking: run it in a thread)."""
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return []
    return sorted({str(info[4][0]) for info in infos})
