"""How a crawl tells cron, Scrapyd and people how it went (issue 15).

Every bad input runs the real ``scrapy crawl`` subprocess and is judged by its exit code, its one
ERROR line and what it fetched (the mirror's request log) and wrote (the output root). The exit
code table (``crawler.exitcode``) and the summary are pure and tested on stats.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from crawler.exitcode import exit_code
from crawler.extensions.summary import progress_line, summary_lines
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
        # An input that is not an article: exit 3 at the end, the valid ones still crawled.
        ({"finish_reason": "finished", "ledger/asked": 2, "ledger/bad_input": 1, "ledger/written/new": 1, "write/written": 1}, 3),
        ({"finish_reason": "finished", "ledger/asked": 1, "ledger/bad_input": 1}, 3),
        ({"finish_reason": "finished", "qq/requested": 3, "write/written": 3}, 0),
        # A rerun with nothing new: nothing written, but every request was answered.
        ({"finish_reason": "finished", "qq/requested": 3, "dedup/skipped": 3, "downloader/response_status_count/200": 4}, 0),
        ({"finish_reason": "closespider_itemcount", "write/written": 5}, 0),
        ({"finish_reason": "shutdown"}, 1),
        ({"finish_reason": "bad_arguments"}, 3),
        ({"finish_reason": "bad_spider"}, 3),
        ({"finish_reason": "output_lost"}, 4),
        ({"finish_reason": "bad_output_root"}, 4),
        ({"finish_reason": "bad_store"}, 4),
        ({"finish_reason": "redis_unreachable"}, 4),
        ({"finish_reason": "redis_lost"}, 4),
        ({"finish_reason": "network"}, 5),
        ({"finish_reason": "blocked"}, 5),
        # Asked, nothing written, no answer of 2xx: every fetch failed.
        ({"finish_reason": "finished", "qq/requested": 2, "downloader/response_count": 12, "downloader/response_status_count/500": 12}, 5),
        ({"finish_reason": "finished", "downloader/exception_count": 4, "qq/feed/bad/network": 4}, 5),
        # The only source refused by the URL policy (never sent): nothing could be read.
        ({"finish_reason": "finished", "downloader/exception_count": 2, "qq/sitemap/bad/refused": 1,
          "downloader/exception_type_count/crawler.middlewares.urlpolicy.UrlRefused": 2}, 5),
        # A refused sitemap <loc> beside a sitemap that was read: the crawl read qq.com.
        ({"finish_reason": "finished", "qq/sitemap/bad/refused": 1, "downloader/response_status_count/200": 1}, 0),
        # Every request ignored by dedup (already written): nothing failed.
        ({"finish_reason": "finished", "qq/requested": 1, "downloader/exception_count": 1,
          "downloader/exception_type_count/scrapy.exceptions.IgnoreRequest": 1, "dedup/skipped": 1}, 0),
        ({"finish_reason": "finished", "write/written": 1, "monitors/failed": 1, "monitors/failed/template drift": 1}, 6),
    ],
)
def test_exit_code_table(stats: dict[str, object], code: int) -> None:
    assert exit_code(stats)[0] == code


# Where the crawl's code closes it, and with what reason (a string at the call).
CLOSINGS = (
    r'CloseSpider\(\s*"(\w+)"',  # an extension or component refusing at open
    r'close_spider(?:_async)?\([^)]*reason="(\w+)"',  # closing mid-crawl
    r'^REASON = "(\w+)"',  # crawler.extensions.output's
    r'return "(redis_\w+)"',  # crawler.distributed.connection's outage
    r'problem: str \| None = "(\w+)"',  # the Redis scheduler's refusal at open
)


def test_every_finish_reason_the_code_can_produce_has_its_exit_code() -> None:
    """The verdict's table holds exactly the reasons the crawler's code closes a crawl with."""
    from crawler.exitcode import NOT_JUDGED, REASON_CODES, REFUSED_AT_START

    produced = set()
    for path in (ROOT / "crawler").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for pattern in CLOSINGS:
            produced |= set(re.findall(pattern, text, re.M))
    assert produced == set(REASON_CODES), (sorted(produced), sorted(REASON_CODES))
    assert REFUSED_AT_START <= NOT_JUDGED <= produced
    for reason in produced:
        assert exit_code({"finish_reason": reason})[0] == REASON_CODES[reason] != 0
    assert exit_code({"finish_reason": "finished"})[0] == 0 and exit_code({"finish_reason": "shutdown"})[0] == 1


def test_summary_in_words() -> None:
    stats = {
        "write/written": 5, "write/rewritten": 2, "write/unchanged": 1, "thumbnails/failed/http_404": 2,
        "ledger/asked": 23, "ledger/written/new": 3, "ledger/written/rewritten": 2, "ledger/unchanged": 1,
        "ledger/skipped/written": 7, "ledger/skipped/old": 3, "ledger/skipped/video": 1, "ledger/dropped/no_data": 2,
        "ledger/dropped/error": 1, "ledger/not_fetched/robots_txt": 1, "ledger/bad_input": 2,
        "ledger/bad_inputs": ["notaurl", "x"],
        "qq/feed/pages": 4, "elapsed_time_seconds": 12.5, "monitors/passed": 5, "monitors/failed": 1,
        "monitors/failed/template drift": 1, "scheduler/enqueued": 10, "scheduler/dequeued": 7,
        "conditional/article_pages": 6, "conditional/not_modified": 1, "qq/refetch/held": 4,
    }  # fmt: skip
    text = "\n".join(summary_lines(stats, "finished"))
    assert "articles asked for: 23\n" in text
    assert "written: 5 (3 new, 2 rewritten)\n" in text
    assert "unchanged: 1\n" in text
    assert "skipped: 11 (3 old, 1 video, 7 already written)\n" in text
    assert "dropped: 3 (1 error, 2 no data)\n" in text
    assert "not fetched: 1 (1 robots.txt disallows)\n" in text
    assert "bad input: 2\n      not articles: 'notaurl', 'x'\n" in text
    assert "open:" not in text  # 5 + 1 + 11 + 3 + 1 + 2 = 23
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


def test_a_distributed_crawlers_ledger_is_its_part_of_the_work() -> None:
    """Work moves between the crawlers of one Redis: what one took on another may settle, and neither is a bug."""
    took_more = {"ledger/asked": 5, "ledger/written/new": 3}
    settled_more = {"ledger/asked": 1, "ledger/written/new": 3}
    alone = "\n".join(summary_lines(took_more, "finished"))
    assert "    open: 2 (no outcome recorded: a bug)\n" in alone
    for stats, line in [(took_more, "    open here: 2 (queued in Redis"), (settled_more, "    settled here for other crawlers: 2 (")]:
        text = "\n".join(summary_lines(stats, "finished", distributed=True))
        assert line in text and "a bug" not in text, text


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


@pytest.mark.parametrize(
    ("settings", "line"),
    [
        (["OUTPUT_PROFILE=hugo2"], "OUTPUT_PROFILE = 'hugo2' is not one of hugo, hugo-bundle, jekyll"),
        (["DELETED_FILES=shred"], "DELETED_FILES = 'shred' is not one of keep, draft, remove"),
        (["UPDATE_WINDOW=forever"], "UPDATE_WINDOW = 'forever' is not a duration"),
        (["REDIS_URL=redis://127.0.0.1:1/0", "REDIS_LEASE_SECONDS=15"], "REDIS_LEASE_SECONDS = 15 must exceed 1.5 x STORE_REDIS_CLAIM_LEASE"),
        (["QQ_FETCH_URL=https://news.qq.com/rain/a/"], "QQ_FETCH_URL = 'https://news.qq.com/rain/a/': no id"),
        (["THUMBNAILS_FRONT_MATTER=both"], "THUMBNAILS_FRONT_MATTER = 'both' is not one of remote, local"),
        (["UPDATE_BUDGET=lots"], "UPDATE_BUDGET = 'lots' is not a whole number"),
        (["DEDUP_ENABLED=maybe"], "DEDUP_ENABLED = 'maybe' is not a boolean"),
    ],
)
def test_bad_setting(site: tuple[Mirror, str], tmp_path: Path, settings: list[str], line: str) -> None:
    mirror, url = site
    result = crawl(url, tmp_path, *[a for s in settings for a in ("-s", s)], "-a", f"ids={SEED}")
    assert_refused(result, 3, "Bad setting, nothing crawled: " + line)
    assert result.stats == {}  # the crawl never opened
    nothing_done(mirror, tmp_path)


def test_every_bad_setting_has_its_own_line(site: tuple[Mirror, str], tmp_path: Path) -> None:
    mirror, url = site
    result = crawl(url, tmp_path, "-s", "UPDATE_WINDOW=forever", "-s", "QQ_VIDEOS=keep", "-a", f"ids={SEED}")
    assert result.returncode == 3, result.log[-3000:]
    lines = errors(result)
    assert len(lines) == 2 and "UPDATE_WINDOW" in lines[1] + lines[0] and "QQ_VIDEOS" in lines[0] + lines[1]
    nothing_done(mirror, tmp_path)


def test_an_input_that_is_no_article_exits_3_and_is_named(site: tuple[Mirror, str], tmp_path: Path) -> None:
    _, url = site
    alone = crawl(url, tmp_path / "alone", "-a", "urls=notaurl")
    assert alone.returncode == 3, alone.log[-3000:]
    assert stat(alone, "ledger/bad_input") == 1 and stat(alone, "ledger/asked") == 1
    assert "not articles: 'notaurl'" in alone.log
    beside = crawl(url, tmp_path / "beside", "-a", f"urls=notaurl,https://news.qq.com/rain/a/{SEED}")
    assert beside.returncode == 3, beside.log[-3000:]
    assert stat(beside, "ledger/written/new") == 1 and stat(beside, "ledger/asked") == 2
    assert len(list((tmp_path / "beside").rglob("*.md"))) == 1
    assert "not articles: 'notaurl'" in beside.log


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
    assert stat(again, "ledger/skipped/written") == 1 and stat(again, "ledger/asked") == 1
    assert "skipped: 1 (1 already written)" in again.log
    assert "written:" not in again.log
    assert stat(again, "monitors/failed") == 0


def test_every_fetch_failed_is_not_success(site: tuple[Mirror, str], tmp_path: Path) -> None:
    """Answers, but none usable (every article 404): asked for articles, none written -> non-zero."""
    _, url = site
    result = crawl(url, tmp_path, "-a", "ids=20250101A0NON100,20250101A0NON200")
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
    from scrapy.exceptions import (
        CannotResolveHostError,
        DownloadConnectionRefusedError,
        DownloadTimeoutError,
    )
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


def test_a_request_after_the_network_is_given_up_is_settled_not_fetched() -> None:
    """Once the crawl closes for want of a network, what is still asked for ends with its ledger outcome."""
    from scrapy import Request
    from scrapy.exceptions import DownloadConnectionRefusedError
    from twisted.internet.defer import succeed

    from crawler.ledger import NOT_FETCHED, Settled
    from crawler.middlewares.network import NetworkMiddleware

    crawler = network_crawler(NETWORK_FAILURES=1)
    closed: list[str] = []
    crawler.engine = type("Engine", (), {"close_spider_async": lambda self, reason: succeed(closed.append(reason))})()
    mw = NetworkMiddleware.from_crawler(crawler)
    article = Request("https://news.qq.com/rain/a/20260810A0BO7100", meta={"qq_id": "20260810A0BO7100"})
    for ended in (lambda: mw.process_exception(article, DownloadConnectionRefusedError("refused")),
                  lambda: mw.process_request(article)):  # fmt: skip
        with pytest.raises(Settled) as settled:
            ended()
        assert settled.value.outcome == (NOT_FETCHED, "network")
    assert mw.closing and closed == ["network"]


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


def waiting_for_robots_txt(middleware_class: type) -> list[object]:
    """What three requests that arrive while robots.txt is being fetched are judged by."""
    from scrapy import Request
    from twisted.internet.defer import Deferred

    from tests.support.components import project_crawler

    middleware = middleware_class.from_crawler(project_crawler())
    parser = object()

    async def three() -> list[object]:
        pending: Deferred[object] = Deferred()
        middleware._parsers["news.qq.com"] = pending  # noqa: SLF001 (robots.txt being fetched)
        waiting = [asyncio.ensure_future(middleware.robot_parser(Request(f"https://news.qq.com/rain/a/{n}"))) for n in range(3)]
        await asyncio.sleep(0)
        pending.callback(parser)
        return [got is parser for got in await asyncio.gather(*waiting)]

    return asyncio.run(three())


def test_every_request_waiting_for_robots_txt_is_judged_by_it() -> None:
    """Scrapy 2.19 gives robots.txt's parser to the first waiting request only and lets the rest
    through (``crawler.middlewares.robots``); here each of them is judged."""
    from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware as Scrapys

    from crawler.middlewares.robots import RobotsTxtMiddleware

    assert waiting_for_robots_txt(RobotsTxtMiddleware) == [True, True, True]
    assert waiting_for_robots_txt(Scrapys) == [True, False, False]  # the bug, while Scrapy has it
