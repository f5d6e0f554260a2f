"""The monitors (crawler.monitors) on real crawls of the mirror, and what they measure on stats.

The drift case is qq.com changing its template: the mirror serves the same pages with their
``window.DATA`` removed; extraction falls back to the DOM and the meta tags, the crawl still
writes its articles, and only the monitors see it: the drift monitor fails, the report and the log
name it, the exit code is 6. The same crawl of the unchanged pages passes.
"""

from __future__ import annotations

import json
import re
import shutil
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from crawler.monitors import checks
from crawler.monitors.actions import keep_newest
from crawler.monitors.schema import ARTICLE_SCHEMA, article_view
from crawler.qq.pages import parse_article
from tests.conftest import PAGES, page_response
from tests.mirror.server import Mirror
from tests.support.crawl import crawl, stat

# Current-template pages the mirror serves at /rain/a/<id>.
CURRENT = ["20250207A090J800", "20260810A0BO7100", "20250207A0CS0200"]


@pytest.fixture
def changed_site(tmp_path: Path) -> Iterator[tuple[Mirror, str]]:
    """The mirror with every page's ``window.DATA`` renamed away (a template change)."""
    pages = tmp_path / "pages"
    shutil.copytree(PAGES, pages)
    for page in pages.glob("*.html"):
        page.write_bytes(re.sub(rb"window\.DATA\s*=", b"window.PAGE_STATE =", page.read_bytes()))
    site = Mirror(pages=pages)
    server, url = site.serve()
    yield site, url
    server.shutdown()
    server.server_close()


def reports(output: Path) -> list[dict[str, object]]:
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted((output / ".crawl-reports").glob("*.json")) if p.name != "index.json"]


def test_template_drift_fails_the_crawl(changed_site: tuple[Mirror, str], tmp_path: Path) -> None:
    _, url = changed_site
    output = tmp_path / "out"
    result = crawl(url, output, "-a", f"ids={','.join(CURRENT)}")
    assert result.returncode == 6, result.log[-3000:]
    assert stat(result, "qq/extraction/meta") == len(CURRENT)
    assert stat(result, "write/written") == len(CURRENT)  # the crawl "succeeds"...
    assert stat(result, "monitors/failed/template drift") == 1  # ...and the monitor sees it
    assert re.search(r"ERROR: Monitor failed: template drift/.*3 of 3 article pages \(100%\)", result.log)
    assert "Exit code 6" in result.log and "template drift" in result.log.split("Exit code 6")[1]
    (report,) = reports(output)
    assert report["exit_code"] == 6
    failed = [m for m in report["monitors"] if m["reason"]]  # type: ignore[union-attr]
    assert [m["monitor"].split("/")[0] for m in failed] == ["template drift"]
    assert "has qq.com changed its page template" in failed[0]["reason"]
    index = json.loads((output / ".crawl-reports" / "index.json").read_text(encoding="utf-8"))
    assert index[0]["job"] == report["job"] and index[0]["failed"] == [failed[0]["monitor"]]


def test_the_same_crawl_of_unchanged_pages_passes(site: tuple[Mirror, str], tmp_path: Path) -> None:
    _, url = site
    result = crawl(url, tmp_path, "-a", f"ids={','.join(CURRENT)}")
    assert result.returncode == 0, result.log[-3000:]
    assert stat(result, "qq/extraction/data") == len(CURRENT)
    assert stat(result, "monitors/failed") == 0
    assert stat(result, "monitors/passed") == 8
    assert stat(result, "spidermon/validation/items") == len(CURRENT)
    assert "Monitors: all 8 passed" in result.log
    assert [r["exit_code"] for r in reports(tmp_path)] == [0]


def test_webhook_is_told_when_a_monitor_fails(changed_site: tuple[Mirror, str], tmp_path: Path) -> None:
    received: list[dict[str, object]] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass

    hook = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=hook.serve_forever, daemon=True).start()
    try:
        _, url = changed_site
        result = crawl(url, tmp_path, "-a", f"ids={CURRENT[0]}", "-s", f"MONITORS_WEBHOOK_URL=http://127.0.0.1:{hook.server_port}/hook")
    finally:
        hook.shutdown()
        hook.server_close()
    assert result.returncode == 6, result.log[-3000:]
    (message,) = received
    assert "template drift" in str(message["text"])
    assert message["report"]["exit_code"] == 6  # type: ignore[index]


# -- what the monitors measure, on stats ------------------------------------------------------------


def test_drift_counts_fallbacks_and_template_drops() -> None:
    stats = {"qq/extraction/data": 6, "qq/extraction/dom": 1, "qq/extraction/meta": 1, "qq/dropped/no_data": 2, "qq/dropped/http_404": 5}
    assert checks.drift(stats) == (4, 10)


def test_nothing_written_ignores_skips_deleted_and_dedup() -> None:
    assert checks.nothing_written({"qq/requested": 4, "dedup/skipped": 2, "qq/deleted": 1, "qq/skipped/video": 1}) is False
    assert checks.nothing_written({"qq/requested": 3, "dedup/skipped": 2, "qq/dropped/http_404": 1}) is True
    assert checks.nothing_written({"qq/requested": 3, "qq/articles": 2, "plan/duplicate": 2}) is True
    assert checks.nothing_written({"qq/requested": 3, "qq/articles": 1, "write/unchanged": 1}) is False


def test_refused_share() -> None:
    assert checks.refused_share({"throttle/refused_seconds": 30.0, "elapsed_time_seconds": 60.0}) == 0.5
    assert checks.refused_share({}) == 0.0


def test_schema_on_fixture_pages() -> None:
    from jsonschema import Draft7Validator

    validator = Draft7Validator(ARTICLE_SCHEMA)
    seed = article_view(parse_article(page_response("seed-20250207A090J800")))
    assert list(validator.iter_errors(seed)) == []
    broken = {**seed, "title": "", "images": []}
    assert sorted(e.path[0] for e in validator.iter_errors(broken)) == ["images", "title"]


def test_reports_keep_the_newest(tmp_path: Path) -> None:
    import os

    for n in range(5):
        path = tmp_path / f"job{n}.json"
        path.write_text("{}", encoding="utf-8")
        os.utime(path, (1000 + n, 1000 + n))
    (tmp_path / "index.json").write_text("[]", encoding="utf-8")
    keep_newest(tmp_path, 2)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["index.json", "job3.json", "job4.json"]


@pytest.mark.parametrize("drop", [False, True])
def test_validation_pipeline_counts_as_spidermons_own(drop: bool) -> None:
    """The validation pipeline skips Spidermon's deep copy of the view (``ItemAdapter.asdict``):
    its stats, its verdict and the item it passes on are Spidermon's own pipeline's on the view."""
    from dataclasses import replace

    from scrapy.exceptions import DropItem
    from scrapy.utils.test import get_crawler
    from spidermon.contrib.scrapy.pipelines import ItemValidationPipeline

    from crawler.monitors.validate import ValidationPipeline

    settings = {
        "SPIDERMON_ENABLED": True,
        "SPIDERMON_VALIDATION_SCHEMAS": ["crawler.monitors.schema.ARTICLE_SCHEMA"],
        "SPIDERMON_VALIDATION_DROP_ITEMS_WITH_ERRORS": drop,
    }
    seed = parse_article(page_response("seed-20250207A090J800"))
    articles = [
        seed,
        replace(seed, title="", media="", keywords=[], share_image="", blocks=[b for b in seed.blocks if b.kind != "image"]),
        replace(seed, blocks=[], url="http://example.com/x"),
    ]
    ours, theirs = get_crawler(settings_dict=settings), get_crawler(settings_dict=settings)
    pipeline = ValidationPipeline.from_crawler(ours)
    reference = ItemValidationPipeline.from_crawler(theirs)
    verdicts = []
    for article in articles:
        try:
            passed = pipeline.process_item(article)
            assert passed is article
            ok = True
        except DropItem:
            ok = False
        try:
            reference.process_item(article_view(article))
            expected = True
        except DropItem:
            expected = False
        verdicts.append((ok, expected))
    assert verdicts == [(True, True), (not drop, not drop), (not drop, not drop)]
    stats = {k: v for k, v in ours.stats.get_stats().items() if k.startswith("spidermon/")}
    assert stats == {k: v for k, v in theirs.stats.get_stats().items() if k.startswith("spidermon/")}
    assert stats["spidermon/validation/items"] == 3 and stats["spidermon/validation/items/errors"] == 2
    assert len([k for k in stats if k.startswith("spidermon/validation/fields/errors/")]) >= 7
