"""Writing: the Markdown file of each article, at the path planned for it, atomically.

The path comes from ``Article.paths`` (``crawler.pipelines.plan`` plans it; nothing here decides
where a file goes). The article is rendered for the ``OUTPUT_PROFILE`` (``crawler.render``) and
written to a temporary file in the target directory, then renamed over the target, so a crash
leaves either the old file or the new one, never a partial one. A file whose bytes would not change
is not touched (its mtime stays). A path that resolves outside the output root (a symlink on the
way) is refused. The file work (compare, write, ``fsync``, rename) runs in a thread
(``scrapy.utils.asyncio.run_in_thread``), so the reactor does not wait for the disk.

When the file cannot be written, the article is dropped and the images stored for it this run are
removed, unless an earlier version of the article is on disk and links them. When the output
root itself is lost (read-only, removed), the crawl closes (``crawler.extensions.output``) and the
article is dropped quietly (``write/dropped/output_lost``).

Each file written is announced with the signal ``file_changed`` (a ``Change``; unchanged files are
not), which ``crawler.extensions.sitehook`` collects to tell the site what changed.

Settings: ``OUTPUT_ROOT`` and the rendering settings (``OUTPUT_PROFILE``, ``MARKDOWN_*``,
``THUMBNAILS_FRONT_MATTER``, ``THUMBNAILS_BODY_IMAGES``). Stats: ``write/written`` (every file
written), ``write/rewritten`` (of those, replacing an earlier version), ``write/unchanged``,
``write/dropped/bad_path``, ``write/dropped/error``, ``write/dropped/output_lost``.
"""

from __future__ import annotations

import errno
import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scrapy.crawler import Crawler
from scrapy.utils.asyncio import run_in_thread

from crawler import ledger
from crawler.items import Article
from crawler.ledger import Dropped
from crawler.render import RenderOptions, render_article
from crawler.stats import (
    WRITE_DROPPED,
    WRITE_REWRITTEN,
    WRITE_UNCHANGED,
    WRITE_WRITTEN,
    inc,
)

logger = logging.getLogger(__name__)

WRITTEN, REWRITTEN, UNCHANGED = "written", "rewritten", "unchanged"

# Sent (``send_catch_log(file_changed, change=...)``) for each file this crawl wrote, rewrote,
# drafted or removed: by the writer and by ``crawler.store.outcomes`` (deleted articles).
file_changed = object()


@dataclass(frozen=True)
class Change:
    kind: str  # "new", "changed" (rewritten), "drafted" or "removed"
    id: str  # the article id
    path: str  # its Markdown file, relative to the output root
    images: tuple[str, ...] = ()  # its image files (stored, or removed), relative to the output root


def inside(root: Path, relative: str) -> Path:
    """``root / relative`` resolved, or ValueError if it leaves ``root``."""
    target = (root / relative).resolve()
    if not target.is_relative_to(root.resolve()) or target == root.resolve():
        raise ValueError(f"path {relative!r} leaves the output root {root}")
    return target


def _file_mode() -> int:
    """The mode ``open()`` gives a new file: 0o666 less the process umask (read once, as os.umask
    can only be read by setting it; mkstemp makes 0o600 files, which a site's web server, another
    user, could not read)."""
    global _FILE_MODE
    if _FILE_MODE is None:
        umask = os.umask(0o022)
        os.umask(umask)
        _FILE_MODE = 0o666 & ~umask
    return _FILE_MODE


_FILE_MODE: int | None = None


def write_atomic(target: Path, data: str | bytes) -> None:
    """Write ``data`` (text as UTF-8) to ``target`` through a temporary file and a rename; the
    file's mode follows the umask like any file the user writes."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        os.fchmod(handle, _file_mode())
        with os.fdopen(handle, "wb") as stream:
            stream.write(data.encode("utf-8") if isinstance(data, str) else data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


class WritePipeline:
    """Renders each Article and writes it to ``paths.markdown`` under the output root."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.root = Path(crawler.settings["OUTPUT_ROOT"]).expanduser()
        self.options = RenderOptions.from_settings(crawler.settings)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> WritePipeline:
        return cls(crawler)

    async def process_item(self, item: Any) -> Any:
        if not isinstance(item, Article):
            return item
        assert item.paths is not None, "the plan pipeline plans every article's paths"
        data = render_article(item, self.options).encode("utf-8")
        # The file work (compare, write, fsync, rename) runs in a thread: the reactor goes on
        # meanwhile. Stats, logs and drops stay in the reactor thread.
        try:
            outcome, target = await run_in_thread(self.store_file, item.paths.markdown, data)
        except ValueError as exc:
            raise self._drop("bad_path", item, str(exc)) from exc
        except OSError as exc:
            from crawler.extensions.output import output_lost  # noqa: PLC0415 (crawler.extensions imports this module)

            if output_lost(self.crawler, exc):  # closes the crawl, said in one line there
                raise self._drop("output_lost", item, f"{item.paths.markdown}: {exc}", logging.DEBUG) from exc
            raise self._drop("error", item, f"{item.paths.markdown}: {exc}") from exc
        if outcome == UNCHANGED:
            inc(self.crawler, WRITE_UNCHANGED)
            ledger.settle(self.crawler, ledger.UNCHANGED)
            logger.info("Unchanged %s (%s): %s", item.id, item.title, target)
            return item
        inc(self.crawler, WRITE_WRITTEN)
        ledger.settle(self.crawler, ledger.WRITTEN, "rewritten" if outcome == REWRITTEN else "new")
        if outcome == REWRITTEN:
            inc(self.crawler, WRITE_REWRITTEN)
        kind = "changed" if outcome == REWRITTEN else "new"
        change = Change(kind, item.id, item.paths.markdown, tuple(item.image_files))
        self.crawler.signals.send_catch_log(file_changed, change=change)
        logger.info("Wrote %s (%s) to %s", item.id, item.title, target)
        return item

    def store_file(self, relative: str, data: bytes) -> tuple[str, Path]:
        """Write ``data`` to ``relative`` under the root unless the file already holds it: what was
        done (``WRITTEN``, ``REWRITTEN``, ``UNCHANGED``) and the file. ValueError for a path that
        leaves the root, OSError when the file cannot be written (or the root is gone: it is
        never made again here)."""
        if not self.root.is_dir():
            raise FileNotFoundError(errno.ENOENT, "the output root is gone", str(self.root))
        target = inside(self.root, relative)
        existed = target.exists()
        if existed and target.read_bytes() == data:
            return UNCHANGED, target
        write_atomic(target, data)
        return (REWRITTEN if existed else WRITTEN), target

    def _drop(self, reason: str, item: Article, detail: str, level: int = logging.ERROR) -> Dropped:
        inc(self.crawler, WRITE_DROPPED, reason=reason)
        logger.log(level, "Dropped %s (%s): %s", item.id, item.source_url, detail)
        assert item.paths is not None
        if not (self.root / item.paths.markdown).exists():
            for stored in item.image_files:
                (self.root / stored).unlink(missing_ok=True)
        return Dropped(reason, detail)
