"""Faults below the page, named: why a request failed, in words and as a stats reason (pure).

``why()`` is the text of every drop line (never empty: the exception's class when it has no
message); ``transport_fault()`` tells the failures that are the answer's fault, not the network's:
a body too big (``too_big``), a redirect loop (``redirect_loop``), a download cancelled by a stop
(``stopped``). Docs: docs/limits.md.
"""

from __future__ import annotations

from scrapy.exceptions import DownloadCancelledError, IgnoreRequest
from scrapy.utils._compression import _DecompressionMaxSizeExceeded


class ResponseTooBig(DownloadCancelledError):
    """A download cancelled because its body went past ``DOWNLOAD_MAXSIZE`` (or its request's
    ``download_maxsize``): raised by ``crawler.handlers`` for Scrapy's size cancellations."""


class DownloadStopped(IgnoreRequest):
    """A download cancelled because the crawl is stopping (``crawler.extensions.stop``)."""


def why(error: BaseException) -> str:
    """An exception as a reason: its message, or its class name when it has none."""
    text = str(error).strip()
    return text or type(error).__name__


def too_big(error: BaseException) -> bool:
    """A body past the size limit: cut while downloading (``ResponseTooBig``, Scrapy's handler
    message) or while Scrapy's ``HttpCompressionMiddleware`` inflated it (an ``IgnoreRequest``
    whose cause is Scrapy's ``_DecompressionMaxSizeExceeded``)."""
    if isinstance(error, ResponseTooBig):
        return True
    if isinstance(error, DownloadCancelledError) and "max size" in str(error):
        return True
    return isinstance(error, IgnoreRequest) and isinstance(error.__cause__, _DecompressionMaxSizeExceeded)


def redirect_loop(error: BaseException) -> bool:
    """Scrapy's ``RedirectMiddleware`` gave up: more hops than ``REDIRECT_MAX_TIMES`` (a loop)."""
    return isinstance(error, IgnoreRequest) and "max redirections" in str(error)


def transport_fault(error: BaseException) -> str | None:
    """The stats reason of a failure that is the answer's fault, or None for any other."""
    if too_big(error):
        return "too_big"
    if redirect_loop(error):
        return "redirect_loop"
    if isinstance(error, DownloadStopped):
        return "stopped"
    return None
