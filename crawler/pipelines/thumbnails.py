"""Thumbnails (and, optionally, body images): downloaded through Scrapy's ``FilesPipeline`` to the
paths planned for the article, their bytes checked by Pillow and kept as they are. What is fetched,
where it goes and why an image is refused: docs/profiles.md ("How images are fetched").
"""

from __future__ import annotations

import errno
import hashlib
import logging
import os
import time
import warnings
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
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
    DropItem,
    IgnoreRequest,
    NotConfigured,
    ResponseDataLossError,
)
from scrapy.http import Response
from scrapy.http.request import NO_CALLBACK
from scrapy.pipelines.files import FilesPipeline, FilesStoreProtocol, FSFilesStore
from scrapy.pipelines.media import FileException, FileInfo, FileInfoOrError, MediaPipeline
from scrapy.utils.asyncio import run_in_thread
from scrapy.utils.defer import ensure_awaitable
from twisted.internet.defer import CancelledError
from twisted.internet.error import TimeoutError as TwistedTimeoutError
from twisted.python.failure import Failure

from crawler.extensions.output import output_lost
from crawler.faults import DownloadStopped, too_big
from crawler.files import output_root, write_atomic
from crawler.items import Article, ImagePath
from crawler.middlewares.urlpolicy import UrlRefused
from crawler.stats import (
    THUMBNAILS_BODY_DOWNLOADED,
    THUMBNAILS_BODY_FAILED,
    THUMBNAILS_BODY_UPTODATE,
    THUMBNAILS_DOWNLOADED,
    THUMBNAILS_DROPPED_STOPPED,
    THUMBNAILS_FAILED,
    THUMBNAILS_NONE,
    THUMBNAILS_REFUSED,
    THUMBNAILS_UPTODATE,
    inc,
)
from crawler.urls import Verdict, vet_url

logger = logging.getLogger(__name__)

# Pillow format -> file extension: the formats a web page can show.
EXTENSIONS = {"JPEG": "jpg", "PNG": "png", "GIF": "gif", "WEBP": "webp"}
# An image's role -> what it counts as (downloaded, up to date, failed with a reason).
ROLE_STATS = {
    "thumbnail": (THUMBNAILS_DOWNLOADED, THUMBNAILS_UPTODATE, THUMBNAILS_FAILED),
    "body": (THUMBNAILS_BODY_DOWNLOADED, THUMBNAILS_BODY_UPTODATE, THUMBNAILS_BODY_FAILED),
}
REFUSED = "refused/"  # an ImageRejected reason's start when the URL policy refused it: counted as refused


class ImageRejected(IgnoreRequest):
    """An image that is not kept, with a short ``reason`` (the stats key) and a ``detail``; an
    ``IgnoreRequest``, so ``FilesPipeline`` takes it as an expected outcome, not a crash."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.detail = detail or reason


def image_extension(body: bytes, min_width: int = 0, min_height: int = 0) -> str:
    """The file extension of good image bytes; ``ImageRejected`` for anything else (pure)."""
    kind, size = identify_image(body)
    decode_image(body)
    return kept_extension(kind, size, min_width, min_height)


@contextmanager
def _rejected() -> Iterator[None]:
    """Pillow's errors as rejections with a reason."""
    try:
        yield
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageRejected("bomb", str(exc)) from None
    except UnidentifiedImageError:
        raise ImageRejected("not_image", "not an image") from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        reason = "truncated" if "truncated" in str(exc) or isinstance(exc, EOFError) else "broken"
        raise ImageRejected(reason, f"{type(exc).__name__}: {exc}") from None


def identify_image(body: bytes) -> tuple[str, tuple[int, int]]:
    """Format and size of image bytes, after ``verify()`` and the decompression-bomb guard."""
    if not body:
        raise ImageRejected("empty", "0-byte body")
    try:
        with _rejected(), warnings.catch_warnings():
            # Pillow warns above MAX_IMAGE_PIXELS and refuses above twice that; refuse both. (The
            # warnings filters are process-wide: this runs in the reactor thread, never in a pool.)
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(BytesIO(body)) as image:
                kind, size = image.format, image.size
                image.verify()
    except ImageRejected as rejected:
        if rejected.reason == "not_image":
            rejected.detail = f"not an image: {body[:40]!r}"
        raise
    return kind or "", size


def decode_image(body: bytes) -> None:
    """Decode identified image bytes completely (the expensive part: Pillow releases the GIL)."""
    with _rejected(), Image.open(BytesIO(body)) as image:
        # verify() does not decode; a truncated JPEG only fails here. A JPEG is decoded at its
        # smallest DCT scale (draft): every byte is still read, at 1/64 of the pixels.
        image.draft(image.mode, (1, 1))
        image.load()


def kept_extension(kind: str, size: tuple[int, int], min_width: int = 0, min_height: int = 0) -> str:
    extension = EXTENSIONS.get(kind)
    if extension is None:
        raise ImageRejected("unsupported", f"format {kind}")
    width, height = size
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
        return ImageRejected(f"{REFUSED}{value.reason}", str(value))
    detail = f"{type(value).__name__}: {value}"
    if isinstance(value, DownloadTimeoutError | TwistedTimeoutError):
        return ImageRejected("timeout", detail)
    if isinstance(value, DownloadCancelledError | CancelledError) and "max size" in str(value):
        return ImageRejected("too_large", detail)
    if isinstance(value, DownloadStopped):  # cancelled by a stop: the article is not written
        return ImageRejected("stopped", detail)
    if too_big(value):
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
        if not Path(self.basedir).is_dir():  # the output root is gone: never made again here
            raise FileNotFoundError(errno.ENOENT, "the output root is gone", self.basedir)
        write_atomic(self._get_filesystem_path(path), buf.getvalue())


class RecentResults(dict):  # type: ignore[type-arg]
    """FilesPipeline's per-URL result cache (``SpiderInfo.downloaded``), keeping the last ``size`` only."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size

    def __setitem__(self, key: Any, value: Any) -> None:
        super().__setitem__(key, value)
        if len(self) > self.size:
            del self[next(iter(self))]  # the oldest: dicts keep insertion order


class ThumbnailsPipeline(FilesPipeline):
    """Downloads each Article's thumbnail (and body images) and records their local site paths."""

    MEDIA_NAME = "image"
    RESULTS_KEPT = 1000
    STORE_SCHEMES: ClassVar[dict[str, type[FilesStoreProtocol]]] = {
        **FilesPipeline.STORE_SCHEMES,
        "": AtomicFSFilesStore,
        "file": AtomicFSFilesStore,
    }

    def __init__(self, store_uri: str, *, crawler: Crawler) -> None:
        super().__init__(store_uri, crawler=crawler)
        settings = crawler.settings
        self.root = Path(store_uri)
        self.body_images = settings.getbool("THUMBNAILS_BODY_IMAGES")
        self.maxsize = settings.getint("THUMBNAILS_MAXSIZE")
        self.min_width = settings.getint("THUMBNAILS_MIN_WIDTH")
        self.min_height = settings.getint("THUMBNAILS_MIN_HEIGHT")
        self.slot = settings["THUMBNAILS_DOWNLOAD_SLOT"]

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ThumbnailsPipeline:
        settings = crawler.settings
        if not settings.getbool("THUMBNAILS_ENABLED"):
            raise NotConfigured("THUMBNAILS_ENABLED is off")
        # Files are stored at the paths planned for each article (crawler.paths), under the root.
        return cls(str(output_root(settings).resolve()), crawler=crawler)

    def open_spider(self) -> None:
        super().open_spider()
        self.spiderinfo.downloaded = RecentResults(self.RESULTS_KEPT)

    def _request(self, url: str, article: Article, role: str, image: ImagePath) -> Request:
        meta = {
            "qq_image_role": role,
            "qq_image_stem": image.file,
            "download_slot": self.slot,
            "download_maxsize": self.maxsize,
            "urlpolicy": True,  # page-derived: an unresolvable host is refused (crawler.middlewares.urlpolicy)
        }
        return Request(url, callback=NO_CALLBACK, headers={"Referer": article.source_url}, meta=meta)

    def _candidates(self, article: Article) -> list[tuple[str, str, ImagePath, Verdict]]:
        """(URL as the page gave it, role, planned path, the URL policy's verdict), thumbnail first."""
        paths = article.paths
        assert paths is not None, "the plan pipeline plans every article's paths"
        candidates = []
        if article.thumbnail:
            candidates.append(
                (article.thumbnail, "thumbnail", paths.thumbnail, vet_url(article.thumbnail, article.source_url))
            )
        if self.body_images:
            for url, image in zip(dict.fromkeys(article.images), paths.body, strict=True):
                if url != article.thumbnail:
                    candidates.append((url, "body", image, vet_url(url, article.source_url)))
        return candidates

    def wanted(self, article: Article) -> list[tuple[str, str, ImagePath]]:
        """(URL, role, planned path) of every image to fetch for the article, thumbnail first; URLs
        the URL policy refuses are left out (``get_media_requests`` logs and counts them)."""
        return [(url, role, image) for url, role, image, verdict in self._candidates(article) if verdict.ok]

    # -- FilesPipeline's overridable interface -------------------------------------------------

    def get_media_requests(self, item: Any, info: MediaPipeline.SpiderInfo) -> list[Request]:
        if not isinstance(item, Article):
            return []
        requests = []
        for url, role, image, verdict in self._candidates(item):
            if verdict.ok:
                requests.append(self._request(verdict.url, item, role, image))
                continue
            inc(self.crawler, THUMBNAILS_REFUSED, why=verdict.reason)
            logger.warning(
                "Image refused (%s): %r in %s; the %s of %s gets no local copy",
                verdict.reason, url[:200], item.source_url, role, item.id,
            )  # fmt: skip
        return requests

    async def media_to_download(
        self, request: Request, info: MediaPipeline.SpiderInfo, *, item: Any = None
    ) -> FileInfo | None:
        stem = request.meta["qq_image_stem"]
        for path in self._formats(stem):
            stat = await ensure_awaitable(self.store.stat_file(path, info))
            modified = stat.get("last_modified") if stat else None
            if modified and (time.time() - modified) / 86400 <= self.expires:
                self.inc_stats("uptodate")
                return {"url": request.url, "path": path, "checksum": stat.get("checksum"), "status": "uptodate"}
        return None

    @staticmethod
    def _formats(stem: str) -> list[str]:
        """The paths of ``stem`` in every stored format, in ``EXTENSIONS`` order."""
        return [f"{stem}.{extension}" for extension in EXTENSIONS.values()]

    async def media_downloaded(
        self, response: Response, request: Request, info: MediaPipeline.SpiderInfo, *, item: Any = None
    ) -> FileInfo:
        if response.status != 200:
            raise ImageRejected(f"http_{response.status}", f"HTTP {response.status}")
        small = request.meta["qq_image_role"] == "body"
        kind, size = identify_image(response.body)
        # The full decode, and the output root's check, run in a thread: the reactor goes on meanwhile.
        writable = await run_in_thread(self._decode, response.body)
        request.meta["qq_image_ext"] = kept_extension(kind, size, self.min_width if small else 0, self.min_height if small else 0)
        # FilesPipeline logs a failed store with its traceback: an output root lost (read-only,
        # removed) is found here first, and ends the crawl in one line (crawler.extensions.output).
        if not writable:
            error = OSError(errno.EROFS if self.root.is_dir() else errno.ENOENT, "the output root cannot be written", str(self.root))
            if output_lost(self.crawler, error):
                raise ImageRejected("store", str(error))
        return await super().media_downloaded(response, request, info, item=item)

    def _decode(self, body: bytes) -> bool:
        """``decode_image(body)``, then whether the output root can still be written: in a thread."""
        decode_image(body)
        return os.access(self.root, os.W_OK)

    async def file_downloaded(
        self, response: Response, request: Request, info: MediaPipeline.SpiderInfo, *, item: Any = None
    ) -> str:
        if not isinstance(self.store, AtomicFSFilesStore):
            return await super().file_downloaded(response, request, info, item=item)  # type: ignore[misc]
        # FilesPipeline's own steps (path, MD5 checksum, persist_file), with the checksum and the
        # atomic write (tempfile, write, rename) in a thread: the reactor goes on meanwhile.
        path = self.file_path(request, response=response, info=info, item=item)
        return await run_in_thread(self._persist, path, response.body, info, request.meta["qq_image_stem"])

    def _persist(self, path: str, body: bytes, info: MediaPipeline.SpiderInfo, stem: str) -> str:
        """The file's MD5 checksum (hashlib releases the GIL), the atomic write, then the stem's
        copies in other formats removed: in a thread."""
        checksum = hashlib.md5(body, usedforsecurity=False).hexdigest()
        self.store.persist_file(path, BytesIO(body), info)
        self._drop_other_formats(path, stem)
        return checksum

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
            inc(self.crawler, THUMBNAILS_NONE)
        stopped = False
        # Results come in the order of the requests (MediaPipeline gathers them in order).
        for (url, role, image), (ok, value) in zip(self.wanted(item), results, strict=True):
            downloaded, uptodate, failed = ROLE_STATS[role]
            if ok:
                assert isinstance(value, dict)
                try:
                    path = self._own_copy(value["path"], image.file, info)
                except OSError as exc:
                    ok, value = False, Failure(ImageRejected("store", f"copy of {value['path']}: {exc}"))
            if ok:
                assert isinstance(value, dict)
                # A file downloaded for this article had its other formats removed when stored
                # (_persist); a copy of one stored for another article has them removed here.
                if value["status"] != "uptodate" and path != value["path"]:
                    self._drop_other_formats(path, image.file)
                link = f"{image.link}.{path.rsplit('.', 1)[1]}"  # the planned link, the stored extension
                item.image_files.append(path)
                if role == "thumbnail":
                    item.thumbnail_path = link
                if self.body_images and url in item.images:
                    item.image_paths[url] = link
                inc(self.crawler, uptodate if value["status"] == "uptodate" else downloaded)
                continue
            assert isinstance(value, Failure)
            cause = value.value if isinstance(value.value, ImageRejected) else value.value.__cause__
            rejected = cause if isinstance(cause, ImageRejected) else ImageRejected("error", str(value.value))
            refused = rejected.reason.startswith(REFUSED)
            if refused:
                inc(self.crawler, THUMBNAILS_REFUSED, why=rejected.reason.removeprefix(REFUSED))
            else:
                inc(self.crawler, failed, reason=rejected.reason)
            if rejected.reason == "stopped":
                stopped = True
                continue
            logger.warning(
                "Image not downloaded (%s: %s): %s referred in %s; the %s of %s keeps its remote URL",
                rejected.reason, rejected.detail, url, item.source_url, role, item.id,
            )  # fmt: skip
        if stopped:
            # Written without it, the article would keep the remote URL for good: the next run writes it whole.
            inc(self.crawler, THUMBNAILS_DROPPED_STOPPED)
            logger.info("Not written, the crawl is stopping: %s (%s), its images were cancelled", item.id, item.source_url)
            raise DropItem("stopped: its images were cancelled", log_level="DEBUG")
        return item

    def _drop_other_formats(self, path: str, stem: str) -> None:
        """Remove an older copy under another extension (the image changed format on the host),
        which would otherwise be found first on the next run."""
        for other in self._formats(stem):
            if other != path:
                (self.root / other).unlink(missing_ok=True)

    def _own_copy(self, path: str, stem: str, info: MediaPipeline.SpiderInfo) -> str:
        """``path``, or a copy named ``stem`` when the image was stored for another article (Scrapy
        fetches a URL once per run and hands its result to every item that asks for it)."""
        if path.rsplit(".", 1)[0] == stem:
            return path
        own = f"{stem}.{path.rsplit('.', 1)[1]}"
        self.store.persist_file(own, BytesIO((self.root / path).read_bytes()), info)
        return own
