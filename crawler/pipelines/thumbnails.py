"""Thumbnails (and, optionally, body images): downloaded next to the Markdown, named by article id.

``ThumbnailsPipeline`` is Scrapy's ``FilesPipeline`` with only its overridable hooks replaced
(``get_media_requests``, ``media_to_download``, ``media_downloaded``, ``media_failed``,
``file_path``, ``item_completed``) and an atomic variant of its filesystem store. Scrapy does the
downloading: the requests go through the downloader middlewares (robots.txt, retries, the mirror),
in their own download slot (``THUMBNAILS_DOWNLOAD_SLOT``, tuned in ``DOWNLOAD_SLOTS``), so the image
host is throttled apart from the article pages.

What is fetched: the article's thumbnail (``Article.thumbnail``: the share image, ``og:image`` or
``shareImg``, else the first body image) and, with ``THUMBNAILS_BODY_IMAGES``, every body image.
Every request carries the article page as ``Referer`` and ``download_maxsize`` =
``THUMBNAILS_MAXSIZE``.

Where: ``<OUTPUT_ROOT>/<THUMBNAILS_STORE>/<THUMBNAILS_PATH>.<ext>`` (default
``output/static/images/qq/<id>.jpg``; body images ``THUMBNAILS_BODY_PATH``, ``<id>-<n>``, ``n`` the
image's place among the article's distinct body images). The extension is that of the format
Pillow reads from the bytes (``jpg``, ``png``, ``gif``, ``webp``), never the URL's: gtimg URLs such
as ``…_640360/0`` carry none. The site path recorded on the item is ``THUMBNAILS_URL_PREFIX`` +
that path (``/images/qq/<id>.jpg``), what a Hugo site serves with the store as its static dir.
A profile that keeps images beside the article (``hugo-bundle``) stores them in the article's
folder instead (``content/posts/<date>-<slug>/<id>.jpg``) and links them relatively (``<id>.jpg``),
as page resources.
An image shared by several articles of one run is fetched once (Scrapy caches media results per
URL) and copied to each article's own name.

The original bytes are kept (``FilesPipeline``, not ``ImagesPipeline``): ``ImagesPipeline``
re-encodes everything to JPEG, which loses GIF animation and PNG/WebP transparency, costs quality
on already-compressed JPEGs and usually makes WebP files larger. Pillow is used to *check* the
bytes instead: the format must be one of the four above, ``verify()`` must pass, the image must
decode completely (``ImageFile.LOAD_TRUNCATED_IMAGES`` stays off, so a truncated JPEG fails), and
Pillow's decompression-bomb guard is on (its warning is an error here), so a PNG that claims
gigapixel dimensions is refused before it is decoded. Body images (not thumbnails) smaller than
``THUMBNAILS_MIN_WIDTH`` x ``THUMBNAILS_MIN_HEIGHT`` are refused too (icons, spacers, trackers).
The check decodes in the reactor thread, JPEGs at their smallest DCT scale (``Image.draft``:
every byte is read, 1/64 of the pixels are made), bounded by ``THUMBNAILS_MAXSIZE``.

An image already on disk under its name, younger than ``FILES_EXPIRES`` days, is not fetched
again. Files are written to a temporary file and renamed: nothing half-written stays on disk.

A failed image never stops the article: it is written with the remote URL, the failure is logged
with the image URL and the article URL, and counted. Reasons: ``http_<status>``, ``timeout``,
``too_large``, ``network``, ``ignored``, ``empty``, ``not_image``, ``unsupported``, ``truncated``,
``broken``, ``bomb``, ``too_small``, ``store`` (the file could not be written), ``error``
(anything else, e.g. a bug).

Settings: ``THUMBNAILS_ENABLED``, ``THUMBNAILS_STORE``, ``THUMBNAILS_PATH``,
``THUMBNAILS_BODY_PATH``, ``THUMBNAILS_URL_PREFIX``, ``THUMBNAILS_BODY_IMAGES``,
``THUMBNAILS_MAXSIZE``, ``THUMBNAILS_MIN_WIDTH``, ``THUMBNAILS_MIN_HEIGHT``,
``THUMBNAILS_DOWNLOAD_SLOT``, ``FILES_EXPIRES``, ``OUTPUT_ROOT`` (``THUMBNAILS_FRONT_MATTER`` is
read by the renderer). Item fields set: ``thumbnail_path``, ``image_paths``.
Meta keys: ``qq_image_role`` (``thumbnail`` or ``body``), ``qq_image_stem``, ``qq_image_ext``.
URLs go through the URL policy (``crawler.urls``): resolved against the article's page, only
public http(s) is requested; a refused URL is logged once with the article and counted
``thumbnails/refused/<reason>`` (refused here, or later by ``crawler.middlewares.urlpolicy`` once
its host is resolved or it redirects), and the article is written without a local copy.
Stats: ``thumbnails/refused/<reason>``, ``qq/thumbnail/downloaded``, ``qq/thumbnail/uptodate``, ``qq/thumbnail/none``,
``qq/thumbnail/failed/<reason>``, ``qq/images/downloaded``, ``qq/images/uptodate``,
``qq/images/failed/<reason>`` (per article), besides Scrapy's ``file_count`` and
``file_status_count/<status>``.
"""

from __future__ import annotations

import logging
import os
import posixpath
import time
import warnings
from collections import defaultdict
from io import BytesIO
from pathlib import Path
from typing import Any, ClassVar, NoReturn

from PIL import Image, UnidentifiedImageError
from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    IgnoreRequest,
    NotConfigured,
    ResponseDataLossError,
)
from scrapy.http import Response
from scrapy.http.request import NO_CALLBACK
from scrapy.pipelines.files import FilesPipeline, FilesStoreProtocol, FSFilesStore
from scrapy.pipelines.media import FileException, FileInfo, FileInfoOrError, MediaPipeline
from scrapy.utils.defer import ensure_awaitable
from twisted.internet.defer import CancelledError
from twisted.internet.error import TimeoutError as TwistedTimeoutError
from twisted.python.failure import Failure

from crawler.items import Article
from crawler.middlewares.urlpolicy import UrlRefused
from crawler.pipelines.write import article_path, write_atomic
from crawler.render.profiles import profile_from_settings
from crawler.urls import Verdict, vet_url

logger = logging.getLogger(__name__)

# Pillow format -> file extension: the formats a web page can show.
EXTENSIONS = {"JPEG": "jpg", "PNG": "png", "GIF": "gif", "WEBP": "webp"}


class ImageRejected(IgnoreRequest):
    """An image that is not kept, with a short ``reason`` (the stats key) and a ``detail``.

    It is an ``IgnoreRequest`` so that ``FilesPipeline.media_failed`` treats it as an expected
    outcome (logged by us once, no traceback) rather than a crash.
    """

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.detail = detail or reason


def image_extension(body: bytes, min_width: int = 0, min_height: int = 0) -> str:
    """The file extension of good image bytes; ``ImageRejected`` for anything else (pure)."""
    if not body:
        raise ImageRejected("empty", "0-byte body")
    try:
        with warnings.catch_warnings():
            # Pillow warns above MAX_IMAGE_PIXELS and refuses above twice that; refuse both.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(BytesIO(body)) as image:
                kind, (width, height) = image.format, image.size
                image.verify()
            with Image.open(BytesIO(body)) as image:
                # verify() does not decode; a truncated JPEG only fails here. A JPEG is decoded at
                # its smallest DCT scale (draft): every byte is still read, at 1/64 of the pixels.
                image.draft(image.mode, (1, 1))
                image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageRejected("bomb", str(exc)) from None
    except UnidentifiedImageError:
        raise ImageRejected("not_image", f"not an image: {body[:40]!r}") from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        reason = "truncated" if "truncated" in str(exc) or isinstance(exc, EOFError) else "broken"
        raise ImageRejected(reason, f"{type(exc).__name__}: {exc}") from None
    extension = EXTENSIONS.get(kind or "")
    if extension is None:
        raise ImageRejected("unsupported", f"format {kind}")
    if width < min_width or height < min_height:
        raise ImageRejected("too_small", f"{width}x{height} is below {min_width}x{min_height}")
    return extension


_NETWORK_ERRORS = (
    OSError, DownloadConnectionRefusedError, DownloadFailedError, ResponseDataLossError, CannotResolveHostError
)


def failure_reason(failure: Failure) -> ImageRejected:
    """What a failed download was, as a rejection with a reason."""
    value = failure.value
    if isinstance(value, ImageRejected):
        return value
    if isinstance(value, UrlRefused):  # the URL policy refused it, or a redirect of it
        return ImageRejected(f"refused/{value.reason}", str(value))
    detail = f"{type(value).__name__}: {value}"
    if isinstance(value, DownloadTimeoutError | TwistedTimeoutError):
        return ImageRejected("timeout", detail)
    if isinstance(value, DownloadCancelledError | CancelledError) and "max size" in str(value):
        return ImageRejected("too_large", detail)
    if isinstance(value, IgnoreRequest):
        return ImageRejected("ignored", detail)
    if isinstance(value, FileException):  # FilesPipeline could not store it (e.g. a full disk)
        return ImageRejected("store", detail)
    if isinstance(value, _NETWORK_ERRORS) or type(value).__module__.startswith("twisted."):
        return ImageRejected("network", detail)
    return ImageRejected("error", detail)


class AtomicFSFilesStore(FSFilesStore):
    """Scrapy's filesystem store, but a file is written to a temporary file and renamed, and no
    directory is made before a file is stored: a crawl refused at start (``bad_output_root``)
    must leave the filesystem as it found it."""

    def __init__(self, basedir: str | os.PathLike[str]) -> None:
        self.basedir = str(basedir).split("://", 1)[-1]
        self.created_directories: defaultdict[MediaPipeline.SpiderInfo, set[str]] = defaultdict(set)

    def persist_file(
        self,
        path: str | os.PathLike[str],
        buf: BytesIO,
        info: MediaPipeline.SpiderInfo,
        meta: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        write_atomic(self._get_filesystem_path(path), buf.getvalue())


class ThumbnailsPipeline(FilesPipeline):
    """Downloads each Article's thumbnail (and body images) and records their local site paths."""

    MEDIA_NAME = "image"
    STORE_SCHEMES: ClassVar[dict[str, type[FilesStoreProtocol]]] = {
        **FilesPipeline.STORE_SCHEMES,
        "": AtomicFSFilesStore,
        "file": AtomicFSFilesStore,
    }

    def __init__(self, store_uri: str, *, crawler: Crawler) -> None:
        super().__init__(store_uri, crawler=crawler)
        settings = crawler.settings
        self.root = Path(store_uri)
        self.thumbnail_path = settings.get("THUMBNAILS_PATH", "images/qq/{id}")
        self.body_path = settings.get("THUMBNAILS_BODY_PATH", "images/qq/{id}-{n}")
        self.url_prefix = settings.get("THUMBNAILS_URL_PREFIX", "/")
        self.body_images = settings.getbool("THUMBNAILS_BODY_IMAGES", False)
        self.maxsize = settings.getint("THUMBNAILS_MAXSIZE", 10 * 1024 * 1024)
        self.min_width = settings.getint("THUMBNAILS_MIN_WIDTH", 100)
        self.min_height = settings.getint("THUMBNAILS_MIN_HEIGHT", 100)
        self.slot = settings.get("THUMBNAILS_DOWNLOAD_SLOT", "qq-images")
        # A profile that keeps images beside the article (hugo-bundle): images go to the
        # article's folder, named by the last part of THUMBNAILS_PATH / _BODY_PATH, linked relatively.
        self.profile = profile_from_settings(settings)
        self.slug_max_length = settings.getint("OUTPUT_SLUG_MAX_LENGTH", 80)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ThumbnailsPipeline:
        settings = crawler.settings
        if not settings.getbool("THUMBNAILS_ENABLED", True):
            raise NotConfigured("THUMBNAILS_ENABLED is off")
        root = Path(settings.get("OUTPUT_ROOT", "output")).expanduser()
        if profile_from_settings(settings).image_dir is None:
            root = root / settings.get("THUMBNAILS_STORE", "static")
        return cls(str(root.resolve()), crawler=crawler)

    def _bundle_dir(self, article: Article) -> str | None:
        """The folder of the article's images relative to the store, for a bundle profile."""
        if self.profile.image_dir is None:
            return None
        folder = posixpath.dirname(article_path(article, self.profile.path, self.slug_max_length))
        return posixpath.normpath(posixpath.join(folder, self.profile.image_dir))

    def _stem(self, article: Article, template: str, n: int = 0) -> str:
        name = template.format(id=article.id, n=n)
        bundle = self._bundle_dir(article)
        return name if bundle is None else f"{bundle}/{posixpath.basename(name)}"

    def _site_path(self, article: Article, path: str) -> str:
        """How the Markdown links a stored image: from the site root, or from the article's folder."""
        bundle = self._bundle_dir(article)
        if bundle is None:
            return self.url_prefix + path
        return posixpath.relpath(path, posixpath.dirname(article_path(article, self.profile.path, self.slug_max_length)))

    def _inc(self, key: str) -> None:
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(key)

    def _request(self, url: str, article: Article, role: str, stem: str) -> Request:
        meta = {
            "qq_image_role": role,
            "qq_image_stem": stem,
            "download_slot": self.slot,
            "download_maxsize": self.maxsize,
            "urlpolicy": True,  # page-derived: crawler.middlewares.urlpolicy checks it and its redirects
        }
        return Request(url, callback=NO_CALLBACK, headers={"Referer": article.source_url}, meta=meta)

    def _candidates(self, article: Article) -> list[tuple[str, str, str, Verdict]]:
        """(URL as the page gave it, role, stem, the URL policy's verdict), thumbnail first."""
        candidates = []
        if article.thumbnail:
            stem = self._stem(article, self.thumbnail_path)
            candidates.append((article.thumbnail, "thumbnail", stem, vet_url(article.thumbnail, article.source_url)))
        if self.body_images:
            for n, url in enumerate(dict.fromkeys(article.images), start=1):
                if url != article.thumbnail:
                    stem = self._stem(article, self.body_path, n)
                    candidates.append((url, "body", stem, vet_url(url, article.source_url)))
        return candidates

    def wanted(self, article: Article) -> list[tuple[str, str, str]]:
        """(URL, role, stem) of every image to fetch for the article, thumbnail first; URLs the
        URL policy refuses are left out (``get_media_requests`` logs and counts them)."""
        return [(url, role, stem) for url, role, stem, verdict in self._candidates(article) if verdict.ok]

    # -- FilesPipeline's overridable interface -------------------------------------------------

    def get_media_requests(self, item: Any, info: MediaPipeline.SpiderInfo) -> list[Request]:
        if not isinstance(item, Article):
            return []
        requests = []
        for url, role, stem, verdict in self._candidates(item):
            if verdict.ok:
                requests.append(self._request(verdict.url, item, role, stem))
                continue
            self._inc(f"thumbnails/refused/{verdict.reason}")
            logger.warning(
                "Image refused (%s): %r in %s; the %s of %s gets no local copy",
                verdict.reason, url[:200], item.source_url, role, item.id,
            )  # fmt: skip
        return requests

    async def media_to_download(
        self, request: Request, info: MediaPipeline.SpiderInfo, *, item: Any = None
    ) -> FileInfo | None:
        stem = request.meta["qq_image_stem"]
        for extension in EXTENSIONS.values():
            path = f"{stem}.{extension}"
            stat = await ensure_awaitable(self.store.stat_file(path, info))
            modified = stat.get("last_modified") if stat else None
            if modified and (time.time() - modified) / 86400 <= self.expires:
                self.inc_stats("uptodate")
                return {"url": request.url, "path": path, "checksum": stat.get("checksum"), "status": "uptodate"}
        return None

    async def media_downloaded(
        self, response: Response, request: Request, info: MediaPipeline.SpiderInfo, *, item: Any = None
    ) -> FileInfo:
        if response.status != 200:
            raise ImageRejected(f"http_{response.status}", f"HTTP {response.status}")
        small = request.meta["qq_image_role"] == "body"
        request.meta["qq_image_ext"] = image_extension(
            response.body, self.min_width if small else 0, self.min_height if small else 0
        )
        return await super().media_downloaded(response, request, info, item=item)

    def media_failed(self, failure: Failure, request: Request, info: MediaPipeline.SpiderInfo) -> NoReturn:
        # FilesPipeline logs an IgnoreRequest at debug level and raises it as "filtered", without
        # a traceback: the rejection (with its reason) reaches item_completed, which logs and counts it.
        super().media_failed(Failure(failure_reason(failure)), request, info)

    def file_path(
        self,
        request: Request,
        response: Response | None = None,
        info: MediaPipeline.SpiderInfo | None = None,
        *,
        item: Any = None,
    ) -> str:
        extension = request.meta.get("qq_image_ext")
        stem: str = request.meta["qq_image_stem"]
        return f"{stem}.{extension}" if extension else stem

    def item_completed(self, results: list[FileInfoOrError], item: Any, info: MediaPipeline.SpiderInfo) -> Any:
        if not isinstance(item, Article):
            return item
        if not item.thumbnail:
            self._inc("qq/thumbnail/none")
        # Results come in the order of the requests (MediaPipeline gathers them in order).
        for (url, role, stem), (ok, value) in zip(self.wanted(item), results, strict=True):
            stats = "thumbnail" if role == "thumbnail" else "images"
            if ok:
                assert isinstance(value, dict)
                path = self._own_copy(value["path"], stem, info)
                if value["status"] != "uptodate":
                    self._drop_other_formats(path, stem)
                local = self._site_path(item, path)
                if role == "thumbnail":
                    item.thumbnail_path = local
                if self.body_images and url in item.images:
                    item.image_paths[url] = local
                self._inc(f"qq/{stats}/{'uptodate' if value['status'] == 'uptodate' else 'downloaded'}")
                continue
            assert isinstance(value, Failure)
            cause = value.value if isinstance(value.value, ImageRejected) else value.value.__cause__
            rejected = cause if isinstance(cause, ImageRejected) else ImageRejected("error", str(value.value))
            refused = rejected.reason.startswith("refused/")
            self._inc(f"thumbnails/{rejected.reason}" if refused else f"qq/{stats}/failed/{rejected.reason}")
            logger.warning(
                "Image not downloaded (%s: %s): %s referred in %s; the %s of %s keeps its remote URL",
                rejected.reason, rejected.detail, url, item.source_url, role, item.id,
            )  # fmt: skip
        return item

    def _drop_other_formats(self, path: str, stem: str) -> None:
        """Remove an older copy under another extension (the image changed format on the host),
        which would otherwise be found first on the next run."""
        for extension in EXTENSIONS.values():
            if f"{stem}.{extension}" != path:
                (self.root / f"{stem}.{extension}").unlink(missing_ok=True)

    def _own_copy(self, path: str, stem: str, info: MediaPipeline.SpiderInfo) -> str:
        """``path``, or a copy named ``stem`` when the image was stored for another article.

        Scrapy fetches a URL once per run and hands its result to every item that asks for it;
        the copy keeps every article's images under its own id (and found on the next run).
        """
        if path.rsplit(".", 1)[0] == stem:
            return path
        own = f"{stem}.{path.rsplit('.', 1)[1]}"
        try:
            data = (self.root / path).read_bytes()
            self.store.persist_file(own, BytesIO(data), info)
        except OSError as exc:
            logger.warning("Could not copy %s to %s (%s); linking the shared file", path, own, exc)
            return path
        return own
