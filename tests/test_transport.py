"""Faults around the page (issue 25): where a redirect may send the crawl.

One real crawl of the mirror, whose article pages answer ``302`` to loopback, private, link-local
and unresolvable addresses. The mirror would serve the article there too (it answers every host),
so an article that was followed would be written: the policy must refuse each hop before it is sent.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from crawler.qq.ids import fetch_url
from crawler.settings import QQ_FETCH_URL
from tests.mirror.server import Mirror, path_of
from tests.support.crawl import Crawl, Running, command, crawl
from tests.support.rebind import NAME

GOOD = "20250207A090J800"  # still written: the refusals cost nothing else
TARGETS = {  # article -> where its page redirects (a URL the mirror would answer with the article)
    "20260810A0BO7100": ("http://127.0.0.1:{port}/rain/a/20260810A0BO7100", "loopback"),
    "20161014006270": ("http://internal.example/a/20161014/006270.htm", "private"),
    "20200413003030": ("http://[::ffff:127.0.0.1]/omn/20200413/20200413003030.html", "loopback"),
    "20250207A0CS0200": ("http://169.254.169.254/rain/a/20250207A0CS0200", "link_local"),
    "20210426003469": ("https://nowhere.example/rain/a/20210426003469", "unresolvable"),
    "20250207A0BAD400": ("http://2130706433/rain/a/20250207A0BAD400", "loopback"),
}


@pytest.fixture(scope="module")
def redirected(tmp_path_factory: pytest.TempPathFactory) -> tuple[Crawl, Mirror, Path]:
    site = Mirror()
    server, url = site.serve()
    port = server.server_address[1]
    for ident, (location, _) in TARGETS.items():
        site.redirects[path_of(fetch_url(ident, QQ_FETCH_URL))] = location.format(port=port)
    output = tmp_path_factory.mktemp("redirects") / "output"
    try:
        result = crawl(url, output, "-a", "ids=" + ",".join([GOOD, *TARGETS]))
    finally:
        server.shutdown()
        server.server_close()
    return result, site, output


def test_a_redirect_off_the_public_internet_is_never_requested(redirected: tuple[Crawl, Mirror, Path]) -> None:
    result, site, _ = redirected
    asked = {path.split("/")[1] for path in site.requests}
    assert not asked & {f"127.0.0.1:{p}" for p in range(65536)} - {""}
    assert not asked & {"internal.example", "[::ffff:127.0.0.1]", "169.254.169.254", "nowhere.example", "2130706433"}
    for ident in TARGETS:  # each redirect itself was asked for: the refusal is of the hop
        assert path_of(fetch_url(ident, QQ_FETCH_URL)) in {p.split("?")[0] for p in site.requests}
    assert "Traceback" not in result.log


def test_each_refused_redirect_is_an_article_dropped_with_its_reason(redirected: tuple[Crawl, Mirror, Path]) -> None:
    result, _, output = redirected
    stats = result.stats
    reasons = [reason for _, reason in TARGETS.values()]
    for reason in set(reasons):
        assert stats[f"urlpolicy/refused/{reason}"] == reasons.count(reason)
    assert stats["qq/dropped/refused"] == len(TARGETS)
    written = sorted(p.name for p in (output / "content" / "posts").glob("*.md"))
    assert len(written) == 1 and written[0].startswith("2025-02-07-"), written
    assert result.returncode == 0, result.log[-3000:]
    for ident in TARGETS:  # one line per article, naming the page asked for
        assert sum(1 for line in result.log.splitlines() if f"Not fetched" in line and f" {fetch_url(ident, QQ_FETCH_URL)} " in line) == 1


# -- DNS rebinding: a name public when checked, loopback when connected to ----------------------------


class Counting(BaseHTTPRequestHandler):
    """Answers an empty urlset to anything; every path asked for is kept in ``seen``."""

    seen: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        Counting.seen.append(self.path)
        body = b'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"></urlset>'
        self.send_response(200)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def rebinding_crawl(tmp_path: Path, resolver: str) -> tuple[Crawl, list[str]]:
    """A crawl of the sitemap at ``rebinding.example`` with Scrapy's own download handlers (not the
    mirror's), the connections resolved by ``resolver``; the paths the loopback server was asked for."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), Counting)
    Counting.seen = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    handlers = {"http": "crawler.handlers.StoppableDownloadHandler", "https": "crawler.handlers.StoppableDownloadHandler"}
    output = tmp_path / "output"
    output.mkdir()
    try:
        result = Running([
            *command("http://127.0.0.1:9", output, "-a", "sitemap=1", "-a", "channels=none"),
            "-s", f"QQ_SITEMAP_URL=http://{NAME}:{server.server_address[1]}/sitemap.xml",
            "-s", f"DOWNLOAD_HANDLERS={json.dumps(handlers)}", "-s", f"TWISTED_DNS_RESOLVER={resolver}",
        ]).finish()  # fmt: skip
    finally:
        server.shutdown()
        server.server_close()
    return result, list(Counting.seen)


def test_a_name_that_rebinds_to_loopback_when_connected_to_is_never_reached(tmp_path: Path) -> None:
    result, seen = rebinding_crawl(tmp_path, "tests.support.rebind.Rebinding")
    assert seen == [], result.log[-3000:]
    stats = result.stats
    assert stats["urlpolicy/refused/rebound"] >= 1  # the sitemap (and robots.txt, asked for first)
    assert stats["qq/sitemap/bad/refused"] == 1
    assert result.returncode == 5  # its only source could not be read
    assert "Traceback" not in result.log
    assert sum(1 for line in result.log.splitlines() if "Not fetched (rebound)" in line and "/sitemap.xml" in line) == 1


def test_without_the_guard_the_same_crawl_reaches_the_loopback_server(tmp_path: Path) -> None:
    """The setup above is a real rebinding: Scrapy's own resolver connects to loopback (the test can fail)."""
    result, seen = rebinding_crawl(tmp_path, "tests.support.rebind.Unguarded")
    assert "/sitemap.xml" in seen, result.log[-3000:]
    assert "urlpolicy/refused/rebound" not in result.stats
