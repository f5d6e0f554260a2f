"""The URL policy for what a page makes the crawler fetch (pure, but for ``resolve_host``).

A page names image URLs (share image, ``og:image``, body images), and the redirects of those
URLs name more. None of them may make the crawler read a local file or reach a machine that is
not on the public internet (a Redis on 127.0.0.1:6379, a cloud metadata service on
169.254.169.254, an intranet host). So a page-derived URL is fetched only if:

* it resolves, against the page's URL, to an absolute ``http`` or ``https`` URL with a host
  (``file:``, ``data:``, ``javascript:``, ``ftp:``... are refused: ``scheme``);
* its host is not an address, in any spelling (``127.1``, ``2130706433``, ``0x7f.0.0.1``,
  ``0177.0.0.1``, ``[::1]``, ``[::ffff:127.0.0.1]``, NAT64 and 6to4 forms), nor a name
  (``localhost``, ``*.localhost``), that is loopback, private, link-local, multicast, reserved
  or unspecified (the reason names the class);
* and every address its name resolves to passes the same test (``vet_addresses``): a public
  name that resolves to 10.0.0.5 is refused (``private``), one that does not resolve is
  refused (``unresolvable``).

``vet_url`` checks the first two (no I/O); the downloader middleware
``crawler.middlewares.urlpolicy`` applies all three to every request the crawl makes and to every
redirect hop (a name that does not resolve is let through only for the crawl's own requests, so
that a machine without DNS still reads as "no network").

How names are resolved, and why so: the middleware calls the function named by the setting
``URLPOLICY_RESOLVER`` (a dotted path, ``host -> list of address strings``, run in a thread), whose
default is ``resolve_host`` below (the system resolver, ``getaddrinfo``). Production needs no
configuration and checks what the machine would really connect to. Tests run the real crawl
against a loopback mirror with no DNS at all, and name a resolver of their own
(``tests/resolver.py``) on the command line, the way they name the mirror: test code and test
answers live in the tests and reach the crawler only through a setting, so no test host map, no
"skip the check when mirrored" switch and no loopback allowance exists in production code. (A
static host map in the settings was the other choice: it would have made the tests' answers a
production setting.) The check is made when the request is scheduled; the connection resolves the
name again, so a name whose answer changes in between (DNS rebinding) is not caught: closing that
needs a resolver at connection time (``DNS_RESOLVER``), which would also govern the page requests.
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
    """Whether a page-derived URL may be fetched, as far as the URL itself tells (see the module
    docstring); a host name still has to pass ``vet_addresses`` once resolved."""
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
