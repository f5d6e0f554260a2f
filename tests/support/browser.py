"""A built site served on 127.0.0.1 and read in a real browser, as a reader sees it.

``serve(folder, prefix)`` serves a builder's output folder over HTTP on a free loopback port
(under ``prefix``, e.g. ``/news/``, for a site built for a sub-path) and records every answer.
``chromium()`` launches Debian's ``/usr/bin/chromium`` through Playwright (never ``playwright
install``); ``new_page`` opens a page whose every request to an address other than 127.0.0.1 is
aborted (an image that needs the network counts as not loaded) and recorded. ``look(page)`` reads
what the reader got: every ``<img>`` and whether it loaded, and the visible text.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run",
]  # fmt: skip


@dataclass
class Served:
    """A folder served on 127.0.0.1: its base URL and every (status, path) it answered."""

    url: str
    answers: list[tuple[int, str]] = field(default_factory=list)

    def failed(self) -> list[tuple[int, str]]:
        return [(status, path) for status, path in self.answers if status >= 400]


@contextmanager
def serve(folder: Path, prefix: str = "/") -> Iterator[Served]:
    """Serve ``folder`` at ``http://127.0.0.1:<port><prefix>``; anything outside the prefix is a 404."""
    served = Served("")

    class Handler(SimpleHTTPRequestHandler):
        def send_head(self) -> Any:
            if not urlsplit(self.path).path.startswith(prefix):
                self.send_error(404, "outside the site's path")
                return None
            return super().send_head()

        def translate_path(self, path: str) -> str:
            return super().translate_path("/" + urlsplit(path).path[len(prefix) :])

        def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
            served.answers.append((int(code) if str(code).isdigit() else 0, self.path))

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(folder)))
    served.url = f"http://127.0.0.1:{server.server_address[1]}{prefix}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield served
    finally:
        server.shutdown()
        server.server_close()


def chromium_missing() -> str | None:
    """Why the browser cannot run here, or None."""
    if not os.access(CHROMIUM, os.X_OK):
        return f"{CHROMIUM} is not installed (apt-get install -y chromium; see install.sh)"
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -r requirements.txt)"
    return None


@contextmanager
def chromium() -> Iterator[Any]:
    """A headless Chromium (Playwright's Browser), closed at the end."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class Visit:
    """One page opened: the requests aborted for leaving 127.0.0.1, the answers of 400 and more."""

    page: Any
    blocked: list[str] = field(default_factory=list)
    failed: list[tuple[int, str]] = field(default_factory=list)


def new_page(browser: Any, width: int = 1100, height: int = 900) -> Visit:
    """A page that may reach 127.0.0.1 only: every other request is aborted and recorded."""
    context = browser.new_context(viewport={"width": width, "height": height}, service_workers="block")
    page = context.new_page()
    visit = Visit(page)

    def route(request_route: Any) -> None:
        url = request_route.request.url
        if urlsplit(url).hostname == "127.0.0.1" or url.startswith(("data:", "about:")):
            request_route.continue_()
        else:
            visit.blocked.append(url)
            request_route.abort()

    context.route("**/*", route)
    page.on("response", lambda response: visit.failed.append((response.status, response.url)) if response.status >= 400 else None)
    return visit


def look(page: Any) -> dict[str, Any]:
    """What the reader got: every image (src, alt, loaded, visible) and the page's visible text."""
    return page.evaluate(
        """() => ({
            images: Array.from(document.images).map(img => ({
                src: img.getAttribute('src'), current: img.currentSrc, alt: img.getAttribute('alt'),
                loaded: img.complete && img.naturalWidth > 0,
                visible: img.getBoundingClientRect().width > 0 && getComputedStyle(img).visibility !== 'hidden',
            })),
            text: document.body.innerText,
            title: document.title,
        })"""
    )


def open_page(visit: Visit, url: str) -> dict[str, Any]:
    """Go to ``url``, wait until it and its images have loaded, and ``look`` at it."""
    response = visit.page.goto(url, wait_until="load")
    assert response is not None and response.status == 200, (url, response and response.status)
    return look(visit.page)

