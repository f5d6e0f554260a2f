"""Thumbnails and body images: the checks on image bytes, the requests, the rendering, and the real
``scrapy crawl qq`` against the mirror's image hosts (good images in four formats, every bad case),
a second run that fetches nothing again, and a Hugo build that finds every local image.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import yaml
from PIL import Image
from scrapy import Request
from scrapy.exceptions import (
    DownloadCancelledError,
    DownloadTimeoutError,
    NotConfigured,
)
from scrapy.pipelines.media import FileException
from twisted.internet.error import ConnectionRefusedError
from twisted.python.failure import Failure

from crawler.items import Article, Block
from crawler.paths import Layout, plan_paths
from crawler.pipelines.thumbnails import (
    ImageRejected,
    ThumbnailsPipeline,
    failure_reason,
    image_extension,
)
from crawler.render import RenderOptions, render_article
from crawler.render.profiles import profile_from_settings
from tests.mirror.images import (
    BAD_ARTICLES,
    BAD_REPLIES,
    IMAGES,
    TINY_PATH,
    bad_thumbnail_url,
    bomb_png,
    draw,
    noise,
)
from tests.support.components import project_crawler
from tests.support.crawl import ROOT, Crawl, by_id, crawl, stat

GOOD_IDS = ["20250207A090J800", "20260810A0BO7100", "20210426003469", "20161014006270", "20250207A0BAD400"]


def rejected(body: bytes, min_width: int = 0, min_height: int = 0) -> str:
    with pytest.raises(ImageRejected) as error:
        image_extension(body, min_width, min_height)
    return error.value.reason


# -- the bytes -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "extension"), [("JPEG", "jpg"), ("PNG", "png"), ("GIF", "gif"), ("WEBP", "webp")])
def test_extension_comes_from_the_bytes(kind: str, extension: str) -> None:
    assert image_extension(draw(kind, 120, 100, 1)) == extension


def test_bad_bytes_are_refused_with_their_reason() -> None:
    assert rejected(b"") == "empty"
    assert rejected(BAD_REPLIES["BadHtml"].body) == "not_image"
    jpeg = noise("JPEG", 320, 180, 5)
    assert rejected(jpeg[: len(jpeg) // 2]) == "truncated"
    assert rejected(bomb_png()) == "bomb"  # above twice Pillow's limit: DecompressionBombError
    assert rejected(bomb_png(10_000, 10_000)) == "bomb"  # above the limit: the warning is an error too
    assert len(bomb_png()) < 100
    assert rejected(draw("BMP", 120, 100, 1)) == "unsupported"
    assert rejected(IMAGES[TINY_PATH], 100, 100) == "too_small"
    assert image_extension(IMAGES[TINY_PATH]) == "gif"  # no minimum: thumbnails are not measured
    png = draw("PNG", 120, 100, 1)
    assert rejected(png[:60] + bytes([png[60] ^ 0xFF]) + png[61:]) in ("broken", "truncated")


def test_download_failures_get_a_reason() -> None:
    assert failure_reason(Failure(DownloadTimeoutError("took longer than 1 seconds"))).reason == "timeout"
    too_big = DownloadCancelledError("Expected to receive 270000 bytes which is larger than download max size (100000)")
    assert failure_reason(Failure(too_big)).reason == "too_large"
    assert failure_reason(Failure(ConnectionRefusedError())).reason == "network"
    assert failure_reason(Failure(KeyError("qq_image_stem"))).reason == "error"
    assert failure_reason(Failure(FileException("[Errno 28] No space left on device"))).reason == "store"


# -- the requests and the rendering ----------------------------------------------------------------


def article(**changes: object) -> Article:
    base = Article(
        id="20250207A090J800", url="https://new.qq.com/rain/a/20250207A090J800",
        source_url="https://news.qq.com/rain/a/20250207A090J800", template="current", title="标题",
        published=datetime(2025, 2, 7, 21, 54, 12, tzinfo=timezone(timedelta(hours=8))),
        share_image="https://inews.gtimg.com/om_ls/X_640360/0",
        blocks=[Block(kind="image", src="https://inews.gtimg.com/om_bt/A/641"),
                Block(kind="image", src="https://inews.gtimg.com/om_bt/B/641"),
                Block(kind="image", src="https://inews.gtimg.com/om_bt/A/641")],
    )  # fmt: skip
    for key, value in changes.items():
        setattr(base, key, value)
    return base


class Pipeline(ThumbnailsPipeline):
    """The pipeline, given articles whose paths are planned as the plan pipeline plans them."""

    def get_media_requests(self, item: Any, info: Any) -> list[Request]:
        item.paths = plan_paths(item, Layout.from_settings(self.crawler.settings, profile_from_settings(self.crawler.settings)))
        return super().get_media_requests(item, info)


def pipeline(tmp_path: Path, **settings: object) -> ThumbnailsPipeline:
    return Pipeline.from_crawler(project_crawler(tmp_path, **settings))


def test_requests_carry_referer_slot_and_size_limit(tmp_path: Path, settings) -> None:  # type: ignore[no-untyped-def]
    requests = pipeline(tmp_path).get_media_requests(article(), None)  # type: ignore[arg-type]
    assert [r.url for r in requests] == ["https://inews.gtimg.com/om_ls/X_640360/0"]
    request = requests[0]
    assert request.headers["Referer"] == b"https://news.qq.com/rain/a/20250207A090J800"
    assert request.meta["download_slot"] == "qq-images"
    assert "qq-images" in settings["DOWNLOAD_SLOTS"]  # its own concurrency and delay
    assert request.meta["download_maxsize"] == 10 * 1024 * 1024
    assert request.meta["qq_image_stem"] == "static/images/qq/20250207A090J800"


def test_body_images_are_requested_once_each_by_place(tmp_path: Path) -> None:
    requests = pipeline(tmp_path, THUMBNAILS_BODY_IMAGES=True).get_media_requests(article(), None)  # type: ignore[arg-type]
    assert [(r.url, r.meta["qq_image_stem"]) for r in requests] == [
        ("https://inews.gtimg.com/om_ls/X_640360/0", "static/images/qq/20250207A090J800"),
        ("https://inews.gtimg.com/om_bt/A/641", "static/images/qq/20250207A090J800-1"),
        ("https://inews.gtimg.com/om_bt/B/641", "static/images/qq/20250207A090J800-2"),
    ]
    # No share image: the first body image is the thumbnail, fetched once under the thumbnail's name.
    requests = pipeline(tmp_path, THUMBNAILS_BODY_IMAGES=True).get_media_requests(article(share_image=""), None)  # type: ignore[arg-type]
    assert [r.meta["qq_image_stem"] for r in requests] == [
        "static/images/qq/20250207A090J800", "static/images/qq/20250207A090J800-2"
    ]


def test_disabled(tmp_path: Path) -> None:
    with pytest.raises(NotConfigured):
        pipeline(tmp_path, THUMBNAILS_ENABLED=False)


def test_rendering_follows_the_settings() -> None:
    local = article(thumbnail_path="/images/qq/20250207A090J800.jpg",
                    image_paths={"https://inews.gtimg.com/om_bt/A/641": "/images/qq/20250207A090J800-1.png"})  # fmt: skip
    front = {"thumbnail": "{thumbnail}"}
    options = RenderOptions.from_settings(project_crawler().settings)
    remote = render_article(local, replace(options, front_matter=front))
    assert 'thumbnail: "https://inews.gtimg.com/om_ls/X_640360/0"' in remote
    assert "(/images" not in remote
    text = render_article(local, replace(options, front_matter=front, thumbnail="local", local_images=True))
    assert 'thumbnail: "/images/qq/20250207A090J800.jpg"' in text
    assert text.count("![图片](/images/qq/20250207A090J800-1.png)") == 2
    assert "![图片](https://inews.gtimg.com/om_bt/B/641)" in text  # not downloaded: stays remote
    failed = render_article(article(), replace(options, front_matter=front, thumbnail="local", local_images=True))
    assert 'thumbnail: "https://inews.gtimg.com/om_ls/X_640360/0"' in failed


# -- the real crawl against the mirror -------------------------------------------------------------


def front_matter(path: Path) -> dict[str, object]:
    return yaml.safe_load(path.read_text(encoding="utf-8").split("---\n")[1])  # type: ignore[no-any-return]


def served(url: str) -> bytes:
    return IMAGES["/" + url.split("://", 1)[1]]


@pytest.fixture(scope="module")
def local_crawl(mirror, tmp_path_factory) -> Iterator[tuple[Path, Crawl]]:  # type: ignore[no-untyped-def]
    output = tmp_path_factory.mktemp("local")
    result = crawl(
        mirror[1], output, "-a", "ids=" + ",".join(GOOD_IDS), "-s", "THUMBNAILS_FRONT_MATTER=local",
        "-s", "THUMBNAILS_BODY_IMAGES=True", "-s", "LOG_LEVEL=DEBUG",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    yield output, result


def test_local_files_names_and_links(local_crawl) -> None:  # type: ignore[no-untyped-def]
    output, result = local_crawl
    log = result.log
    images = output / "static" / "images" / "qq"
    files = by_id(output)
    assert sorted(files) == sorted(GOOD_IDS)
    expected: set[str] = set()
    for ident, path in files.items():
        text = path.read_text(encoding="utf-8")
        thumbnail = front_matter(path)["thumbnail"]
        assert isinstance(thumbnail, str)
        assert re.fullmatch(rf"/images/qq/{ident}\.(jpg|png|gif|webp)", thumbnail), thumbnail
        links = re.findall(r"!\[图片\]\(([^)]+)\)", text)
        assert links and all(link.startswith(f"/images/qq/{ident}") for link in links), links
        expected |= {thumbnail, *links}
    # Every referenced file exists, holds the bytes the host served, and is named for its format.
    assert {f"/images/qq/{p.name}" for p in images.iterdir()} == expected
    remote = re.findall(r"Downloaded file from <GET (\S+)> referred in <(\S+)>", log)
    assert len(remote) == 12  # 12 distinct image URLs; shared ones are fetched once
    for path in images.iterdir():
        with Image.open(path) as image:
            kind = image.format
        assert path.suffix == {"JPEG": ".jpg", "PNG": ".png", "GIF": ".gif", "WEBP": ".webp"}[kind or ""]
    spec = files["20250207A090J800"].read_text(encoding="utf-8")
    seed_thumb = "https://inews.gtimg.com/om_ls/Or2vqfLaOmubYgERubrcnJ6eXpC4r-t8FNmRkA0AH2TmUAA_640360/0"
    assert (images / "20250207A090J800.jpg").read_bytes() == served(seed_thumb)
    # The hostile page shares the seed's images: its own copies, same bytes.
    assert (images / "20250207A0BAD400.jpg").read_bytes() == served(seed_thumb)
    assert "![图片](/images/qq/20250207A090J800-2.webp)" in spec
    with Image.open(images / "20260810A0BO7100.gif") as gif:
        assert gif.n_frames == 2  # the original bytes: the animation is kept
    assert stat(result, "thumbnails/downloaded") == 5
    assert stat(result, "thumbnails/body/downloaded") == 9
    assert stat(result, "mirror/requests") == stat(result, "downloader/request_count")


def test_requests_carry_the_article_as_referer(local_crawl) -> None:  # type: ignore[no-untyped-def]
    _, result = local_crawl
    log = result.log
    pairs = dict(re.findall(r"Downloaded file from <GET (\S+)> referred in <(\S+)>", log))
    assert pairs["https://img1.gtimg.com/tech/pics/hv1/168/240/2140/139214868.jpg"] == "https://news.qq.com/a/20161014/006270.htm"
    assert pairs["https://inews.gtimg.com/newsapp_bt/0/13455074818/1000"] == "https://news.qq.com/rain/a/20210426003469"


def test_second_run_fetches_no_image_again(mirror, local_crawl, tmp_path) -> None:  # type: ignore[no-untyped-def]
    output, _ = local_crawl
    copy = tmp_path / "again"
    shutil.copytree(output, copy)
    def files() -> dict[Path, bytes]:  # the article store (.qq-articles.*) and the reports record the second run too
        return {
            p: p.read_bytes() for p in copy.rglob("*")
            if p.is_file() and not p.name.startswith(".qq-articles.") and ".crawl-reports" not in p.parts
        }  # fmt: skip

    before = files()
    site, url = mirror
    seen = len(site.requests)
    # refresh=1: the article pages are fetched again (the store would skip them), their images not.
    result = crawl(url, copy, "-a", "refresh=1", "-a", "ids=" + ",".join(GOOD_IDS), "-s", "THUMBNAILS_FRONT_MATTER=local",
                   "-s", "THUMBNAILS_BODY_IMAGES=True")  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    requested = site.requests[seen:]
    assert len([p for p in requested if "/rain/a/" in p or p.endswith(".htm")]) >= 5
    assert [p for p in requested if "gtimg.com" in p and "robots.txt" not in p] == []
    assert stat(result, "thumbnails/uptodate") == 5
    assert stat(result, "thumbnails/body/uptodate") == 9
    assert files() == before


def test_hugo_finds_every_local_image(local_crawl, tmp_path) -> None:  # type: ignore[no-untyped-def]
    output, _ = local_crawl
    hugo = shutil.which("hugo")
    assert hugo
    public = tmp_path / "public"
    result = subprocess.run(
        [hugo, "--source", str(ROOT / "examples" / "hugo"), "--contentDir", str(output / "content"),
         "--destination", str(public), "--panicOnWarning", "--logLevel", "warn"],
        capture_output=True, text=True, timeout=300, env={**os.environ, "HUGO_STATICDIR": str(output / "static")},
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    sources = [src for page in public.glob("posts/*/index.html")
               for src in re.findall(r'<img[^>]* src="([^"]+)"', page.read_text(encoding="utf-8"))]  # fmt: skip
    # Eleven body images, and three of the five thumbnails: the other two are their article's first
    # body image (no share image), linked as the body links it and shown once.
    assert len(sources) == 3 + 11
    assert all(src.startswith("/images/qq/") for src in sources), sources
    missing = [src for src in sources if not (public / src.lstrip("/")).is_file()]
    assert missing == []


def test_default_front_matter_is_remote_and_spec_exact(mirror, tmp_path) -> None:  # type: ignore[no-untyped-def]
    result = crawl(mirror[1], tmp_path, "-a", "ids=20250207A090J800,20161014006270")
    assert result.returncode == 0, result.stderr[-3000:]
    spec = (ROOT / "tests" / "fixtures" / "spec" / "seed-article.md").read_bytes()
    files = by_id(tmp_path)
    assert files["20250207A090J800"].read_bytes() == spec
    # The thumbnail is downloaded all the same, body images are not (off by default).
    images = tmp_path / "static" / "images" / "qq"
    assert sorted(p.name for p in images.iterdir()) == ["20161014006270.jpg", "20250207A090J800.jpg"]
    assert stat(result, "thumbnails/downloaded") == 2


def test_expired_image_is_fetched_again_and_replaces_its_old_format(mirror, tmp_path) -> None:  # type: ignore[no-untyped-def]
    images = tmp_path / "static" / "images" / "qq"
    images.mkdir(parents=True)
    stale, fresh = images / "20161014006270.png", images / "20250207A090J800.jpg"
    stale.write_bytes(draw("PNG", 120, 100, 3))
    fresh.write_bytes(b"kept as it is: younger than FILES_EXPIRES")
    old = time.time() - 91 * 86400
    os.utime(stale, (old, old))
    result = crawl(mirror[1], tmp_path, "-a", "ids=20250207A090J800,20161014006270")
    assert result.returncode == 0, result.stderr[-3000:]
    assert sorted(p.name for p in images.iterdir()) == ["20161014006270.jpg", "20250207A090J800.jpg"]
    assert (images / "20161014006270.jpg").read_bytes() == served("https://img1.gtimg.com/tech/pics/hv1/168/240/2140/139214868.jpg")
    assert fresh.read_bytes() == b"kept as it is: younger than FILES_EXPIRES"
    assert stat(result, "thumbnails/uptodate") == 1
    assert stat(result, "thumbnails/downloaded") == 1


# -- bad images ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bad_crawl(mirror, tmp_path_factory) -> Iterator[tuple[Path, Crawl]]:  # type: ignore[no-untyped-def]
    output = tmp_path_factory.mktemp("bad")
    result = crawl(
        mirror[1], output, "-a", "ids=" + ",".join(BAD_ARTICLES), "-s", "THUMBNAILS_FRONT_MATTER=local",
        "-s", "THUMBNAILS_BODY_IMAGES=True", "-s", "DOWNLOAD_TIMEOUT=1", "-s", "THUMBNAILS_MAXSIZE=100000",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    yield output, result


@pytest.mark.parametrize(("ident", "case", "reason"), [(i, c, r) for i, (c, r) in BAD_ARTICLES.items() if c != "BadTiny"])
def test_bad_thumbnail_keeps_the_remote_url(bad_crawl, ident: str, case: str, reason: str) -> None:  # type: ignore[no-untyped-def]
    output, result = bad_crawl
    log = result.log
    path = by_id(output)[ident]
    url = bad_thumbnail_url(case)
    assert front_matter(path)["thumbnail"] == url
    assert stat(result, f"thumbnails/failed/{reason}") == 1
    assert re.search(rf"Image not downloaded \({reason}: .*\): {re.escape(url)} referred in "
                     rf"{re.escape(f'https://news.qq.com/rain/a/{ident}')}; the thumbnail of {ident}", log)  # fmt: skip
    assert not list((output / "static" / "images" / "qq").glob(f"{ident}.*"))


def test_too_small_body_image_keeps_its_remote_link(bad_crawl) -> None:  # type: ignore[no-untyped-def]
    output, result = bad_crawl
    ident = "20250207A0IMGH00"
    text = by_id(output)[ident].read_text(encoding="utf-8")
    assert "![图片](https://inews.gtimg.com/om_bt/BadTinySpacer/641)" in text
    assert f"![图片](/images/qq/{ident}-2.webp)" in text
    assert front_matter(by_id(output)[ident])["thumbnail"] == f"/images/qq/{ident}.jpg"
    assert stat(result, "thumbnails/body/failed/too_small") == 1


def test_bad_images_leave_nothing_on_disk_and_no_traceback(bad_crawl) -> None:  # type: ignore[no-untyped-def]
    output, result = bad_crawl
    log = result.log
    assert stat(result, "write/written") == len(BAD_ARTICLES)
    # Only good images: a thumbnail for the one article whose thumbnail is good, the body images
    # (the seed's two, the tiny one refused), no temporary or partial file.
    names = sorted(p.name for p in (output / "static").rglob("*") if p.is_file())
    body = [f"{ident}-{n}.{ext}" for ident in BAD_ARTICLES for n, ext in ((1, "png"), (2, "webp"))]
    assert names == sorted(["20250207A0IMGH00.jpg", *body[:-2], "20250207A0IMGH00-2.webp"])
    assert "Traceback" not in log


def test_front_matter_setting_is_checked(settings) -> None:  # type: ignore[no-untyped-def]
    from crawler.config import settings_errors

    settings.set("THUMBNAILS_FRONT_MATTER", "offline")
    assert settings_errors(settings) == ["THUMBNAILS_FRONT_MATTER = 'offline' is not one of remote, local"]
