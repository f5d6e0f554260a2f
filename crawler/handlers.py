"""The crawl's HTTP(S) download handler: Scrapy's ``HTTP11DownloadHandler``, stoppable and plain-spoken.

* ``refuse()`` fails every later download at once but an article's images, and ``stop()`` cancels
  every download in flight (its connection is aborted) and every later one, each with
  ``crawler.faults.DownloadStopped``: ``crawler.extensions.stop`` calls the first when a crawl
  starts closing (Scrapy's downloader would still send the requests it holds for their slot's
  delay) and the second when its grace (``STOP_GRACE``) has passed, so a slow page cannot hold the stop.
* A download Scrapy cancels for its size (``DOWNLOAD_MAXSIZE``, or the request's
  ``download_maxsize``) fails as ``crawler.faults.ResponseTooBig``, naming the limit (Scrapy's own
  cancellation after the body started says nothing).
* A download error without a message gets one (a body shorter than its ``Content-Length`` was an
  empty ``ResponseDataLossError``), so Scrapy's retry give-up line and every drop line say why.

Docs: docs/limits.md. It needs the asyncio reactor (Scrapy's default); under another one it
downloads as Scrapy's handler does and ``stop()`` cancels nothing.
"""

from __future__ import annotations

import asyncio

from scrapy import Request
from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler
from scrapy.crawler import Crawler
from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    ResponseDataLossError,
)
from scrapy.http import Response
from scrapy.utils.asyncio import is_asyncio_available
from scrapy.utils.httpobj import urlparse_cached

from crawler.faults import DownloadStopped, ResponseTooBig
from crawler.middlewares.urlpolicy import UrlRefused
from crawler.resolver import rebound
from crawler.stats import URLPOLICY_REFUSED, inc

# Sent by crawler.extensions.stop when a crawl starts closing: no new download but those that
# finish an article already downloaded (its images, FINISHING_META in their meta) ...
refuse_downloads = object()
# ... and STOP_GRACE seconds later: every download in flight is cancelled (each handler answers how many).
stop_downloads = object()
FINISHING_META = "qq_image_role"

# What a Scrapy download error without a message means.
SILENT_ERRORS: dict[type[Exception], str] = {
    ResponseDataLossError: "the connection closed before the whole body arrived (shorter than its Content-Length)",
    DownloadFailedError: "the download failed (no reason given)",
    DownloadTimeoutError: "the download timed out",
    DownloadConnectionRefusedError: "the connection was refused",
    CannotResolveHostError: "the host name could not be resolved",
}


class StoppableDownloadHandler(HTTP11DownloadHandler):
    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self.maxsize = crawler.settings.getint("DOWNLOAD_MAXSIZE")
        self.in_flight: set[asyncio.Future[Response]] = set()
        self.stopped = False
        self.refusing = False
        crawler.signals.connect(self.stop, signal=stop_downloads)
        crawler.signals.connect(self.refuse, signal=refuse_downloads)

    def refuse(self) -> None:
        """Start no download but an article's images (the requests the downloader still holds
        for their slot's delay or concurrency fail at once)."""
        self.refusing = True

    def stop(self) -> int:
        """Cancel every download in flight, and every later one; how many were cancelled."""
        self.stopped = True
        cancelled = 0
        for download in list(self.in_flight):
            cancelled += download.cancel()
        return cancelled

    async def download_request(self, request: Request) -> Response:
        if self.stopped or (self.refusing and not request.meta.get(FINISHING_META)):
            raise DownloadStopped("not asked for: the crawl is stopping")
        if not is_asyncio_available():
            return await self._named(request)
        download = asyncio.ensure_future(self._named(request))
        self.in_flight.add(download)
        try:
            return await download
        except asyncio.CancelledError:
            if not download.cancelled():  # this task itself was cancelled, not the download
                raise
            raise DownloadStopped("cancelled: the crawl is stopping") from None
        finally:
            self.in_flight.discard(download)

    async def _named(self, request: Request) -> Response:
        try:
            return await super().download_request(request)
        except ResponseTooBig:
            raise
        except DownloadCancelledError as error:
            # Scrapy cancels a download for its size alone (a timeout is DownloadTimeoutError).
            limit = request.meta.get("download_maxsize", self.maxsize)
            raise ResponseTooBig(f"the body is larger than the download max size ({limit} bytes)") from error
        except CannotResolveHostError as error:
            host = urlparse_cached(request).hostname or ""
            if rebound(host):  # crawler.resolver refused the private address it resolved to when connecting
                inc(self.crawler, URLPOLICY_REFUSED, why="rebound")
                raise UrlRefused("rebound", request.url) from error
            self._say(error)
            raise
        except Exception as error:
            self._say(error)
            raise

    @staticmethod
    def _say(error: Exception) -> None:
        """Raise one of ``error``'s kind that says what it means, when it says nothing."""
        if not str(error).strip():
            for kind, text in SILENT_ERRORS.items():
                if isinstance(error, kind):
                    raise kind(text) from error
