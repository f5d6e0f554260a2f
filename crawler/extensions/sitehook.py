"""Tell the site it changed: a signed webhook and a command, after a crawl that changed files.

Collects what the crawl wrote, rewrote, drafted or removed (the signal
``crawler.files.file_changed``); when the spider closes with any, POSTs one JSON document,
signed with HMAC-SHA256 and a timestamp, to ``SITEHOOK_URL`` and/or runs ``SITEHOOK_COMMAND`` with
it on its standard input. Each call is retried ``SITEHOOK_RETRIES`` times; one that still fails is
kept under ``<OUTPUT_ROOT>/.sitehook/`` and sent again, with its changes, by the next crawl that
calls. The POST and the command run in threads. How a receiver checks the signature, the body, the
stats and the exit-code rule: docs/hooks.md.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import logging
import os
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.utils.asyncio import run_in_thread, sleep
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.defer import Deferred, succeed

from crawler.config import config_of
from crawler.files import Change, file_changed, job_name, write_atomic
from crawler.stats import (
    SITEHOOK_ATTEMPTS,
    SITEHOOK_CHANGES,
    SITEHOOK_DELIVERED,
    SITEHOOK_EARLIER,
    SITEHOOK_ERRORS,
    SITEHOOK_FAILED,
    SITEHOOK_GAVE_UP,
    SITEHOOK_NOTHING_CHANGED,
    SITEHOOK_OWED,
    SITEHOOK_OWED_LOST,
    inc,
    name,
    under,
)

logger = logging.getLogger(__name__)

KINDS = ("new", "changed", "drafted", "removed")
TIMESTAMP_HEADER = "X-Sitehook-Timestamp"
SIGNATURE_HEADER = "X-Sitehook-Signature"
DELIVERY_HEADER = "X-Sitehook-Delivery"
TARGETS = {"url": "webhook", "command": "command"}  # SITEHOOK_URL, SITEHOOK_COMMAND: the stats' name, in words
PENDING_DIR = ".sitehook"  # under OUTPUT_ROOT: calls owed by earlier crawls, one folder per target
PENDING_KEEP = 100  # at most this many owed calls per target, the newest
OUTPUT_TAIL = 4000  # characters of a command's output logged


# -- Pure parts ------------------------------------------------------------------------------------


def payload(job: str, spider: str, reason: str, changes: list[Change]) -> dict[str, Any]:
    """The document of one crawl: who, how it ended, and its files by kind."""
    document: dict[str, Any] = {
        "job": job,
        "spider": spider,
        "finish_reason": reason,
        "finished": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    for kind in KINDS:
        document[kind] = [
            {"id": c.id, "path": c.path, "images": list(c.images)} for c in changes if c.kind == kind
        ]
    return document


def body_of(document: Mapping[str, Any], earlier: list[Mapping[str, Any]]) -> bytes:
    """The exact bytes sent (and signed): the crawl's document, plus the earlier ones still owed."""
    return json.dumps({**document, "earlier": earlier}, ensure_ascii=False, indent=1).encode("utf-8")


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """``sha256=<hex>``: HMAC-SHA256 with the secret over ``<timestamp>.`` followed by the body."""
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


def failures(stats: Mapping[str, Any]) -> list[str]:
    """The targets that still failed after their retries, in words (the ``site hook`` monitor's)."""
    words = []
    for target in TARGETS:
        if stats.get(name(SITEHOOK_GAVE_UP, target=target)):
            why = ", ".join(f"{kind} x{n}" for kind, n in sorted(under(stats, SITEHOOK_FAILED, target=target).items()))
            words.append(f"{target} failed {stats.get(name(SITEHOOK_ATTEMPTS, target=target), 0)} times ({why})")
    return words


# -- One attempt, in a thread: (failure kind or "", words) -------------------------------------------


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer, not followed: urllib would turn the POST into a bodiless GET."""

    def redirect_request(self, *args: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> tuple[str, str]:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            response.read(65536)
            return "", f"HTTP {response.status}"
    except urllib.error.HTTPError as exc:
        return f"http_{exc.code}", f"HTTP {exc.code} {exc.reason}"
    except (TimeoutError, urllib.error.URLError, OSError) as exc:
        cause = exc.reason if isinstance(exc, urllib.error.URLError) else exc
        if isinstance(cause, TimeoutError) or "timed out" in str(cause):
            return "timeout", f"no answer within {timeout:g} s"
        if isinstance(cause, ConnectionRefusedError):
            return "refused", f"connection refused ({cause})"
        return "error", str(cause)


def run(argv: list[str], body: bytes, timeout: float, cwd: Path) -> tuple[str, str, str]:
    """(failure kind or "", words, its output). Its own session, so a timeout kills all it started."""
    try:
        process = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=cwd, start_new_session=True
        )
    except OSError as exc:
        return "error", f"could not start: {exc}", ""
    try:
        output, _ = process.communicate(body, timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate()
        return "timeout", f"still running after {timeout:g} s: killed", output.decode("utf-8", "replace")
    text = output.decode("utf-8", "replace")
    if process.returncode < 0:
        return f"signal_{-process.returncode}", f"killed by signal {-process.returncode}", text
    if process.returncode:
        return f"exit_{process.returncode}", f"exit status {process.returncode}", text
    return "", "exit status 0", text


# -- The extension ------------------------------------------------------------------------------------


class SiteHook:
    def __init__(self, crawler: Crawler) -> None:
        config = config_of(crawler)
        self.crawler = crawler
        self.url = config.sitehook_url
        self.secret = config.sitehook_secret
        self.argv = list(config.sitehook_command)
        if self.argv:
            # Found as at start, from the working directory: it runs in the output root.
            self.argv[0] = os.path.abspath(shutil.which(self.argv[0]) or self.argv[0])
        self.timeout = config.sitehook_timeout
        self.retries = config.sitehook_retries
        self.delay = config.sitehook_retry_delay
        self.root = config.output_root_path
        self.changes: list[Change] = []
        self.done = False
        self.waiting: list[Deferred[None]] = []

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SiteHook:
        config = config_of(crawler)
        if not config.sitehook_url and not config.sitehook_command:
            raise NotConfigured  # off by default: no warning
        extension = cls(crawler)
        crawler.signals.connect(extension.changed, signal=file_changed)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def changed(self, change: Change) -> None:
        self.changes.append(change)

    def settled(self) -> Deferred[None]:
        """Fires once the hooks of this crawl are done (at once when they are)."""
        if self.done:
            return succeed(None)
        waiter: Deferred[None] = Deferred()
        self.waiting.append(waiter)
        return waiter

    async def spider_closed(self, reason: str) -> None:
        try:
            await self._tell(reason)
        except Exception:  # never lose the close: what failed is logged
            logger.exception("Site hook failed")
            inc(self.crawler, SITEHOOK_ERRORS)
        finally:
            self.done = True
            for waiter in self.waiting:
                waiter.callback(None)

    async def _tell(self, reason: str) -> None:
        from crawler.exitcode import REFUSED_AT_START  # noqa: PLC0415

        if reason in REFUSED_AT_START:
            return  # nothing was written; what is owed waits for a crawl that runs
        assert self.crawler.spider is not None
        for kind in KINDS:
            if count := sum(1 for c in self.changes if c.kind == kind):
                inc(self.crawler, SITEHOOK_CHANGES, count, kind=kind)
        document = payload(job_name(self.crawler.spider), self.crawler.spider.name, reason, self.changes)
        targets = [t for t, on in (("url", self.url), ("command", self.argv)) if on]
        for target in targets:
            await self._target(target, document)

    async def _target(self, target: str, document: dict[str, Any]) -> None:
        owed = self.root / PENDING_DIR / target
        try:
            earlier_files = sorted(owed.glob("*.json")) if owed.is_dir() else []
        except OSError as exc:
            logger.warning("Site hook %s: the calls owed in %s cannot be read: %s", target, owed, exc)
            earlier_files = []
        earlier, sent = [], []
        for path in earlier_files:
            try:
                earlier.append(json.loads(path.read_text(encoding="utf-8")))
                sent.append(path)
            except (OSError, ValueError) as exc:
                logger.warning("Site hook %s: unreadable owed call %s skipped: %s", target, path, exc)
        if not self.changes and not earlier:
            inc(self.crawler, SITEHOOK_NOTHING_CHANGED, target=target)
            logger.info("Site hook %s: nothing changed, not called", target)
            return
        if earlier:
            inc(self.crawler, SITEHOOK_EARLIER, len(earlier), target=target)
        body = body_of(document, earlier)
        delivery = str(uuid.uuid4())
        for attempt in range(self.retries + 1):
            if attempt:
                await sleep(self.delay * 2 ** (attempt - 1))
            inc(self.crawler, SITEHOOK_ATTEMPTS, target=target)
            if target == "url":
                stamp = int(time.time())
                headers = {
                    "Content-Type": "application/json; charset=utf-8",
                    "User-Agent": "qq-crawler-sitehook",
                    TIMESTAMP_HEADER: str(stamp),
                    SIGNATURE_HEADER: signature(self.secret, stamp, body),
                    DELIVERY_HEADER: delivery,
                }
                kind, words = await run_in_thread(post, self.url, body, headers, self.timeout)
            else:
                kind, words, output = await run_in_thread(run, self.argv, body, self.timeout, self.root)
                if output.strip():
                    logger.info("Site hook command output (%s):\n%s", words, output[-OUTPUT_TAIL:].rstrip())
            if not kind:
                inc(self.crawler, SITEHOOK_DELIVERED, target=target)
                logger.info("Site hook %s told the site: %s (%s)", target, self._what(document, earlier), words)
                for path in sent:
                    with contextlib.suppress(OSError):  # sent again next time: a receiver debounces
                        path.unlink(missing_ok=True)
                return
            inc(self.crawler, SITEHOOK_FAILED, target=target, why=kind)
            logger.warning("Site hook %s failed (attempt %d of %d): %s", target, attempt + 1, self.retries + 1, words)
        inc(self.crawler, SITEHOOK_GAVE_UP, target=target)
        logger.error(
            "Site hook %s gave up after %d attempts (%s): the files are written; the next crawl that calls tells it",
            target, self.retries + 1, words,
        )  # fmt: skip
        if self.changes:
            self._owe(owed, document)

    def _owe(self, owed: Path, document: dict[str, Any]) -> None:
        """Keep the document for the next crawl (the newest ``PENDING_KEEP``)."""
        try:
            write_atomic(owed / f"{time.time_ns()}-{document['job']}.json", json.dumps(document, ensure_ascii=False))
            for old in sorted(owed.glob("*.json"))[:-PENDING_KEEP]:
                old.unlink(missing_ok=True)
        except OSError as exc:
            inc(self.crawler, SITEHOOK_OWED_LOST, target=owed.name)
            logger.error("Site hook %s: could not keep the call for the next crawl in %s: %s", owed.name, owed, exc)
            return
        inc(self.crawler, SITEHOOK_OWED, target=owed.name)

    @staticmethod
    def _what(document: Mapping[str, Any], earlier: list[Any]) -> str:
        counts = ", ".join(f"{len(document[k])} {k}" for k in KINDS if document[k]) or "no change"
        return counts + (f", and {len(earlier)} earlier crawl(s) owed" if earlier else "")


def settled(crawler: Crawler) -> Deferred[None] | Any:
    """Await this to run after the crawl's site hooks are done (at once when they are off): what
    reports the crawl (``StatsFile``, the monitors' report) then sees their stats."""
    for extension in crawler.extensions.middlewares if crawler.extensions else ():
        if isinstance(extension, SiteHook):
            return maybe_deferred_to_future(extension.settled())
    return maybe_deferred_to_future(succeed(None))
