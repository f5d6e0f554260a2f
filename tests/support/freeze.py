"""Test-only components that stop their crawl process (SIGSTOP) at one point of an article's life.

A test sets ``FREEZE_AT`` (a point below) and ``FREEZE_MARKER`` (a file), adds these components
(``freeze_settings()``), waits for the marker (``<point> <article id>``) and kills the frozen
process with ``kill -9``: the state it leaves is exactly the state at that point. Only the first
article to reach the point freezes the process.

Points, in an article's life: ``leased`` (taken from the shared queue, not claimed yet),
``requested`` (claimed in the store, about to be downloaded), ``response`` (its page received),
``recorded`` (its record put in the store, no file yet), ``written`` (its file on disk, lease not
acknowledged), ``acknowledged`` (its lease acknowledged in Redis).
"""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path
from typing import Any

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Response
from twisted.internet import task

from crawler import settings as project

POINTS = ("leased", "requested", "response", "recorded", "written", "acknowledged")


def freeze_settings(point: str, marker: Path) -> list[str]:
    """``-s`` arguments that freeze a crawl at ``point``, writing ``marker`` first."""
    assert point in POINTS, point
    here = "tests.support.freeze"
    downloader = {**project.DOWNLOADER_MIDDLEWARES, f"{here}.AtLeased": 10, f"{here}.AtRequested": 990}
    pipelines = {**project.ITEM_PIPELINES, f"{here}.AtRecorded": 250, f"{here}.AtWritten": 850}
    extensions = {**project.EXTENSIONS, f"{here}.AtResponse": 500}
    return [
        "-s", f"FREEZE_AT={point}", "-s", f"FREEZE_MARKER={marker}",
        "-s", f"DOWNLOADER_MIDDLEWARES={json.dumps(downloader)}", "-s", f"ITEM_PIPELINES={json.dumps(pipelines)}",
        "-s", f"EXTENSIONS={json.dumps(extensions)}",
    ]  # fmt: skip


class _Freeze:
    point = ""

    def __init__(self, crawler: Crawler) -> None:
        if crawler.settings.get("FREEZE_AT") != self.point:
            raise NotConfigured
        self.crawler = crawler
        self.marker = Path(crawler.settings["FREEZE_MARKER"])

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Any:
        return cls(crawler)

    def freeze(self, ident: str) -> None:
        self.marker.write_text(f"{self.point} {ident}", encoding="utf-8")
        os.kill(os.getpid(), signal.SIGSTOP)


class AtLeased(_Freeze):
    point = "leased"

    def process_request(self, request: Request) -> None:
        if request.meta.get("qq_id"):
            self.freeze(request.meta["qq_id"])


class AtRequested(AtLeased):
    point = "requested"


class AtRecorded(_Freeze):
    point = "recorded"

    def process_item(self, item: Any) -> Any:
        self.freeze(item.id)
        return item


class AtWritten(AtRecorded):
    point = "written"


class AtResponse(_Freeze):
    """``response``: on the article's page received; ``acknowledged``: once its lease is gone."""

    point = "response"

    def __init__(self, crawler: Crawler) -> None:
        point = crawler.settings.get("FREEZE_AT")
        if point == "acknowledged":
            self.point = point
        super().__init__(crawler)
        self.waiting: Request | None = None
        self.poll: task.LoopingCall | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> AtResponse:
        component = cls(crawler)
        if component.point == "response":
            crawler.signals.connect(component.response_received, signal=signals.response_received)
        else:
            crawler.signals.connect(component.item_scraped, signal=signals.item_scraped)
        return component

    def response_received(self, response: Response, request: Request) -> None:
        if request.meta.get("qq_id"):
            self.freeze(request.meta["qq_id"])

    def item_scraped(self, item: Any, response: Response) -> None:
        if self.poll is None:
            self.waiting = response.request
            self.poll = task.LoopingCall(self._acknowledged, item.id)
            self.poll.start(0.05)

    def _acknowledged(self, ident: str) -> None:
        assert self.crawler.engine is not None
        scheduler: Any = self.crawler.engine.scheduler
        if self.waiting not in scheduler.leases.held and not scheduler.unacked:
            self.freeze(ident)
