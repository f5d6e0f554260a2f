"""A download handler that fetches every URL from the local mirror of qq.com (tests, benchmarks, demo).

Not part of the crawler: switched on by ``tests/mirror/settings.py`` (the project's settings plus
this handler), or by ``DOWNLOAD_HANDLERS`` = ``MIRROR_HANDLERS`` as a setting. With
``QQ_MIRROR_URL = "http://127.0.0.1:8765"``, a request for ``https://news.qq.com/rain/a/X`` is
downloaded from ``http://127.0.0.1:8765/news.qq.com/rain/a/X`` and the response comes back under
the original URL. The rest of the crawler (download slots per host, robots.txt, redirects,
AutoThrottle, extraction) sees qq.com exactly as on the network, and nothing leaves the machine.

It is the crawl's own handler (``crawler.handlers``: stoppable, sizes named) pointed at the
mirror. It is a download handler rather than a downloader middleware because a middleware can only
change a request's URL by rescheduling a new request, which the rest of the stack would then see.
The download latency Scrapy records on the copy sent to the mirror is put back on the original
request, so AutoThrottle adjusts to the mirror's real latency. Stats: ``mirror/requests``.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Response

from crawler.handlers import StoppableDownloadHandler

MIRROR_HANDLERS = {"http": "tests.mirror.handler.MirrorDownloadHandler", "https": "tests.mirror.handler.MirrorDownloadHandler"}


# No DNS here: the URL policy (crawler.urls) resolves names through the mirror's own table.
MIRROR_RESOLVER = "tests.mirror.resolver.resolve"


def mirror_settings(mirror_url: str) -> list[str]:
    """``-s`` arguments that send a ``scrapy crawl`` to the mirror at ``mirror_url``."""
    return [
        "-s", f"QQ_MIRROR_URL={mirror_url}", "-s", f"DOWNLOAD_HANDLERS={json.dumps(MIRROR_HANDLERS)}",
        "-s", f"URLPOLICY_RESOLVER={MIRROR_RESOLVER}",
    ]  # fmt: skip


def mirror_url(mirror: str, url: str) -> str:
    """Where ``url`` lives on the mirror: ``<mirror>/<host>/<path>?<query>``."""
    parts = urlsplit(url)
    query = f"?{parts.query}" if parts.query else ""
    return f"{mirror.rstrip('/')}/{parts.netloc}{parts.path or '/'}{query}"


class MirrorDownloadHandler(StoppableDownloadHandler):
    def __init__(self, crawler: Crawler) -> None:
        self.mirror: str = crawler.settings.get("QQ_MIRROR_URL", "")
        if not self.mirror:
            raise NotConfigured("the mirror handler needs QQ_MIRROR_URL")
        super().__init__(crawler)

    async def download_request(self, request: Request) -> Response:
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value("mirror/requests")
        sent = request.replace(url=mirror_url(self.mirror, request.url))
        try:
            response = await super().download_request(sent)
        finally:
            if "download_latency" in sent.meta:
                request.meta["download_latency"] = sent.meta["download_latency"]
        return response.replace(url=request.url)
