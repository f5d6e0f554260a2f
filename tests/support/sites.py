"""Each builder's example site, built from a real crawl of the mirror with local images.

``reader_mirror()`` is a mirror with, besides the saved pages, the pages a reader's site must
survive: an article whose every image fails (``ALL_FAILED``), one whose image URLs carry hostile
names (``HOSTILE_NAMES``), one with pictures and no text (``NO_TEXT``). ``crawl_site(builder, ...)``
crawls ``READER_URLS`` into a copy of ``examples/<builder>`` (or, for Hugo, an output root the
example site reads) with ``THUMBNAILS_FRONT_MATTER=local`` and ``THUMBNAILS_BODY_IMAGES=True``;
``build(crawled, work, prefix)`` builds it with the real builder for the site path ``prefix``
(``/`` or ``/news/``, by docs/profiles.md's recipe) and returns the published folder, the crawl's
stats and the articles as the crawl's JSON Lines feed gave them; ``build_site`` does both. Used by
``tests/test_browser.py`` and by ``tests/support/screenshots.py``.
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.fixtures.build_hostile_pages import with_data
from tests.mirror.images import SEED_BODY_HASH, SEED_ID, SEED_THUMB_HASH, image
from tests.mirror.server import Mirror, Reply
from tests.support.builders import build as run_builder
from tests.support.crawl import ROOT, Crawl, crawl

PAGES = ROOT / "tests" / "fixtures" / "pages"
SEED_OTHER_BODY_HASH = "OHqdATSwFICB8EuVJcoO1GFicuEvyBnIWopkr1NL34huEAA"  # the seed's second body image
ALL_FAILED = "20250207A0ALLF00"
HOSTILE_NAMES = "20250207A0HNAM00"
NO_TEXT = "20250207A0NTXT00"
# A name no file may take: a path out of the store, a file the site must not serve, markup.
HOSTILE_NAME = "Hostile..%2F..%2F.qq-articles.sqlite3%3F%22%3E%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E"
READER_URLS = [
    "https://new.qq.com/rain/a/20250207A090J800",  # the seed: a share image and two body images
    "https://news.qq.com/rain/a/20260810A0BO7100",  # current template, GIF thumbnail
    "https://new.qq.com/rain/a/20250207A0BAD400",  # hostile title and text
    "http://tech.qq.com/a/20161014/006270.htm",  # old GBK page: its thumbnail is its one body image
    "https://new.qq.com/rain/a/20201130A0G1JJ",  # 2020 page, four images, no share image
    "https://new.qq.com/omn/TWF20200/TWF2020041300303000.html",  # no image at all: no thumbnail
    # The bad input: not in the screenshots (REAL_URLS)
    f"https://news.qq.com/rain/a/{ALL_FAILED}",
    f"https://news.qq.com/rain/a/{HOSTILE_NAMES}",
    f"https://news.qq.com/rain/a/{NO_TEXT}",
]
REAL_URLS = READER_URLS[:6]  # the saved pages of qq.com only
BUILDERS = ("hugo", "hugo-bundle", "jekyll", "eleventy", "hexo")
LOCAL_IMAGES = ["-s", "THUMBNAILS_FRONT_MATTER=local", "-s", "THUMBNAILS_BODY_IMAGES=True"]


def _variant(ident: str, title: str, hashes: dict[str, str], change: Any = None) -> bytes:
    page = (PAGES / f"seed-{SEED_ID}.html").read_text(encoding="utf-8")
    page = page.replace(SEED_ID, ident).replace("DeepSeek点燃开源模型", title)
    for old, new in hashes.items():
        page = page.replace(old, new)
    return (with_data(page, change) if change else page).encode("utf-8")


def _image_only(data: dict[str, Any]) -> None:
    data["originContent"]["text"] = "<p><!--IMG_0--></p><p><!--IMG_1--></p>"


def reader_mirror() -> Mirror:
    """The mirror, with the reader's bad-input articles and the image host's hostile names."""
    mirror = Mirror()
    pages = {
        ALL_FAILED: _variant(ALL_FAILED, "图片全部失败的文章", {
            SEED_THUMB_HASH: "GoneThumb", SEED_BODY_HASH: "GoneBodyOne", SEED_OTHER_BODY_HASH: "GoneBodyTwo"}),
        HOSTILE_NAMES: _variant(HOSTILE_NAMES, "图片名有害的文章", {
            SEED_THUMB_HASH: HOSTILE_NAME, SEED_BODY_HASH: HOSTILE_NAME + "One", SEED_OTHER_BODY_HASH: HOSTILE_NAME + "Two"}),
        NO_TEXT: _variant(NO_TEXT, "只有图片没有文字的文章", {}, _image_only),
    }  # fmt: skip
    # The hostile names are answered with the seed's own pictures, each its own.
    pictures = {
        "": f"/inews.gtimg.com/om_ls/{SEED_THUMB_HASH}_640360/0", "One": f"/inews.gtimg.com/om_bt/{SEED_BODY_HASH}/641",
        "Two": f"/inews.gtimg.com/om_bt/{SEED_OTHER_BODY_HASH}/641",
    }  # fmt: skip
    mirror.routes[:0] = [
        (re.compile(r"^/[^/]+/rain/a/(?P<id>20250207A0(?:ALLF|HNAM|NTXT)00)$"), lambda m, s: Reply(200, pages[m["id"]])),
        (re.compile(r"^/inews\.gtimg\.com/om_(?:ls|bt)/Hostile.*?(?P<n>One|Two|)(?:_640360)?/(?:0|641)$"),
         lambda m, s: image(pictures[m["n"]])),
    ]  # fmt: skip
    return mirror


SUBPATH = "/news/"  # the sub-path docs/profiles.md gives its recipes for


@dataclass
class Crawled:
    """A crawl for a builder: the ``OUTPUT_ROOT`` it wrote (a copy of the example site, or Hugo's
    output root), the crawl, the articles its feed gave, and the site path its settings were for."""

    builder: str
    root: Path
    crawl: Crawl
    articles: dict[str, dict[str, Any]]
    prefix: str = "/"


@dataclass
class Site:
    """A built site: the folder its builder published, the crawl, and the articles it was built from."""

    builder: str
    public: Path
    crawl: Crawl
    articles: dict[str, dict[str, Any]]
    prefix: str = "/"


def tool_path(builder: str) -> str | None:
    """The builder's executable, or None when it is not installed."""
    if builder in ("eleventy", "hexo"):
        path = ROOT / "examples" / builder / "node_modules" / ".bin" / builder
        return str(path) if path.exists() else None
    return shutil.which({"hugo-bundle": "hugo"}.get(builder, builder))


def _copy_site(builder: str, source: Path, site: Path) -> None:
    """A copy of a site's sources (no build output, no build cache); the example's node_modules linked."""
    built = shutil.ignore_patterns("node_modules", "_site", "public", ".jekyll-cache", "db.json")
    shutil.copytree(source, site, ignore=built)
    modules = ROOT / "examples" / builder / "node_modules"
    if modules.exists():
        (site / "node_modules").symlink_to(modules)


def _configure(config: Path, key: str, value: str) -> None:
    """Set ``key: value`` in a site's YAML config, as a user does: the one line that sets ``key``."""
    text, count = re.subn(rf"(?m)^{key}:.*$", f"{key}: {value}", config.read_text(encoding="utf-8"))
    assert count == 1, f"{config} sets {key} {count} times"
    config.write_text(text, encoding="utf-8")


def crawl_settings(builder: str, prefix: str = "/") -> list[str]:
    """The crawl's settings for ``builder``'s site under ``prefix``, as docs/profiles.md gives them.
    Only Jekyll's recipe changes the crawl (its Markdown links do not get ``baseurl``); every other
    builder adds the sub-path when it builds, so two sites with the same settings share a crawl."""
    settings = ["-s", f"OUTPUT_PROFILE={builder}", *LOCAL_IMAGES]
    if builder == "jekyll" and prefix != "/":
        settings += ["-s", f"THUMBNAILS_URL_PREFIX={prefix}"]
    return settings


def crawl_for(
    builder: str, mirror_url: str, root: Path, urls: list[str], prefix: str = "/"
) -> tuple[Crawl, dict[str, dict[str, Any]]]:
    """Crawl ``urls`` for ``builder``'s site under ``prefix`` into ``root``; the crawl and its articles."""
    feed = root.parent / f"{root.name}-articles.jsonl"
    result = crawl(
        mirror_url, root, *crawl_settings(builder, prefix), "-a", f"urls={','.join(urls)}",
        "-s", f"FEEDS={json.dumps({str(feed): {'format': 'jsonlines'}})}",
    )  # fmt: skip
    assert result.returncode == 0, result.log[-3000:]
    articles = {item["id"]: item for item in map(json.loads, feed.read_text(encoding="utf-8").splitlines())}
    return result, articles


def crawl_site(builder: str, mirror_url: str, work: Path, prefix: str = "/", urls: list[str] = READER_URLS) -> Crawled:
    """Crawl ``urls`` for ``builder``'s site under ``prefix``: into Hugo's output root or a copy of its example."""
    work.mkdir(parents=True, exist_ok=True)
    if builder in ("hugo", "hugo-bundle"):
        root = work / "output"
    else:
        root = work / "crawled"
        _copy_site(builder, ROOT / "examples" / builder, root)
    result, articles = crawl_for(builder, mirror_url, root, urls, prefix)
    return Crawled(builder, root, result, articles, prefix)


def build(crawled: Crawled, work: Path, prefix: str = "/") -> Site:
    """Build the crawled site for the site path ``prefix`` in ``work``, following docs/profiles.md's
    recipe for a site under a sub-path: Hugo's ``baseURL`` holds it, Jekyll's ``baseurl`` and
    Hexo's ``root`` are set in the copied site's ``_config.yml``, Eleventy gets ``--pathprefix``."""
    assert crawl_settings(crawled.builder, prefix) == crawl_settings(crawled.builder, crawled.prefix), (
        f"a {crawled.builder} site under {prefix} needs its own crawl"
    )
    builder = crawled.builder
    tool = tool_path(builder)
    assert tool, f"{builder} is not installed"
    work.mkdir(parents=True, exist_ok=True)
    if builder in ("hugo", "hugo-bundle"):
        public = work / "public"
        run_builder([tool, "--source", str(ROOT / "examples" / "hugo"), "--contentDir", str(crawled.root / "content"),
              "--destination", str(public), "--baseURL", f"https://example.org{prefix}", "--panicOnWarning",
              "--logLevel", "warn"], work, HUGO_STATICDIR=str(crawled.root / "static"))  # fmt: skip
        return Site(builder, public, crawled.crawl, crawled.articles, prefix)
    site = work / "site"
    _copy_site(builder, crawled.root, site)
    if builder == "jekyll":
        if prefix != "/":
            _configure(site / "_config.yml", "baseurl", prefix.rstrip("/"))
        run_builder([tool, "build", "--source", str(site), "--destination", str(site / "_site")], site)
        return Site(builder, site / "_site", crawled.crawl, crawled.articles, prefix)
    if builder == "eleventy":
        run_builder([tool, f"--pathprefix={prefix}"], site)
        return Site(builder, site / "_site", crawled.crawl, crawled.articles, prefix)
    if prefix != "/":
        _configure(site / "_config.yml", "root", prefix)
    run_builder([tool, "generate"], site)
    return Site(builder, site / "public", crawled.crawl, crawled.articles, prefix)


def build_site(builder: str, mirror_url: str, work: Path, prefix: str = "/", urls: list[str] = READER_URLS) -> Site:
    """Crawl ``urls`` for ``builder`` under ``work`` and build its example site, for the site path ``prefix``."""
    return build(crawl_site(builder, mirror_url, work, prefix, urls), work, prefix)
