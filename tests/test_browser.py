"""The built sites as a reader sees them: every builder's home page and every article, in Chromium.

For each builder (Hugo, a Hugo page bundle, Jekyll, Eleventy, Hexo) one crawl of the mirror with
local images (``tests/support/sites.py``) is built with the real builder twice: for the site's root
and for the sub-path ``/news/`` by docs/profiles.md's recipe (only Jekyll's needs a crawl of its
own; the others reuse the builder's crawl). Each is served on 127.0.0.1 (under ``/news/``,
anything outside it a 404) and opened in Debian's Chromium through Playwright. The browser may
reach 127.0.0.1 only: every other request is aborted, so an image that needs the network counts as
not loaded. On every page: every ``<img>`` loaded from under the site's path (the article whose
images all failed keeps the remote URLs, which are the only ones allowed to stay unloaded), every
link to the site under its path and answering, no answer of 404, no Markdown or template artefact
in the visible text; on the home page every article, newest first, with its thumbnail; on each
article its title, date, first and last paragraphs, and each picture once. Zola: no package here
(``tests/test_builders.py``).
"""

from __future__ import annotations

import hashlib
import os
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urldefrag, urlsplit

import pytest

from tests.support.browser import (
    Visit,
    chromium,
    chromium_missing,
    new_page,
    open_page,
    serve,
)
from tests.support.sites import (
    ALL_FAILED,
    BUILDERS,
    HOSTILE_NAMES,
    NO_TEXT,
    SUBPATH,
    Crawled,
    Site,
    build,
    crawl_settings,
    crawl_site,
    reader_mirror,
    tool_path,
)

pytestmark = pytest.mark.browser

ARTEFACTS = ("**", "\\*", "\\", "](", "{{", "{%", "&#123;", "&lt;", "&amp;")
TEXT_KINDS = {"paragraph", "heading", "quote", "list"}


def need(what: str | None) -> None:
    """A missing browser or builder: a failure under CI (which installs it), else a skip."""
    if what:
        if os.environ.get("CI"):
            pytest.fail(what)
        pytest.skip(what)


@pytest.fixture(scope="module")
def mirror_url() -> Iterator[str]:
    mirror = reader_mirror()
    server, url = mirror.serve()
    yield url
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    need(chromium_missing())
    with chromium() as running:
        yield running


SITES = [*BUILDERS, *(f"{builder}-subpath" for builder in BUILDERS)]


Crawls = dict[tuple[str, ...], Crawled]


@pytest.fixture(scope="module")
def crawls() -> Crawls:
    """The crawls of this module by their settings: a site under the sub-path reuses its builder's."""
    return {}


@pytest.fixture(scope="module", params=SITES)
def site(
    request: pytest.FixtureRequest, mirror_url: str, tmp_path_factory: pytest.TempPathFactory, crawls: Crawls
) -> Site:
    """One build per site, shared by the tests of this module; ``<builder>-subpath`` under ``/news/``."""
    name: str = request.param
    builder = name.removesuffix("-subpath")
    prefix = "/" if builder == name else SUBPATH
    need(None if tool_path(builder) else f"{builder} is not installed (see install.sh)")
    key = (builder, *crawl_settings(builder, prefix))
    if key not in crawls:
        crawls[key] = crawl_site(builder, mirror_url, tmp_path_factory.mktemp(f"{builder}-crawl"), prefix)
    return build(crawls[key], tmp_path_factory.mktemp(name), prefix)


def normal(text: str) -> str:
    return " ".join(text.split())


def block_text(block: dict[str, Any]) -> str:
    """A block's text as the feed gives it (its spans, or its list items' spans)."""
    items = block.get("items") or []
    return "".join(span["text"] for span in block.get("spans") or []) + " ".join(
        "".join(span["text"] for span in item) for item in items
    )


def own_text(article: dict[str, Any]) -> str:
    """Every text the article itself holds: what may show up on its page as it is."""
    return "\n".join([article["title"], article["url"], *(block_text(b) for b in article["blocks"])])


def texts(article: dict[str, Any]) -> list[str]:
    """The article's text blocks, whitespace as a reader sees it."""
    return [normal(block_text(b)) for b in article["blocks"] if b["kind"] in TEXT_KINDS and normal(block_text(b))]


def pictures(article: dict[str, Any]) -> list[str]:
    return [b["src"] for b in article["blocks"] if b["kind"] == "image"]


def covers(article: dict[str, Any]) -> list[str]:
    return [b["cover"] for b in article["blocks"] if b.get("cover")]


def beijing(article: dict[str, Any]) -> str:
    return datetime.fromisoformat(article["published"]).strftime("%Y-%m-%d %H:%M")


def assert_no_artefacts(visible: str, allowed: str) -> None:
    """No Markdown or template artefact the article's own text does not hold itself."""
    for mark in ARTEFACTS:
        assert visible.count(mark) <= allowed.count(mark), (mark, visible)


def file_of(site: Site, src: str) -> Path:
    """The published file an image's absolute URL (on the served site) names."""
    path = unquote(urlsplit(src).path)
    assert path.startswith(site.prefix), src
    return site.public / path[len(site.prefix) :]


def check_images(site: Site, visit: Visit, seen: dict[str, Any], failed_remote: set[str]) -> None:
    """Every image loaded, from the site; the only ones left are the remote URLs of failed downloads."""
    for img in seen["images"]:
        if img["loaded"]:
            assert urlsplit(img["current"]).hostname == "127.0.0.1", img
            assert file_of(site, img["current"]).is_file(), img
        else:  # a download that failed keeps its remote URL: never a local link to nothing
            assert img["src"] in failed_remote, img
    assert set(visit.blocked) <= failed_remote, visit.blocked
    assert not visit.failed, visit.failed


def check_links(site: Site, visit: Visit, checked: set[str]) -> None:
    """Every link to the site a reader can follow stays under its path and answers 200 (each asked once)."""
    for href in visit.page.eval_on_selector_all("a[href]", "els => els.map(a => a.href)"):
        if urlsplit(href).hostname != "127.0.0.1":
            continue  # the link back to qq.com
        assert urlsplit(href).path.startswith(site.prefix), href
        target = urldefrag(href).url
        if target not in checked:
            checked.add(target)
            assert visit.page.request.get(target).status == 200, href


def failed_images(site: Site) -> set[str]:
    """The remote URLs the crawl could not download (the all-failed article's, and only those)."""
    article = site.articles[ALL_FAILED]
    return {article["share_image"], *pictures(article)}


def test_the_home_page_lists_every_article_newest_first_with_its_picture(site: Site, browser: Any) -> None:
    with serve(site.public, site.prefix) as served:
        visit = new_page(browser)
        seen = open_page(visit, served.url)
        stories = visit.page.eval_on_selector_all(
            ".story", """els => els.map(el => ({
                title: el.querySelector('h2').innerText, date: el.querySelector('time').getAttribute('datetime'),
                shown: el.querySelector('time').innerText, summary: el.querySelector('p') ? el.querySelector('p').innerText : '',
                img: !!el.querySelector('img'), height: el.getBoundingClientRect().height,
                href: el.querySelector('h2 a').href}))""",
        )
        check_images(site, visit, seen, failed_images(site))
        assert not served.failed(), served.failed()
    articles = {normal(a["title"]): a for a in site.articles.values()}
    assert sorted(normal(s["title"]) for s in stories) == sorted(articles)
    instants = [datetime.fromisoformat(s["date"].replace("Z", "+00:00")) for s in stories]
    assert instants == sorted(instants, reverse=True)  # newest first
    for story in stories:
        article = articles[normal(story["title"])]
        assert story["shown"] == beijing(article)
        # No thumbnail (share image, body image, a video's cover: crawler.qq.pages): no box.
        assert story["img"] == bool(article["share_image"] or pictures(article) or covers(article)), story
        assert 40 < story["height"] < 400, story  # laid out as a row, summary or not
        if texts(article):
            assert normal(story["summary"]).rstrip(".…") and normal(story["summary"]).rstrip(".…")[:20] in normal(" ".join(texts(article)))
        else:
            assert story["summary"] == ""
    assert_no_artefacts(seen["text"], "\n".join(own_text(a) for a in site.articles.values()))


def test_every_article_reads_whole_with_each_picture_once(site: Site, browser: Any) -> None:
    failed_remote = failed_images(site)
    with serve(site.public, site.prefix) as served:
        home = new_page(browser)
        open_page(home, served.url)
        links = home.page.eval_on_selector_all(".story h2 a", "els => els.map(a => a.href)")
        assert len(links) == len(site.articles)
        checked: set[str] = set()
        check_links(site, home, checked)
        for link in links:
            visit = new_page(browser)
            seen = open_page(visit, link)
            title = visit.page.inner_text("article h1")
            article = next(a for a in site.articles.values() if normal(a["title"]) == normal(title))
            assert visit.page.is_visible("article h1") and visit.page.is_visible("article time")
            assert visit.page.inner_text("article time") == beijing(article)
            content = normal(visit.page.inner_text(".content"))
            paragraphs = texts(article)
            if paragraphs:
                assert paragraphs[0] in content and paragraphs[-1] in content, (link, paragraphs[0], paragraphs[-1])
            assert article["url"] in visit.page.eval_on_selector_all(".content a", "els => els.map(a => a.href)")
            assert_no_artefacts(seen["text"], own_text(article))
            check_images(site, visit, seen, failed_remote)
            check_links(site, visit, checked)
            # Each picture once: no two images of the page show the same bytes (a thumbnail that is
            # the first body image is not shown above it again).
            loaded = [hashlib.sha256(file_of(site, i["current"]).read_bytes()).hexdigest() for i in seen["images"] if i["loaded"]]
            assert len(loaded) == len(set(loaded)), (link, seen["images"])
            body_images = [i for i in seen["images"] if i["alt"] != ""]
            assert all(i["alt"] == "图片" for i in body_images), seen["images"]
            assert len(body_images) == len(set(pictures(article))), (link, seen["images"])
            if article["id"] == ALL_FAILED:
                assert not any(i["loaded"] for i in seen["images"])  # nothing promised locally
            if article["id"] == HOSTILE_NAMES:  # stored under the article's id, whatever the URL said
                names = sorted(file_of(site, i["current"]).name for i in seen["images"])
                assert len(names) == 3 and all(n.startswith(HOSTILE_NAMES) for n in names), names
            if article["id"] == NO_TEXT:
                assert not paragraphs and len(body_images) == 2
            visit.page.context.close()
        assert not served.failed(), served.failed()


def test_the_server_answers_under_the_prefix_only(tmp_path: Path) -> None:
    """What makes a link or image that leaves ``/news/`` fail the tests above: the server's 404."""
    (tmp_path / "posts").mkdir()
    (tmp_path / "posts" / "index.html").write_text("<p>ok</p>", encoding="utf-8")
    direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback only, whatever the environment says
    with serve(tmp_path, SUBPATH) as served:
        root = served.url.removesuffix(SUBPATH)
        with direct.open(f"{served.url}posts/") as answer:
            assert answer.status == 200
        for outside in ("/posts/", "/", "/news", "/newsposts/"):
            with pytest.raises(urllib.error.HTTPError) as refused:
                direct.open(root + outside)
            refused.value.close()
            assert refused.value.code == 404, outside
