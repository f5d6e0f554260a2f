"""Faults below the page (issue 25): hostile transport, an output root lost mid-crawl, being told to stop.

A loopback server (the mirror, with hand-written raw answers for the fault paths) serves each
fault; each is its own real ``scrapy crawl qq``, whose peak RSS is read from the crawl process
(``/proc/<pid>/status`` VmHWM) while it runs, whose stats come from its STATS_FILE, and whose
output root is checked for partial and stray files. A bomb is a few KB on the wire.
"""

from __future__ import annotations

import gzip
import os
import re
import signal
import subprocess
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from PIL import Image

from crawler import settings as project_settings
from crawler.qq.ids import fetch_url
from crawler.store.sqlite import DEFAULT_NAME, SqliteStore
from tests.mirror.server import Mirror, Reply, path_of
from tests.support.corpus import WRITTEN
from tests.support.crawl import Crawl, Running, by_id, start, stat

LIMIT = project_settings.DOWNLOAD_MAXSIZE
SITEMAP_LIMIT = project_settings.SIZES_SITEMAP_MAXSIZE
GIB = 1024**3
SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
HTML = "text/html; charset=utf-8"


# -- the hostile server ---------------------------------------------------------------------------

Answer = Callable[[BaseHTTPRequestHandler], None]


class Hostile:
    """The mirror's ``faults`` hook: a raw answer written by hand for each fault path (any other path
    is the mirror's), and the time each request arrived."""

    def __init__(self) -> None:
        self.answers: dict[str, Answer] = {}
        self.log: list[tuple[float, str]] = []
        self.release = threading.Event()  # ends stalled answers at teardown

    def intercept(self, handler: BaseHTTPRequestHandler, reply: Reply) -> bool:
        path = handler.path.split("?", 1)[0]
        self.log.append((time.monotonic(), path))
        answer = self.answers.get(path)
        if answer is None:
            return False
        handler.close_connection = True
        try:
            answer(handler)
        except ConnectionError:
            pass  # the crawler hung up (its size limit, its stop): what it should do
        return True


def head(handler: BaseHTTPRequestHandler, headers: dict[str, str], status: int = 200) -> None:
    handler.send_response(status)
    for name, value in headers.items():
        handler.send_header(name, value)
    handler.end_headers()


def _deflated(chunks: Iterator[bytes]) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)  # gzip
    return b"".join(packer.compress(chunk) for chunk in chunks) + packer.flush()


_BOMBS: dict[int, bytes] = {}


def gzip_bomb(size: int) -> bytes:
    """``size`` zero bytes gzipped twice: ~1 MB per GiB once, a few KB twice."""
    if size not in _BOMBS:
        once = _deflated(bytes(1 << 20) for _ in range(size >> 20))
        _BOMBS[size] = gzip.compress(once, 9)
    return _BOMBS[size]


def bomb_answer(size: int, content_type: str = HTML) -> Answer:
    body = gzip_bomb(size)
    headers = {"Content-Type": content_type, "Content-Encoding": "gzip, gzip", "Content-Length": str(len(body))}
    return lambda h: (head(h, headers), h.wfile.write(body))  # type: ignore[func-returns-value]


def streamed_answer(size: int) -> Answer:
    """An HTML page of ``size`` bytes with no Content-Length (the end is the connection's close)."""

    def answer(handler: BaseHTTPRequestHandler) -> None:
        head(handler, {"Content-Type": HTML, "Connection": "close"})
        handler.wfile.write(b"<html><body>")
        chunk = b"<p>" + b"x" * 65530 + b"</p>"
        for _ in range(size // len(chunk)):
            handler.wfile.write(chunk)

    return answer


def declared_answer(size: int) -> Answer:
    """Headers that announce ``size`` bytes; the body never comes (the crawler must not wait for it)."""
    return lambda h: head(h, {"Content-Type": HTML, "Content-Length": str(size)})


def short_answer(body: bytes) -> Answer:
    """Half the body its Content-Length announces, then the connection closes."""
    return lambda h: (head(h, {"Content-Type": HTML, "Content-Length": str(len(body))}), h.wfile.write(body[: len(body) // 2]))  # type: ignore[func-returns-value]


def sitemap(*locs: str, index: bool = False) -> bytes:
    if index:
        inner = "".join(f"<sitemap><loc>{loc}</loc></sitemap>" for loc in locs)
        return f'<?xml version="1.0" encoding="UTF-8"?><sitemapindex xmlns="{SITEMAP_NS}">{inner}</sitemapindex>'.encode()
    inner = "".join(f"<url><loc>{loc}</loc></url>" for loc in locs)
    return f'<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="{SITEMAP_NS}">{inner}</urlset>'.encode()


def sitemap_url(name: str) -> str:
    return f"https://news.qq.com/sitemap/hostile/{name}"


def serve_sitemaps(site: Mirror, files: dict[str, tuple[bytes, dict[str, str]]]) -> None:
    """Sitemaps under ``/sitemap/hostile/<name>``: name -> (body, extra headers)."""

    def route(match: re.Match[str], _: Mirror) -> Reply:
        body, given = files.get(match["name"], (b"", {}))
        headers = dict(given)
        return Reply(200 if body else 404, body, headers.pop("Content-Type", "application/xml"), headers=headers)

    site.routes.insert(0, (re.compile(r"^/news\.qq\.com/sitemap/hostile/(?P<name>[\w.]+)$"), route))


# -- running a crawl and measuring it -------------------------------------------------------------


class Measured(Running):
    """A crawl subprocess whose peak RSS (VmHWM) is read from /proc while it runs."""

    def __init__(self, running: Running) -> None:
        self.__dict__.update(running.__dict__)
        self.peak_kb = 0
        self._watch = threading.Thread(target=self._poll, daemon=True)
        self._watch.start()

    def _poll(self) -> None:
        status = Path(f"/proc/{self.process.pid}/status")
        while self.process.poll() is None:
            try:
                found = re.search(r"^VmHWM:\s+(\d+) kB", status.read_text(), re.M)
            except OSError:
                break
            if found:
                self.peak_kb = max(self.peak_kb, int(found.group(1)))
            time.sleep(0.02)

    def finish(self, timeout: float = 300) -> Crawl:
        result = super().finish(timeout)
        self._watch.join()
        result.peak_mb = self.peak_kb / 1024  # type: ignore[attr-defined]
        return result


def run(url: str, output: Path, *args: str) -> Measured:
    return Measured(start(url, output, *args))


def strays(output: Path) -> list[Path]:
    """Partial or temporary files left under the output root."""
    return [p for p in output.rglob("*") if p.name.endswith(".tmp") or p.name.startswith(".write-check-")]


def assert_whole(output: Path) -> dict[str, Path]:
    """Every Markdown file ends with its link back, every image decodes, nothing stray: by id."""
    files = by_id(output)  # asserts each ends with the link back
    for image in (output / "static").rglob("*.*") if (output / "static").exists() else []:
        with Image.open(image) as opened:
            opened.load()
    assert strays(output) == []
    return files


def no_traceback(result: Crawl) -> None:
    assert "Traceback" not in result.log, result.log[-4000:]


@pytest.fixture
def hostile() -> Iterator[tuple[Mirror, Hostile, str]]:
    site = Mirror()
    faults = Hostile()
    site.faults = faults  # type: ignore[assignment]
    server, url = site.serve()
    yield site, faults, url
    faults.release.set()
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> float:
    """Peak RSS (MB) of a crawl of the good articles alone: what the faults are measured against."""
    site = Mirror()
    server, url = site.serve()
    try:
        result = run(url, tmp_path_factory.mktemp("baseline"), "-a", "ids=" + ",".join(WRITTEN)).finish()
    finally:
        server.shutdown()
        server.server_close()
    assert result.returncode == 0, result.log[-3000:]
    return result.peak_mb  # type: ignore[attr-defined,no-any-return]


# -- size limits after decompression ---------------------------------------------------------------

BIG = {  # article id -> its page's answer
    "bomb": ("20250301A0BB0100", lambda: bomb_answer(GIB)),
    "streamed": ("20250301A0BB0200", lambda: streamed_answer(60 * 1024 * 1024)),
    "declared": ("20250301A0BB0300", lambda: declared_answer(60 * 1024 * 1024)),
}


@pytest.mark.parametrize("kind", list(BIG))
def test_a_page_too_big_once_inflated_is_dropped_in_little_memory(
    kind: str, hostile: tuple[Mirror, Hostile, str], baseline: float, tmp_path: Path
) -> None:
    site, faults, url = hostile
    ident, answer = BIG[kind]
    faults.answers[path_of(fetch_url(ident, project_settings.QQ_FETCH_URL))] = answer()
    result = run(url, tmp_path, "-a", f"ids={ident},{WRITTEN[0]}").finish()
    assert result.returncode == 0, result.log[-3000:]
    assert stat(result, "qq/dropped/too_big") == 1
    assert sorted(assert_whole(tmp_path)) == [WRITTEN[0]]
    # The limit holds on the inflated size: Scrapy stopped at DOWNLOAD_MAXSIZE, never near the GiB.
    assert result.stats.get("httpcompression/response_bytes", 0) <= LIMIT
    print(f"PEAK {kind}: {result.peak_mb:.1f} MB, baseline {baseline:.1f} MB")  # type: ignore[attr-defined]
    assert result.peak_mb - baseline < 4 * LIMIT / 2**20, (result.peak_mb, baseline)  # type: ignore[attr-defined]
    line = [line for line in result.log.splitlines() if f"Dropped {ident}" in line]
    assert len(line) == 1 and "too_big: " in line[0] and str(LIMIT) in line[0], line
    no_traceback(result)


def test_sitemap_bombs_are_too_big_in_little_memory(
    hostile: tuple[Mirror, Hostile, str], baseline: float, tmp_path: Path
) -> None:
    site, _, url = hostile
    bomb = gzip_bomb(GIB)
    files = {
        "index.xml": (sitemap(sitemap_url("encoded.xml"), sitemap_url("file.xml.gz"), sitemap_url("good.xml"), index=True), {}),
        # Content-Encoding: inflated by Scrapy's HttpCompressionMiddleware, under the limit
        "encoded.xml": (bomb, {"Content-Encoding": "gzip, gzip"}),
        # a .xml.gz file (no Content-Encoding): inflated by the spider under the same limit
        "file.xml.gz": (gzip.decompress(bomb), {"Content-Type": "application/octet-stream"}),
        "good.xml": (sitemap(fetch_url(WRITTEN[0], project_settings.QQ_FETCH_URL)), {}),
    }
    serve_sitemaps(site, files)
    result = run(url, tmp_path, "-a", "channels=none", "-a", "sitemap=1", "-s", f"QQ_SITEMAP_URL={sitemap_url('index.xml')}").finish()
    assert result.returncode == 0, result.log[-3000:]
    assert stat(result, "qq/sitemap/bad/too_big") == 2
    assert sorted(assert_whole(tmp_path)) == [WRITTEN[0]]
    print(f"PEAK sitemap: {result.peak_mb:.1f} MB, baseline {baseline:.1f} MB")  # type: ignore[attr-defined]
    assert result.peak_mb - baseline < 4 * SITEMAP_LIMIT / 2**20, (result.peak_mb, baseline)  # type: ignore[attr-defined]
    no_traceback(result)


# -- loops ---------------------------------------------------------------------------------------


def test_a_sitemap_index_is_read_once(hostile: tuple[Mirror, Hostile, str], tmp_path: Path) -> None:
    site, faults, url = hostile
    files = {
        "loop.xml": (sitemap(sitemap_url("loop.xml"), sitemap_url("other.xml"), sitemap_url("urls.xml"), index=True), {}),
        "other.xml": (sitemap(sitemap_url("loop.xml"), sitemap_url("urls.xml"), index=True), {}),
        "urls.xml": (sitemap(fetch_url(WRITTEN[0], project_settings.QQ_FETCH_URL), fetch_url(WRITTEN[1], project_settings.QQ_FETCH_URL)), {}),
    }
    serve_sitemaps(site, files)
    result = run(url, tmp_path, "-a", "channels=none", "-a", "sitemap=1", "-s", f"QQ_SITEMAP_URL={sitemap_url('loop.xml')}").finish(60)
    assert result.returncode == 0, result.log[-3000:]
    asked = [path for _, path in faults.log if "/sitemap/hostile/" in path]
    assert sorted(asked) == sorted(path_of(sitemap_url(n)) for n in files)  # each once
    assert stat(result, "qq/sitemap/repeated") == 3  # loop lists itself; other lists loop and urls
    assert sorted(assert_whole(tmp_path)) == sorted(WRITTEN[:2])
    no_traceback(result)


def test_a_redirect_loop_is_an_article_dropped_with_its_reason(hostile: tuple[Mirror, Hostile, str], tmp_path: Path) -> None:
    site, _, url = hostile
    ident = "20250301A0LP0100"
    first, second = fetch_url(ident, project_settings.QQ_FETCH_URL), f"https://new.qq.com/rain/a/{ident}"
    site.redirects[path_of(first)] = second
    site.redirects[path_of(second)] = first
    result = run(url, tmp_path, "-a", f"ids={ident},{WRITTEN[0]}").finish()
    assert result.returncode == 0, result.log[-3000:]
    assert stat(result, "qq/dropped/redirect_loop") == 1
    lines = [line for line in result.log.splitlines() if f"Dropped {ident}" in line]
    assert len(lines) == 1 and "redirect_loop: max redirections" in lines[0] and first in lines[0], lines
    assert sorted(assert_whole(tmp_path)) == [WRITTEN[0]]
    store = SqliteStore(tmp_path / DEFAULT_NAME, project_settings.STORE_LOCK_TIMEOUT)
    record = store.get(ident)
    store.close()
    assert record is not None and (record.state, record.reason) == ("dropped", "redirect_loop")
    no_traceback(result)


# -- parsers that cannot be driven into recursion --------------------------------------------------


def test_a_feed_nested_100000_deep_is_too_deep(hostile: tuple[Mirror, Hostile, str], tmp_path: Path) -> None:
    site, _, url = hostile
    deep = b'{"code":0,"data":' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    route = (re.compile(r"^/i\.news\.qq\.com/web_feed/getPCList$"), lambda m, s: Reply(200, deep, "application/json"))
    site.routes.insert(0, route)
    result = run(url, tmp_path, "-a", "channels=top", "-a", "pages=1").finish()
    assert stat(result, "qq/feed/bad/too_deep") == 1
    assert re.search(r"Bad feed answer for news_news_top page 0 .*too_deep: nested too deep", result.log)
    no_traceback(result)


def test_a_sitemap_nested_past_the_parser_is_too_deep(hostile: tuple[Mirror, Hostile, str], tmp_path: Path) -> None:
    site, _, url = hostile
    nested = sitemap(fetch_url(WRITTEN[0], project_settings.QQ_FETCH_URL)).replace(b"</urlset>", b"<url>" * 5000 + b"</url>" * 5000 + b"</urlset>")
    serve_sitemaps(site, {"deep.xml": (nested, {})})
    result = run(url, tmp_path, "-a", "channels=none", "-a", "sitemap=1", "-s", f"QQ_SITEMAP_URL={sitemap_url('deep.xml')}").finish()
    assert stat(result, "qq/sitemap/bad/too_deep") == 1
    assert "qq/sitemap/urlsets" not in result.stats  # not half read
    no_traceback(result)


# -- every drop line says why ------------------------------------------------------------------------


def test_a_body_shorter_than_its_length_is_dropped_saying_why(hostile: tuple[Mirror, Hostile, str], tmp_path: Path) -> None:
    site, faults, url = hostile
    ident = "20250301A0SH0100"
    faults.answers[path_of(fetch_url(ident, project_settings.QQ_FETCH_URL))] = short_answer(b"<html><body>" + b"x" * 5000 + b"</body></html>")
    result = run(url, tmp_path, "-a", f"ids={ident}", "-s", "RETRY_TIMES=1").finish()
    assert stat(result, "qq/dropped/network") == 1
    for line in result.log.splitlines():
        if "Gave up retrying" in line or f"Dropped {fetch_url(ident, project_settings.QQ_FETCH_URL)}" in line:
            assert not line.rstrip().endswith(":"), line
            assert "shorter than its Content-Length" in line, line
    assert any(f"Dropped {fetch_url(ident, project_settings.QQ_FETCH_URL)}: " in line for line in result.log.splitlines())
    no_traceback(result)


# -- the output root lost mid-crawl -------------------------------------------------------------------

ROOT_ONLY = pytest.mark.skipif(os.geteuid() != 0, reason="a read-only bind mount needs root (CI runs as root)")


def read_only(root: Path) -> None:
    """Over-mount ``root`` with a read-only bind of itself: every new open under it fails (EROFS),
    as after a disk's errors=remount-ro; files already open (the store) are the old mount's."""
    subprocess.run(["mount", "--bind", str(root), str(root)], check=True)
    subprocess.run(["mount", "-o", "remount,bind,ro", str(root)], check=True)


def lose_root_at(site: Mirror, ident: str, root: Path, lose: Callable[[], None]) -> None:
    """When the crawl asks for ``ident``'s page, the mirror waits for two articles on disk, loses
    the output root, then answers."""
    path = path_of(fetch_url(ident, project_settings.QQ_FETCH_URL))
    page = site.article(ident)

    def route(match: re.Match[str], _: Mirror) -> Reply:
        deadline = time.monotonic() + 30
        while len(list(root.rglob("*.md"))) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        lose()
        return page

    site.routes.insert(0, (re.compile("^" + re.escape(path) + "$"), route))


LOSSES: dict[str, tuple[Callable[[Path], None], Callable[[Path], None]]] = {
    # how the root is lost, and how it comes back for the rerun
    "read_only": (read_only, lambda root: subprocess.run(["umount", str(root)], check=True)),
    "vanished": (lambda root: root.rename(root.with_name("moved")), lambda root: root.with_name("moved").rename(root)),
}


@ROOT_ONLY
@pytest.mark.parametrize("loss", list(LOSSES))
def test_an_output_root_lost_mid_crawl_ends_it_cleanly(loss: str, hostile: tuple[Mirror, Hostile, str], tmp_path: Path) -> None:
    site, _, url = hostile
    lose, restore = LOSSES[loss]
    root = tmp_path / "output"
    lost = threading.Event()

    def once() -> None:
        if not lost.is_set():
            lost.set()
            lose(root)

    lose_root_at(site, WRITTEN[2], root, once)  # one page at a time: the first two are written before it
    args = ("-a", "ids=" + ",".join(WRITTEN), "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=1")
    try:
        result = run(url, root, *args).finish(60)
    finally:
        if lost.is_set():
            restore(root)
    assert lost.is_set()
    assert result.returncode == 4, result.log[-3000:]
    assert result.stats["finish_reason"] == "output_lost"
    assert stat(result, "output/lost") == 1
    errors = [line for line in result.log.splitlines() if " ERROR: " in line]
    assert len(errors) == 1 and "mid-crawl" in errors[0], "\n".join(errors)
    no_traceback(result)
    first = assert_whole(root)  # what was written is whole, nothing stray
    assert set(first) < set(WRITTEN) and WRITTEN[2] not in first
    again = run(url, root, "-a", "ids=" + ",".join(WRITTEN)).finish(60)  # the rerun writes the rest
    assert again.returncode == 0, again.log[-3000:]
    assert sorted(assert_whole(root)) == sorted(WRITTEN)
    assert again.stats.get("write/written", 0) == len(WRITTEN) - len(first)


# -- a prompt stop ------------------------------------------------------------------------------------

SLOW = "20250301A0SL0100"  # a page whose server never answers


def slow_answer(faults: Hostile) -> Answer:
    return lambda handler: faults.release.wait(120)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_stop_is_prompt_and_the_rerun_writes_the_rest(signum: int, hostile: tuple[Mirror, Hostile, str], tmp_path: Path) -> None:
    site, faults, url = hostile
    slow_path = path_of(fetch_url(SLOW, project_settings.QQ_FETCH_URL))
    faults.answers[slow_path] = slow_answer(faults)
    ids = "ids=" + ",".join([SLOW, *WRITTEN])
    # One article page a second: most are still waiting in the queue when the signal comes.
    crawl = run(url, tmp_path, "-a", ids, "-s", "DOWNLOAD_DELAY=1", "-s", "DOWNLOAD_DELAY_JITTER=0")
    deadline = time.monotonic() + 60
    while not any(path == slow_path for _, path in faults.log) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(1.2)  # one more page asked for
    crawl.process.send_signal(signum)
    sent = time.monotonic()
    result = crawl.finish(60)
    took = time.monotonic() - sent
    print(f"STOP {signal.Signals(signum).name}: exit after {took:.1f} s (STOP_GRACE {project_settings.STOP_GRACE})")
    assert took < 10, took
    assert result.returncode == 1, result.log[-3000:]  # interrupted (docs/monitoring.md)
    assert result.stats["finish_reason"] == "shutdown"
    assert stat(result, "stop/cancelled") >= 1
    no_traceback(result)
    # No new page was asked for after the signal (robots.txt and images aside, none are due).
    late = [path for moment, path in faults.log if moment > sent + 0.1 and re.search(r"/rain/a/|/a/\d{8}/", path)]
    assert late == [], late
    written = assert_whole(tmp_path)
    assert SLOW not in written and len(written) < len(WRITTEN)
    store = SqliteStore(tmp_path / DEFAULT_NAME, project_settings.STORE_LOCK_TIMEOUT)
    recorded = {record.id: record for record in store.records()}
    store.close()
    assert SLOW not in recorded  # nothing recorded for what was not written
    assert {i for i, r in recorded.items() if r.state == "written"} == set(written)
    # The rerun writes the rest, each once.
    again = run(url, tmp_path, "-a", "ids=" + ",".join(WRITTEN)).finish(60)
    assert again.returncode == 0, again.log[-3000:]
    assert sorted(assert_whole(tmp_path)) == sorted(WRITTEN)
    assert again.stats.get("write/written", 0) == len(WRITTEN) - len(written)
