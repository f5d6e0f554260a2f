"""A download handler that can fetch every URL from a local mirror of qq.com.

With ``QQ_MIRROR_URL = "http://127.0.0.1:8765"``, a request for ``https://news.qq.com/rain/a/X``
is downloaded from ``http://127.0.0.1:8765/news.qq.com/rain/a/X`` and the response comes back
under the original URL. The rest of the crawler (download slots per host, robots.txt, redirects,
extraction) sees qq.com exactly as on the network, and nothing leaves the machine: requests for
every host go to the mirror. With the setting empty (the default) this is Scrapy's own HTTP/1.1
handler, unchanged.

It is a download handler rather than a downloader middleware because a middleware can only
change a request's URL by rescheduling a new request, which the rest of the stack would then see.
Stats: ``mirror/requests``.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from scrapy import Request
from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler
from scrapy.crawler import Crawler
from scrapy.http import Response


def mirror_url(mirror: str, url: str) -> str:
    """Where ``url`` lives on the mirror: ``<mirror>/<host>/<path>?<query>``."""
    parts = urlsplit(url)
    query = f"?{parts.query}" if parts.query else ""
    return f"{mirror.rstrip('/')}/{parts.netloc}{parts.path or '/'}{query}"


class MirrorDownloadHandler(HTTP11DownloadHandler):
    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self.mirror: str = crawler.settings.get("QQ_MIRROR_URL", "")

    async def download_request(self, request: Request) -> Response:
        if not self.mirror:
            return await super().download_request(request)
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value("mirror/requests")
        response = await super().download_request(request.replace(url=mirror_url(self.mirror, request.url)))
        return response.replace(url=request.url)
