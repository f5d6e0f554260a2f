"""Tencent's refusals: back off per download slot, honour ``Retry-After``, close the crawl when a host blocks it.

What Scrapy's retry and AutoThrottle lack, added after ``RetryMiddleware`` (550) on the way in.
Docs: docs/limits.md ("Being refused").
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Response
from scrapy.utils.defer import deferred_from_coro

from crawler.stats import (
    THROTTLE_BACKOFF,
    THROTTLE_BLOCKED,
    THROTTLE_MAX_DELAY,
    THROTTLE_REFUSED,
    THROTTLE_REFUSED_SECONDS,
    inc,
    max_value,
    set_value,
)

logger = logging.getLogger(__name__)


def retry_after_seconds(value: bytes | str | None, now: datetime) -> float | None:
    """Seconds a ``Retry-After`` header asks to wait (delta-seconds or HTTP date), None if unusable."""
    if not value:
        return None
    text = (value.decode("latin-1") if isinstance(value, bytes) else value).strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


@dataclass
class _Refusals:
    """A host's current run of refusals."""

    since: float  # monotonic time of the first refusal of the run
    delay_before: float  # the slot's delay before the run
    count: int = 0


class ThrottleMiddleware:
    def __init__(self, crawler: Crawler) -> None:
        settings = crawler.settings
        if not settings.getbool("THROTTLE_ENABLED"):
            raise NotConfigured("THROTTLE_ENABLED is off")
        self.crawler = crawler
        self.codes = {int(code) for code in settings.getlist("THROTTLE_HTTP_CODES")}
        self.base = settings.getfloat("THROTTLE_BACKOFF_BASE")
        self.max_delay = settings.getfloat("THROTTLE_MAX_DELAY")
        self.blocked_after = settings.getfloat("THROTTLE_BLOCKED_AFTER")
        self.refusals: dict[str, _Refusals] = {}
        self._closing: Any = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ThrottleMiddleware:
        middleware = cls(crawler)
        crawler.signals.connect(middleware.spider_closed, signal=signals.spider_closed)
        return middleware

    def _refused_for(self, run: _Refusals) -> None:
        """Add a run of refusals to ``throttle/refused_seconds`` (the refusals monitor reads it)."""
        inc(self.crawler, THROTTLE_REFUSED_SECONDS, round(time.monotonic() - run.since, 3))

    def spider_closed(self) -> None:
        for run in self.refusals.values():
            self._refused_for(run)
        self.refusals.clear()

    def process_response(self, request: Request, response: Response) -> Request | Response:
        key = request.meta.get("download_slot")
        if key is None:
            return response
        assert self.crawler.engine is not None
        slot = self.crawler.engine.downloader.slots.get(key)
        if response.status not in self.codes:
            run = self.refusals.pop(key, None)
            if run is not None:
                self._refused_for(run)
            if run is not None and slot is not None:
                slot.delay = run.delay_before
                logger.info("%s answers again after %d refusals: delay back to %.2fs", key, run.count, slot.delay)
            return response
        now = time.monotonic()
        run = self.refusals.setdefault(key, _Refusals(since=now, delay_before=slot.delay if slot else 0.0))
        run.count += 1
        inc(self.crawler, THROTTLE_REFUSED, status=response.status)
        if now - run.since >= self.blocked_after:
            self._block(key, request, response, run)
            return response
        asked = retry_after_seconds(response.headers.get("Retry-After"), datetime.now(UTC))
        wait = min(self.max_delay, max(asked or 0.0, self.base * 2 ** (run.count - 1), run.delay_before))
        if slot is not None and wait > slot.delay:
            slot.delay = wait
            inc(self.crawler, THROTTLE_BACKOFF)
            max_value(self.crawler, THROTTLE_MAX_DELAY, round(wait, 3))
            logger.info(
                "%s refused %s (HTTP %s, refusal %d in a row, Retry-After %r): waiting %.2fs between its requests",
                key, request.url, response.status, run.count, asked, wait,
            )  # fmt: skip
        return response

    def _block(self, key: str, request: Request, response: Response, run: _Refusals) -> None:
        # This answer goes to the spider as the failure it is; nothing more is asked of anyone.
        request.meta["dont_retry"] = True
        if self._closing is not None:
            return
        assert self.crawler.engine is not None
        set_value(self.crawler, THROTTLE_BLOCKED, 1)
        logger.error(
            "%s has refused every request for %.0fs (%d refusals, last HTTP %s for %s): closing the crawl as blocked",
            key, time.monotonic() - run.since, run.count, response.status, request.url,
        )  # fmt: skip
        self._closing = deferred_from_coro(self.crawler.engine.close_spider_async(reason="blocked"))
