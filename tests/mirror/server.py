"""A local mirror of qq.com: real saved pages served at their real paths, on loopback only.

The crawler reaches it through ``QQ_MIRROR_URL`` (see ``tests/mirror/handler.py``): a request for
``https://news.qq.com/rain/a/<id>`` arrives here as ``GET /news.qq.com/rain/a/<id>``. What it
serves is listed in ``tests/mirror/site.json``:

* ``articles``: id -> page file in ``tests/fixtures/pages`` (and its ``charset``; GBK pages are
  stored and served as GBK bytes with ``Content-Type: text/html; charset=gb2312``), served at
  every path form qq.com uses: ``/rain/a/<id>``, ``/omn/<date>/<id>.html``, ``/a/<id>`` and, for
  old numeric ids, ``/a/<date>/<n>.htm``; an article with ``urls`` is served at those URLs only
  (the forms a source is known to link it by), so a crawl that fetches another form gets a 404;
* ``redirects``: URL -> ``Location`` of a 302 (a move between forms of one article, to another
  article, or to the deleted-article page); ``gone``: URLs answered 404 whatever they name;
* ``deleted``: ids answered as qq.com answers deleted articles, ``302`` to
  ``https://www.qq.com/babygohome/?pgv_ref=apub`` (whose page is served too);
* ``/robots.txt`` on every host allows everything;
* with ``validators`` on, ``ETag``/``Last-Modified`` on every page and ``304`` to a request whose
  own validators match.

Run by hand for the offline demo: ``python -m tests.mirror.server --port 8765``.
Routes are a list of (regex, handler) so that other parts (feeds, images, faults) add their own.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from tests.mirror.faults import Faults

HERE = Path(__file__).resolve().parent
PAGES = HERE.parent / "fixtures" / "pages"
SITE = HERE / "site.json"
VALIDATOR_DATE = "Wed, 12 Aug 2026 10:00:00 GMT"
DELETED_LOCATION = "https://www.qq.com/babygohome/?pgv_ref=apub"
HOME_PAGE = (
    '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><title>腾讯首页</title></head>'
    '<body><div id="root"><div class="home">腾讯网 · 公益寻人</div></div></body></html>'
)


def path_of(url: str) -> str:
    """Where a qq.com URL arrives on the mirror: ``/<host><path>`` (see ``tests/mirror/handler.py``)."""
    parts = urlsplit(url)
    return f"/{parts.netloc}{parts.path or '/'}"


class Reply:
    """What a route answers."""

    def __init__(
        self, status: int = 200, body: bytes = b"", content_type: str = "text/html; charset=utf-8",
        headers: dict[str, str] | None = None,
    ) -> None:
        self.status = status
        self.body = body
        self.content_type = content_type
        self.headers = headers or {}


Route = Callable[[re.Match[str], "Mirror"], Reply]


class Mirror:
    """The site's content and routes; ``serve()`` starts it on a loopback port."""

    def __init__(self, site_file: Path = SITE, pages: Path = PAGES) -> None:
        site = json.loads(site_file.read_text(encoding="utf-8"))
        self.pages = pages
        self.articles: dict[str, dict[str, str]] = site.get("articles", {})
        self.deleted: set[str] = set(site.get("deleted", []))
        self.redirects = {path_of(url): location for url, location in site.get("redirects", {}).items()}
        self.gone = {path_of(url) for url in site.get("gone", [])}
        self.only_at = {path_of(url): ident for ident, entry in self.articles.items() for url in entry.get("urls", [])}
        self.routes: list[tuple[re.Pattern[str], Route]] = [
            (re.compile(r"^/[^/]+/robots\.txt$"), lambda m, s: Reply(200, b"User-agent: *\nAllow: /\n", "text/plain")),
            (re.compile(r"^/www\.qq\.com/babygohome/?$"), lambda m, s: Reply(200, HOME_PAGE.encode("utf-8"))),
            (re.compile(r"^/[^/]+/a/(?P<date>\d{8})/(?P<n>\d{6})\.htm$"), lambda m, s: s.article(m["date"] + m["n"])),
            (re.compile(r"^/[^/]+/(?:rain/a|omn/\d{8}|omn|a)/(?P<id>[0-9A-Za-z]+?)(?:\.html)?/?$"), lambda m, s: s.article(m["id"])),
        ]
        from tests.mirror.images import (
            add_image_routes,  # here: images.py imports this module
        )

        add_image_routes(self)
        self.requests: list[str] = []
        self._lock = threading.Lock()
        self._local = threading.local()  # the body of the request a handler thread is answering
        self.faults: Faults | None = None  # tests/mirror/faults.py: refusals, resets, stalls
        # Validators (off unless a test turns them on): every 200 GET answer gets an ETag (of its
        # bytes) and a Last-Modified; a request whose If-None-Match (else If-Modified-Since)
        # matches is answered 304, its path logged in ``not_modified``.
        self.validators = False
        self.not_modified: list[str] = []
        from tests.mirror import feeds  # noqa: PLC0415 (feeds imports this module)

        feeds.register(self)

    def exact(self, path: str) -> Reply | None:
        """The answer of a URL ``site.json`` names exactly (``gone``, ``redirects``, ``urls``), else None."""
        if path in self.gone:
            return Reply(404, b"<html><body>404</body></html>")
        if path in self.redirects:
            return Reply(302, b"", headers={"Location": self.redirects[path]})
        if path in self.only_at:
            return self.article(self.only_at[path], exact=True)
        return None

    def article(self, ident: str, exact: bool = False) -> Reply:
        ident = ident.upper()
        if ident.startswith("TWF"):
            ident = ident[3:-2]
        if ident in self.deleted:
            return Reply(302, b"", headers={"Location": DELETED_LOCATION})
        entry = self.articles.get(ident)
        if entry is None or ("urls" in entry and not exact):
            return Reply(404, b"<html><body>404</body></html>")
        body = (self.pages / entry["file"]).read_bytes()
        return Reply(200, body, f"text/html; charset={entry.get('charset', 'utf-8')}")

    def request_body(self) -> bytes:
        """The body of the request being answered (POST), for routes that read it."""
        return getattr(self._local, "body", b"")

    def handle(self, path: str, body: bytes = b"") -> Reply:
        self._local.body = body
        with self._lock:
            self.requests.append(path)
        route_path = path.split("?", 1)[0]
        exact = self.exact(route_path)
        if exact is not None:
            return exact
        for pattern, route in self.routes:
            match = pattern.match(route_path)
            if match:
                return route(match, self)
        return Reply(404, b"<html><body>404</body></html>")

    def conditional(self, path: str, reply: Reply, headers: Any) -> Reply:
        """``reply`` with validators, or a 304 when the request's own match (see ``validators``)."""
        if not self.validators or reply.status != 200:
            return reply
        etag = '"' + hashlib.sha1(reply.body).hexdigest()[:16] + '"'
        modified = VALIDATOR_DATE
        asked_etag, asked_since = headers.get("If-None-Match"), headers.get("If-Modified-Since")
        if (asked_etag == etag) if asked_etag is not None else (asked_since == modified):
            with self._lock:
                self.not_modified.append(path)
            return Reply(304, b"", reply.content_type, {"ETag": etag})
        return Reply(reply.status, reply.body, reply.content_type, {**reply.headers, "ETag": etag, "Last-Modified": modified})

    def serve(self, port: int = 0) -> tuple[ThreadingHTTPServer, str]:
        """Start serving on 127.0.0.1 in a daemon thread; returns the server and its base URL."""
        mirror = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                # Read the body even when no route needs it: left unread it would be taken for the
                # next request on this keep-alive connection.
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                reply = mirror.handle(self.path, body)
                if self.command == "GET":
                    reply = mirror.conditional(self.path, reply, self.headers)
                if mirror.faults is not None and mirror.faults.intercept(self, reply):
                    return
                self.send_response(reply.status)
                self.send_header("Content-Type", reply.content_type)
                self.send_header("Content-Length", str(len(reply.body)))
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(reply.body)

            do_POST = do_GET  # noqa: N815

            def handle(self) -> None:
                try:
                    super().handle()
                except ConnectionError:  # the client gave up (its timeout or size limit): not an error here
                    pass

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass

        server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server, f"http://127.0.0.1:{server.server_address[1]}"


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve the local qq.com mirror on 127.0.0.1.")
    parser.add_argument("--port", type=int, default=8765)
    Faults.add_arguments(parser)
    args = parser.parse_args()
    site = Mirror()
    site.faults = Faults.from_args(args)
    server, url = site.serve(args.port)
    print(f"qq.com mirror on {url}: crawl with SCRAPY_SETTINGS_MODULE=tests.mirror.settings and -s QQ_MIRROR_URL={url}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        server.shutdown()


if __name__ == "__main__":
    main()
