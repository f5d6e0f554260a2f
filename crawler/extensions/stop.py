"""A prompt stop: a closing crawl waits at most ``STOP_GRACE`` seconds for the downloads in flight.

On the first SIGTERM or SIGINT (Scrapyd's cancel, ``systemctl stop``, Ctrl-C) Scrapy stops the
engine: no new request is sent, and the crawl closes with the reason ``shutdown`` once every
request in progress is done, however slow its server. The same holds for a crawl closing for
any other reason (``network``, ``output_lost``...). This extension watches for a closing engine
and, at once, has no new download started but an article's images (Scrapy's downloader still
holds requests waiting for their slot's delay; ``crawler.handlers.StoppableDownloadHandler.refuse``),
then, ``STOP_GRACE`` seconds into it, cancels the downloads still in flight (``stop``): their
connections are aborted. Each fails as ``crawler.faults.DownloadStopped``, which the spider passes
over without recording anything; an article whose image was cancelled is not written
(``thumbnails/dropped/stopped``), so the next run fetches those articles. What was already downloaded goes through the pipelines and is written
whole (every file through a temporary file and a rename). The exit code of an interrupted crawl
is 1 (``crawler.exitcode``); a second signal is Scrapy's forced, unclean stop.

Docs: docs/limits.md. Settings: ``STOP_GRACE`` (seconds; 0 cancels at once). Stats:
``stop/cancelled`` (downloads cancelled), ``stop/seconds`` (from the stop to the last download
left, cancelled or done).
"""

from __future__ import annotations

import logging
from time import monotonic
from typing import Any

from scrapy import signals
from scrapy.core.engine import ExecutionEngine
from scrapy.crawler import Crawler
from scrapy.utils.asyncio import create_looping_call

from crawler.handlers import refuse_downloads, stop_downloads
from crawler.stats import STOP_CANCELLED, STOP_SECONDS, set_value

logger = logging.getLogger(__name__)

TICK = 0.2  # seconds between two looks at the engine


def closing(engine: ExecutionEngine) -> bool:
    """Whether the engine is stopping or closing its spider (Scrapy has no signal for it: its
    slot's ``closing`` is set when ``close_spider_async`` starts, ``running`` is cleared on a stop)."""
    slot = getattr(engine, "_slot", None)
    return not engine.running or (slot is not None and slot.closing is not None)


class PromptStop:
    def __init__(self, crawler: Crawler, grace: float) -> None:
        self.crawler = crawler
        self.grace = grace
        self.since: float | None = None  # when the engine was first seen closing
        self.cancelled = False
        self.loop: Any = None  # the looping call, made when the engine starts (the reactor is there)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PromptStop:
        extension = cls(crawler, crawler.settings.getfloat("STOP_GRACE"))
        crawler.signals.connect(extension.engine_started, signal=signals.engine_started)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def engine_started(self) -> None:
        self.loop = create_looping_call(self.watch)
        self.loop.start(TICK, now=False)

    def spider_closed(self) -> None:
        if self.loop is not None and self.loop.running:
            self.loop.stop()
        if self.since is not None:
            set_value(self.crawler, STOP_SECONDS, round(monotonic() - self.since, 1))

    def watch(self) -> None:
        engine = self.crawler.engine
        if engine is None or self.cancelled:
            return
        if self.since is None:
            if not closing(engine):
                return
            self.since = monotonic()
            self.crawler.signals.send_catch_log(refuse_downloads)
            if engine.downloader.active:
                logger.info(
                    "Closing: no new page is asked for; %d downloads in flight, cancelled in %g s (STOP_GRACE) if not done",
                    len(engine.downloader.active), self.grace,
                )  # fmt: skip
        if monotonic() - self.since < self.grace:
            return
        self.cancelled = True
        results = self.crawler.signals.send_catch_log(stop_downloads)
        count = sum(result for _, result in results if isinstance(result, int))
        if not count:
            return
        set_value(self.crawler, STOP_CANCELLED, count)
        logger.warning(
            "Closing: %d downloads still in flight after %g s cancelled (STOP_GRACE); the next run fetches them",
            count, self.grace,
        )  # fmt: skip
