"""A request that must not be sent before some seconds have passed: ``meta["qq_retry_delay"]``.

The spider retries a busy feed answer through Scrapy's ``get_retry_request`` and puts the backoff
in this meta key; this downloader middleware waits that long in ``process_request`` with Scrapy's
non-blocking ``scrapy.utils.asyncio.sleep``, then lets the request go on (the key is removed, so a
later retry of the same request by ``RetryMiddleware`` does not wait again).

Why here and not elsewhere: Scrapy 2.19 has no per-request delay (scrapy/scrapy#802 is still
open). ``DOWNLOAD_DELAY`` and ``DOWNLOAD_SLOTS`` space out every request of a slot, not one
request, and a sleep in a callback holds that callback's other output back; a timer that
schedules the request later would leave the engine idle meanwhile, and an idle engine closes the
crawl. A request waiting here is one of the downloader's active requests: the engine stays open
for it, the reactor and the other requests go on (it takes no place in any download slot, only
one of ``CONCURRENT_REQUESTS``). Any position in ``DOWNLOADER_MIDDLEWARES`` works; an early one
waits before the other middlewares look at the request.

Stats: ``delay/count`` (requests held back), ``delay/seconds`` (the waits, summed).
"""

from __future__ import annotations

import logging

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.utils.asyncio import sleep

from crawler.stats import DELAY_COUNT, DELAY_SECONDS, inc

logger = logging.getLogger(__name__)

META_KEY = "qq_retry_delay"


class DelayMiddleware:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> DelayMiddleware:
        return cls(crawler)

    async def process_request(self, request: Request) -> None:
        delay = float(request.meta.pop(META_KEY, 0) or 0)
        if delay <= 0:
            return
        inc(self.crawler, DELAY_COUNT)
        inc(self.crawler, DELAY_SECONDS, delay)
        logger.debug("Waiting %.2f s before %s", delay, request)
        await sleep(delay)
