"""How a crawl tells cron, Scrapyd and people how it went (issue 15).

Every bad input runs the real ``scrapy crawl`` subprocess and is judged by its exit code, its one
ERROR line and what it fetched (the mirror's request log) and wrote (the output root). The exit
code table (``crawler.exitcode``) and the summary are pure and tested on stats.
"""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from crawler.extensions.summary import progress_line, summary_lines
from crawler.exitcode import exit_code
from crawler.store.sqlite import DEFAULT_NAME
from tests.mirror.server import Mirror
from tests.redis_server import free_port
from tests.support.crawl import ROOT, Crawl, crawl, stat

SEED = "20250207A090J800"


def errors(result: Crawl) -> list[str]:
    return [line for line in result.log.splitlines() if " ERROR: " in line]


def assert_refused(result: Crawl, code: int, *words: str, at_start: bool = True) -> None:
    """Exit ``code``, one ERROR line (with ``words``), no traceback; ``at_start``: refused when it
    opened, so no monitor judged it (``crawler.exitcode.REFUSED_AT_START``); else they did."""
    assert result.returncode == code, result.log[-3000:]
    judged = [key for key in result.stats if key.startswith("monitors/")]
    assert not judged if at_start else judged, result.stats
    (line,) = errors(result)
    for word in words:
        assert word in line, line
    assert "Traceback" not in result.log


def nothing_done(site: Mirror, output: Path) -> None:
    assert site.requests == []
    assert [p for p in output.rglob("*") if p.name != ".gitkeep"] == []


# -- the exit code, from stats -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stats", "code"),
    [
        ({"finish_reason": "finished", "qq/requested": 3, "write/written": 3}, 0),
        # A rerun with nothing new: nothing written, but every request was answered.
        ({"finish_reason": "finished", "qq/requested": 3, "dedup/skipped": 3, "downloader/response_status_count/200": 4}, 0),
        ({"finish_reason": "closespider_itemcount", "write/written": 5}, 0),
        ({"finish_reason": "shutdown"}, 1),
        ({"finish_reason": "bad_arguments"}, 3),
        ({"finish_reason": "bad_settings"}, 3),
        ({"finish_reason": "bad_output_root"}, 4),
        ({"finish_reason": "bad_store"}, 4),
        ({"finish_reason": "redis_unreachable"}, 4),
        ({"finish_reason": "redis_lost"}, 4),
        ({"finish_reason": "network"}, 5),
        ({"finish_reason": "blocked"}, 5),
        # Asked, nothing written, no answer of 2xx: every fetch failed.
        ({"finish_reason": "finished", "qq/requested": 2, "downloader/response_count": 12, "downloader/response_status_count/500": 12}, 5),
        ({"finish_reason": "finished", "downloader/exception_count": 4, "qq/feed/bad/network": 4}, 5),
        # Every request ignored by dedup (already written): nothing failed.
        ({"finish_reason": "finished", "qq/requested": 1, "downloader/exception_count": 1,
          "downloader/exception_type_count/scrapy.exceptions.IgnoreRequest": 1, "dedup/skipped": 1}, 0),
        ({"finish_reason": "finished", "write/written": 1, "monitors/failed": 1, "monitors/failed/template drift": 1}, 6),
    ],
)
def test_exit_code_table(stats: dict[str, object], code: int) -> None:
    assert exit_code(stats)[0] == code


def test_summary_in_words() -> None:
    stats = {
        "write/written": 5, "write/rewritten": 2, "write/unchanged": 1, "dedup/skipped": 7, "qq/skipped/old": 3,
        "qq/skipped/video": 1, "qq/dropped/no_data": 2, "write/dropped/error": 1, "thumbnails/failed/http_404": 2,
        "qq/feed/pages": 4, "elapsed_time_seconds": 12.5, "monitors/passed": 5, "monitors/failed": 1,
        "monitors/failed/template drift": 1, "scheduler/enqueued": 10, "scheduler/dequeued": 7,
        "conditional/article_pages": 6, "conditional/not_modified": 1, "qq/refetch/held": 4,
    }  # fmt: skip
    text = "\n".join(summary_lines(stats, "finished"))
    assert "written: 5 (3 new, 2 rewritten), 1 unchanged" in text
    assert "skipped: 7 already written, 3 old, 1 video" in text
    assert "dropped: 2 no data, 1 error" in text
    assert "images failed: 2" in text
    assert "cost: 6 article pages fetched for 3 new and 2 changed articles (1.20 per article); 1 not modified (304); " \
        "4 said to have changed held back by UPDATE_REFETCH_BUDGET" in text
    assert "monitors: 5 passed, 1 failed (template drift)" in text
    assert "elapsed: 12.5 s; finish reason: finished" in text
    assert progress_line(stats) == "Progress: 5 articles written, 4 feed pages read, 3 requests queued"
    # A crawl refused when it opened runs no monitor, and says so.
    refused = "\n".join(summary_lines({"qq/bad_arguments": 1}, "bad_arguments"))
    assert "monitors: not run (the crawl was refused at start)" in refused
    assert "monitors:" not in "\n".join(summary_lines({}, "finished"))  # Spidermon off: no line


# -- every bad input: one line at start, non-zero, nothing fetched or written -----------------------


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["-a", "color=red"], ["unknown argument color='red'", "accepted: urls"]),
        (["-a", "urls="], ["urls='': empty"]),
        (["-a", "ids= , "], ["ids=' , ': empty"]),
        (["-a", "channels=nosuchchannel"], ["unknown channel name 'nosuchchannel'", "known: "]),
    ],
)
def test_bad_arguments(site: tuple[Mirror, str], tmp_path: Path, args: list[str], words: list[str]) -> None:
    mirror, url = site
    result = crawl(url, tmp_path, *args)
    assert_refused(result, 3, "Bad spider arguments", *words)
    assert stat(result, "finish_reason") == "bad_arguments"
    nothing_done(mirror, tmp_path)


def test_raw_channel_id_is_accepted(site: tuple[Mirror, str], tmp_path: Path) -> None:
    _, url = site
    result = crawl(url, tmp_path, "-a", "channels=news_news_nosuch", "-a", "pages=1")
    assert result.returncode == 0, result.log[-3000:]
    assert stat(result, "finish_reason") == "finished"


def test_unknown_profile(site: tuple[Mirror, str], tmp_path: Path) -> None:
    mirror, url = site
    result = crawl(url, tmp_path, "-s", "OUTPUT_PROFILE=hugo2", "-a", f"ids={SEED}")
    assert_refused(result, 3, "Bad settings", "OUTPUT_PROFILE 'hugo2'", "hugo, hugo-bundle, jekyll")
    assert result.stats == {}  # the crawl never opened
    nothing_done(mirror, tmp_path)


def test_bad_deleted_files(site: tuple[Mirror, str], tmp_path: Path) -> None:
    mirror, url = site
    result = crawl(url, tmp_path, "-s", "DELETED_FILES=shred", "-a", f"ids={SEED}")
    assert_refused(result, 3, "Bad settings", "DELETED_FILES 'shred' is not one of keep, draft, remove")
    nothing_done(mirror, tmp_path)


def test_missing_output_root(site: tuple[Mirror, str], tmp_path: Path) -> None:
    mirror, url = site
    result = crawl(url, tmp_path / "out", "-s", f"OUTPUT_ROOT={tmp_path / 'nowhere'}", "-a", f"ids={SEED}")
    assert_refused(result, 4, "nowhere does not exist")
    assert stat(result, "finish_reason") == "bad_output_root"
    assert not (tmp_path / "nowhere").exists()
    nothing_done(mirror, tmp_path / "out")


def test_corrupt_store(site: tuple[Mirror, str], tmp_path: Path) -> None:
    mirror, url = site
    (tmp_path / DEFAULT_NAME).write_bytes(b"not a database " * 100)
    result = crawl(url, tmp_path, "-a", f"ids={SEED}")
    assert_refused(result, 4, DEFAULT_NAME)
    assert stat(result, "finish_reason") == "bad_store"
    assert mirror.requests == []
    # The store left as it was (its lock folder aside): nothing written, no report.
    assert [p.name for p in tmp_path.iterdir() if not p.name.endswith(".locks")] == [DEFAULT_NAME]
    assert list(tmp_path.rglob("*.md")) == []
    with pytest.raises(sqlite3.DatabaseError):
        sqlite3.connect(tmp_path / DEFAULT_NAME).execute("select 1 from sqlite_master").fetchall()


@pytest.mark.parametrize("setting", ["REDIS_URL", "STORE_REDIS_URL"])
def test_redis_down(site: tuple[Mirror, str], tmp_path: Path, setting: str) -> None:
    mirror, url = site
    down = f"redis://127.0.0.1:{free_port()}/0"
    extra = ["-s", "STORE_BACKEND=redis"] if setting == "STORE_REDIS_URL" else []
    result = crawl(url, tmp_path, "-s", f"{setting}={down}", *extra, "-a", f"ids={SEED}")
    assert_refused(result, 4, down, "unreachable")
    assert stat(result, "finish_reason") == "redis_unreachable"
    nothing_done(mirror, tmp_path)


def test_no_network(tmp_path: Path) -> None:
    """Every connection refused (the mirror's address with nothing listening): within seconds, one
    ERROR line naming the host and the cause, reason network, exit 5."""
    closed = f"http://127.0.0.1:{free_port()}"
    started = time.monotonic()
    result = crawl(closed, tmp_path, "-s", "NETWORK_FAILURES=3")
    assert time.monotonic() - started < 30
    assert_refused(result, 5, "No network", "i.news.qq.com", "refused", at_start=False)
    assert stat(result, "finish_reason") == "network"
    assert stat(result, "network/down") == 1
    assert "Gave up retrying" not in result.log
    assert [p for p in tmp_path.rglob("*") if p.name != ".gitkeep" and ".crawl-reports" not in p.parts] == []


def test_rerun_with_nothing_new_says_so_and_exits_0(site: tuple[Mirror, str], tmp_path: Path) -> None:
    _, url = site
    first = crawl(url, tmp_path, "-a", f"ids={SEED}")
    assert first.returncode == 0, first.log[-3000:]
    again = crawl(url, tmp_path, "-a", f"ids={SEED}")
    assert again.returncode == 0, again.log[-3000:]
    assert stat(again, "dedup/skipped") == 1
    assert "written: 0 (0 new, 0 rewritten), 0 unchanged" in again.log
    assert "skipped: 1 already written" in again.log
    assert stat(again, "monitors/failed") == 0


def test_every_fetch_failed_is_not_success(site: tuple[Mirror, str], tmp_path: Path) -> None:
    """Answers, but none usable (every article 404): asked for articles, none written -> non-zero."""
    _, url = site
    result = crawl(url, tmp_path, "-a", "ids=20250101A0NONE00,20250101A0NONE01")
    assert result.returncode == 6, result.log[-3000:]
    assert stat(result, "monitors/failed/nothing written") == 1
    assert "Monitor failed: nothing written" in result.log


def test_exit_code_under_the_plain_scrapy_command(tmp_path: Path) -> None:
    """The project's crawl command replaces Scrapy's (COMMANDS_MODULE): ``scrapy crawl`` itself."""
    result = subprocess.run(
        ["scrapy", "crawl", "qq", "-a", "urls=", "-s", f"OUTPUT_ROOT={tmp_path}"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
        env={"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin"},
    )  # fmt: skip
    assert result.returncode == 3, result.stderr[-2000:]
    assert re.search(r"ERROR: Bad spider arguments.*urls=''", result.stderr)


# -- the network middlewares, without a reactor ----------------------------------------------------


def network_crawler(**overrides: object):  # type: ignore[no-untyped-def]
    from scrapy.utils.test import get_crawler

    from crawler import settings as project_settings

    values = {k: getattr(project_settings, k) for k in dir(project_settings) if k.isupper()}
    crawler = get_crawler(settings_dict={**values, **overrides})
    crawler.stats.open_spider()
    return crawler


def test_failed_connections_in_a_row_are_counted_and_an_answer_resets_them() -> None:
    from scrapy import Request
    from scrapy.exceptions import CannotResolveHostError, DownloadConnectionRefusedError, DownloadTimeoutError
    from scrapy.http import HtmlResponse

    from crawler.middlewares.network import NetworkMiddleware

    mw = NetworkMiddleware.from_crawler(network_crawler())
    request = Request("https://i.news.qq.com/web_feed/getPCList")
    for error in (CannotResolveHostError("DNS lookup failed"), DownloadConnectionRefusedError("refused")):
        assert mw.process_exception(request, error) is None  # below NETWORK_FAILURES: retried
    assert mw.failures == 2
    mw.process_response(request, HtmlResponse(request.url, body=b"{}"))
    assert mw.failures == 0
    assert mw.process_exception(request, DownloadTimeoutError("slow")) is None  # not a connection failure
    assert mw.failures == 0 and mw.crawler.stats.get_value("network/errors") == 2
    assert not mw.closing


def test_network_check_off() -> None:
    from scrapy.exceptions import NotConfigured

    from crawler.middlewares.network import NetworkMiddleware

    with pytest.raises(NotConfigured):
        NetworkMiddleware.from_crawler(network_crawler(NETWORK_FAILURES=0))


def test_robots_txt_failure_is_one_line_and_ignored(caplog: pytest.LogCaptureFixture) -> None:
    from scrapy import Request
    from scrapy.exceptions import DownloadTimeoutError, IgnoreRequest

    from crawler.middlewares.network import RobotsErrorMiddleware

    mw = RobotsErrorMiddleware.from_crawler(network_crawler())
    robots = Request("https://news.qq.com/robots.txt", meta={"dont_obey_robotstxt": True})
    with pytest.raises(IgnoreRequest):
        mw.process_exception(robots, DownloadTimeoutError("took longer than 180.0 seconds"))
    (record,) = caplog.records
    assert record.getMessage() == (
        "robots.txt of news.qq.com could not be fetched (took longer than 180.0 seconds): crawling it as allowed"
    )
    assert record.exc_info is None
    assert mw.process_exception(Request("https://news.qq.com/rain/a/X"), DownloadTimeoutError("x")) is None
