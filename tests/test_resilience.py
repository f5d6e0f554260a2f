"""End to end through a misbehaving mirror: refusals, resets, blocks, second runs, parallel runs, kills.

Each test runs the real ``scrapy crawl qq`` as a subprocess against its own mirror with faults
(``tests/mirror/faults.py``), with politeness relaxed through ``-s`` so that each crawl takes
seconds. Nothing here asserts a duration: rates are compared through the mirror's request log.
"""

from __future__ import annotations

import re
import signal
import time
from collections import Counter
from pathlib import Path

from crawler.settings import STORE_LOCK_TIMEOUT
from crawler.store.sqlite import DEFAULT_NAME, SqliteStore
from tests.mirror.faults import Faults
from tests.mirror.server import Reply
from tests.support.corpus import WRITTEN
from tests.support.crawl import ROOT, crawl, start, stat

ARTICLE_PATH = r"/rain/a/|/a/\d{8}/"
FAST = ["-s", "THROTTLE_BACKOFF_BASE=0.05", "-s", "THROTTLE_MAX_DELAY=0.4", "-s", "RETRY_TIMES=12"]
IDS = "ids=" + ",".join(WRITTEN)


def files_by_id(output: Path) -> Counter[str]:
    """How many files under the output root hold each article id (by their link back)."""
    found: Counter[str] = Counter()
    for path in output.rglob("*.md"):
        match = re.search(r"\[qq\]\(https://new\.qq\.com/rain/a/(\w+)\)\n\Z", path.read_text(encoding="utf-8"))
        assert match, f"{path} is not a whole article file"
        found[match.group(1)] += 1
    return found


def assert_consistent(output: Path) -> None:
    """Every article once, no temporary leftovers, and the store names exactly the files on disk."""
    assert files_by_id(output) == Counter(WRITTEN)
    assert not [p for p in output.rglob("*") if p.name.endswith(".tmp")]
    store = SqliteStore(output / DEFAULT_NAME, STORE_LOCK_TIMEOUT)
    records = list(store.records())
    store.close()
    assert sorted(r.id for r in records) == sorted(WRITTEN)
    for record in records:
        assert f"/rain/a/{record.id})\n" in (output / record.path).read_text(encoding="utf-8")


def test_refusals_and_resets_every_article_once(site, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    mirror, url = site
    mirror.faults = Faults(refuse=0.3, reset=0.05, seed=7)
    # Refusals are what this test is about, not an alarm (the refusals monitor: tests/test_monitors.py).
    result = crawl(url, tmp_path, "-a", IDS, *FAST, "-s", "MONITORS_REFUSED_MAX=1")
    log = result.log
    assert result.returncode == 0, log[-3000:]
    assert_consistent(tmp_path)
    assert stat(result, "write/written") == len(WRITTEN)
    outcomes = Counter(mirror.faults.outcomes())
    refused = sum(n for outcome, n in outcomes.items() if outcome.isdigit())
    assert refused > 0 and outcomes["reset"] > 0
    assert sum(result.stats.get(f"throttle/refused/{s}", 0) for s in (567, 429, 503)) == refused
    assert stat(result, "throttle/backoff") > 0
    assert stat(result, "retry/count") >= refused + outcomes["reset"] - result.stats.get("retry/max_reached", 0)
    assert "Traceback" not in log


def test_truncated_and_stalled_answers_are_retried(site, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    mirror, url = site
    mirror.faults = Faults(truncate=0.3, stall=0.2, stall_seconds=0.3, paths=ARTICLE_PATH, seed=3)
    result = crawl(url, tmp_path, "-a", IDS, *FAST)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "truncate" in mirror.faults.outcomes()
    assert_consistent(tmp_path)


def test_a_sustained_block_closes_the_crawl_as_blocked(site, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    mirror, url = site
    mirror.faults = Faults(refuse=1.0, statuses=(567,), retry_after="garbage", paths=ARTICLE_PATH)
    result = crawl(url, tmp_path, "-a", IDS, *FAST, "-s", "RETRY_TIMES=1000", "-s", "THROTTLE_BLOCKED_AFTER=1.5")
    log = result.log
    assert result.returncode == 5, log[-3000:]  # qq.com could not be read (crawler.exitcode)
    assert stat(result, "finish_reason") == "blocked"
    assert stat(result, "throttle/blocked") == 1
    assert "news.qq.com has refused every request" in log
    assert not list(tmp_path.rglob("*.md"))
    # The refusing host was asked less and less often: the gaps between its requests grew.
    times = [t for t, path, _ in mirror.faults.log if re.search(ARTICLE_PATH, path)]
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    assert len(gaps) >= 6
    third = len(gaps) // 3
    assert sum(gaps[-third:]) / third > 2 * sum(gaps[:third]) / third


def test_second_run_fetches_no_article_page(site, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    mirror, url = site
    first = crawl(url, tmp_path, "-a", IDS)
    assert first.returncode == 0 and stat(first, "write/written") == len(WRITTEN)
    before = {p: p.read_bytes() for p in tmp_path.rglob("*.md")}
    mirror.requests.clear()
    # The same articles again, given in other URL forms.
    second = crawl(url, tmp_path, "-a", "urls=" + ",".join(f"https://new.qq.com/omn/{i[:8]}/{i}.html" for i in WRITTEN))
    assert second.returncode == 0, second.stderr[-3000:]
    assert stat(second, "dedup/skipped") == len(WRITTEN)
    assert "write/written" not in second.stats
    assert not [p for p in mirror.requests if re.search(ARTICLE_PATH, p)]
    assert {p: p.read_bytes() for p in tmp_path.rglob("*.md")} == before
    # refresh=1 fetches them again; the bytes are the same, so each file is left as it is.
    third = crawl(url, tmp_path, "-a", IDS, "-a", "refresh=1")
    assert stat(third, "write/unchanged") == len(WRITTEN)
    assert "dedup/skipped" not in third.stats
    assert_consistent(tmp_path)


def test_same_content_under_another_id_gives_one_file(site, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    mirror, url = site
    seed = (ROOT / "tests/fixtures/pages/seed-20250207A090J800.html").read_bytes()
    copy = seed.replace(b"20250207A090J800", b"20250207A0COPY00")
    mirror.routes.insert(0, (re.compile(r"^/[^/]+/rain/a/20250207A0COPY00$"), lambda m, s: Reply(200, copy)))
    result = crawl(url, tmp_path, "-a", "ids=20250207A090J800,20250207A0COPY00", "-s", "CONCURRENT_REQUESTS=1")
    assert result.returncode == 0, result.stderr[-3000:]
    assert stat(result, "write/written") == 1
    assert stat(result, "plan/duplicate") == 1
    assert len(list(tmp_path.rglob("*.md"))) == 1


def test_two_overlapping_runs_fetch_each_article_once(site, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    mirror, url = site
    # Slow answers keep both crawls in flight at once.
    mirror.faults = Faults(stall=1.0, stall_seconds=0.4, paths=ARTICLE_PATH)
    runs = [start(url, tmp_path, "-a", IDS) for _ in range(2)]
    results = [run.finish(timeout=120) for run in runs]
    assert [r.returncode for r in results] == [0, 0], [r.log[-3000:] for r in results]
    assert_consistent(tmp_path)
    # Between them, each article page was asked for once, and written once.
    assert Counter(p.rsplit("/", 1)[1] for p in mirror.requests if re.search(ARTICLE_PATH, p)) == Counter(
        fetched_name(i) for i in WRITTEN
    )
    assert sum(r.stats.get("write/written", 0) for r in results) == len(WRITTEN)
    # They overlapped: one of them found articles claimed by the other.
    assert sum(r.stats.get("dedup/claimed", 0) for r in results) > 0
    assert all("Traceback" not in r.log for r in results)


def fetched_name(ident: str) -> str:
    """The last part of the mirror path an article id is fetched at."""
    return f"{ident[8:]}.htm" if ident < "20190101" and ident.isdigit() else ident


def test_sigkill_mid_run_then_again(site, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    mirror, url = site
    mirror.faults = Faults(stall=1.0, stall_seconds=0.6, paths=ARTICLE_PATH)
    # One request every 0.3 s, each answered 0.6 s later: the articles arrive one by one.
    run = start(url, tmp_path, "-a", IDS, "-s", "DOWNLOAD_DELAY=0.3", "-s", "DOWNLOAD_DELAY_JITTER=0")
    deadline = time.monotonic() + 60
    while not list(tmp_path.rglob("*.md")) and time.monotonic() < deadline and run.process.poll() is None:
        time.sleep(0.05)
    run.process.send_signal(signal.SIGKILL)
    run.process.communicate(timeout=30)
    written_before = len(list(tmp_path.rglob("*.md")))
    assert 1 <= written_before < len(WRITTEN), "the crawl was not killed mid-run"
    mirror.faults = None
    again = crawl(url, tmp_path, "-a", IDS)
    assert again.returncode == 0, again.stderr[-3000:]
    # Every file on disk has its record (recorded before written): none is fetched again.
    assert stat(again, "dedup/skipped") >= written_before
    assert_consistent(tmp_path)


def test_corrupt_store_closes_the_crawl_with_a_clear_error(site, tmp_path) -> None:  # type: ignore[no-untyped-def]
    _, url = site
    (tmp_path / DEFAULT_NAME).write_bytes(b"not sqlite" * 500)
    result = crawl(url, tmp_path, "-a", IDS)
    assert stat(result, "finish_reason") == "bad_store"
    assert stat(result, "store/bad_store") == 1
    assert "downloader/request_count" not in result.stats
    assert (tmp_path / DEFAULT_NAME).read_bytes() == b"not sqlite" * 500
    assert f"the article store {tmp_path / DEFAULT_NAME} is corrupt or unreadable" in result.stderr
    assert f"python -m crawler.store rebuild --root {tmp_path}" in result.stderr
    assert not list(tmp_path.rglob("*.md"))


def test_second_run_over_the_feeds_fetches_no_written_article(site, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tests.support.discovery import FINANCE, TECH, TOP, fetched, flat, run

    mirror, _ = site
    run(site, tmp_path)
    written = flat(*TOP, *TECH, *FINANCE)
    assert set(files_by_id(tmp_path)) == written
    first_pages = set(mirror.feed_asks)
    mirror.requests.clear()
    mirror.feed_asks.clear()
    result = run(site, tmp_path)
    # No article is asked again: the store records what was written, and that the two articles
    # that gave no file are deleted and paid (issue 17: they are never fetched again).
    assert set(fetched(mirror)) == set()
    assert stat(result, "dedup/skipped") > 0
    assert stat(result, "dedup/skipped/deleted") == 1 and stat(result, "dedup/skipped/paid") == 1
    assert "write/written" not in result.stats
    # Paging ends at the first page whose entries are all written: fewer pages than the first run
    # (finance's first page holds only written articles; top's reach back to written ones sooner).
    second_pages = set(mirror.feed_asks)
    assert second_pages < first_pages
    assert {page for channel, page in second_pages if channel == "news_news_finance"} == {0}
    assert files_by_id(tmp_path) == Counter(written)


def test_autothrottle_sees_the_mirrors_real_latency(site, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The mirror handler hands Scrapy's measured latency back to the request AutoThrottle reads:
    starting from a 3 s delay, a host answering in 0.3 s is soon asked about every 0.3 s."""
    mirror, url = site
    mirror.faults = Faults(stall=1.0, stall_seconds=0.3, paths=ARTICLE_PATH)
    result = start(
        url, tmp_path, "-a", IDS, "-s", "AUTOTHROTTLE_ENABLED=True", "-s", "AUTOTHROTTLE_START_DELAY=3",
        "-s", "AUTOTHROTTLE_TARGET_CONCURRENCY=1", "-s", "DOWNLOAD_DELAY=0", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=1",
        fast=False,
    ).finish(timeout=120)  # fmt: skip
    assert result.returncode == 0, result.log[-3000:]
    times = [t for t, path, _ in mirror.faults.log if path.startswith("/news.qq.com/")]
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    assert len(gaps) >= 3
    # Without the latency AutoThrottle keeps its start delay (3 s between requests to the host).
    assert min(gaps[1:]) < 1.5, gaps
