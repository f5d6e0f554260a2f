"""Size limits per kind of request: feed pages and sitemaps get their own ``download_maxsize``.

Scrapy applies ``DOWNLOAD_MAXSIZE`` (or a request's ``download_maxsize``) to the body as it arrives
and, in its ``HttpCompressionMiddleware``, to the body as it is inflated; a gzipped ``.xml.gz``
sitemap is inflated by ``crawler.qq.feeds.sitemap_xml`` under the same limit. This middleware only
sets the limit of the discovery requests (``meta["qq_source_stats"]`` names them, see
``crawler.qq.feeds``) that do not set one: ``SIZES_FEED_MAXSIZE``, ``SIZES_SITEMAP_MAXSIZE``.
Article pages keep ``DOWNLOAD_MAXSIZE``, images ``THUMBNAILS_MAXSIZE``. Docs: docs/limits.md.
"""

from __future__ import annotations

from scrapy import Request
from scrapy.crawler import Crawler

from crawler.stats import QQ_FEED_BAD, QQ_SITEMAP_BAD, parent


class SizeLimitMiddleware:
    def __init__(self, limits: dict[str, int]) -> None:
        self.limits = limits  # meta["qq_source_stats"] -> download_maxsize

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SizeLimitMiddleware:
        settings = crawler.settings
        return cls({
            parent(QQ_FEED_BAD): settings.getint("SIZES_FEED_MAXSIZE"),
            parent(QQ_SITEMAP_BAD): settings.getint("SIZES_SITEMAP_MAXSIZE"),
        })  # fmt: skip

    def process_request(self, request: Request) -> None:
        limit = self.limits.get(request.meta.get("qq_source_stats", ""))
        if limit:
            request.meta.setdefault("download_maxsize", limit)
