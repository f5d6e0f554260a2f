"""Writing: one Markdown file per article under ``OUTPUT_ROOT``, atomically.

The path comes from the ``OUTPUT_PROFILE`` (see ``crawler.render.profiles``; the hugo default is
``content/posts/{date}-{slug}.md``) or an explicit ``OUTPUT_PATH``; the slug is
python-slugify's transliteration of the title, or the article id when that is empty. A path that
would leave the output root is refused. A file that already holds a *different* article (its link
back names another id) is never overwritten: the new one gets ``-<id>`` appended to its slug (so a
bundle's directory is renamed, not its ``index.md``). The
same article crawled again rewrites its own file.

The file is written to a temporary file in the target directory and renamed over the target, so
a crash leaves either the old file or the new one, never a partial one.

The output root is checked when the spider opens, before any request: it must already exist and
be a writable directory (it is never created, so a mistyped path or a relative ``output`` under a
Scrapyd whose working directory is unknown stops the crawl instead of writing somewhere else).
If it is not, the crawl closes at once with the reason ``bad_output_root``.

Every file written is recorded in the article store (``crawler.store``: id -> path, content
fingerprint) only after it is in place, all under the store's lock so that parallel crawls agree:
an article already recorded rewrites its recorded file (even when its title, hence its slug, has
changed); an article whose content is already recorded under another id is a duplicate and gets no
file. A crash between the rename and the record leaves a file without a record: the next crawl
finds the file at its path, sees it holds the same article, and rewrites it (no second file).
The store is opened when the spider opens, after the root check; a store that cannot be used
(corrupt, unreadable) closes the crawl at once with the reason ``bad_store`` and an error naming
the file and how to rebuild it; it is never replaced by an empty one (which would rewrite all).
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
from pathlib import Path
from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import CloseSpider, DropItem
from slugify import slugify

from crawler.items import Article
from crawler.render import RenderOptions, render_article
from crawler.render.profiles import profile_from_settings
from crawler.store import ArticleStore, Record, StoreError, content_fingerprint, open_store
from crawler.store.base import split_markdown

logger = logging.getLogger(__name__)


# Between Latin letters or digits and Chinese characters: a word boundary for the slug, which
# transliteration would otherwise glue together ("DeepSeek点燃" -> "deepseekdian-ran").
_SCRIPT_BOUNDARY_RE = re.compile(r"(?<=[A-Za-z0-9])(?=[^\x00-\x7f])|(?<=[^\x00-\x7f])(?=[A-Za-z0-9])")


def article_slug(title: str, max_length: int = 80) -> str:
    """python-slugify's transliteration of the title, words separated at script changes too."""
    return slugify(_SCRIPT_BOUNDARY_RE.sub(" ", title), max_length=max_length, word_boundary=True)


def article_path(article: Article, template: str, slug_max_length: int = 80, suffix: str = "") -> str:
    """The file path of an article relative to the output root (pure); ``suffix`` ends the slug."""
    slug = (article_slug(article.title, slug_max_length) or article.id.lower()) + suffix
    published = article.published
    return template.format(
        date=published.strftime("%Y-%m-%d"),
        year=published.strftime("%Y"),
        month=published.strftime("%m"),
        day=published.strftime("%d"),
        slug=slug,
        id=article.id,
    )


def inside(root: Path, relative: str) -> Path:
    """``root / relative`` resolved, or ValueError if it leaves ``root``."""
    target = (root / relative).resolve()
    if not target.is_relative_to(root.resolve()) or target == root.resolve():
        raise ValueError(f"path {relative!r} leaves the output root {root}")
    return target


def _file_mode() -> int:
    """The mode ``open()`` gives a new file: 0o666 less the process umask (read once; mkstemp
    makes 0o600 files, which a site's web server, another user, could not read)."""
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


def root_problem(root: Path) -> str | None:
    """Why ``root`` cannot take the crawl's files, or None when it is a writable directory."""
    if not root.exists():
        return "does not exist"
    if not root.is_dir():
        return "is not a directory"
    try:
        # Creating a file the way write_atomic does is the only reliable test (os.access misses
        # read-only mounts, ACLs and root's privileges).
        with tempfile.NamedTemporaryFile(dir=root, prefix=".write-check-"):
            pass
    except OSError as exc:
        return f"is not writable ({exc.strerror or exc})"
    return None


class WritePipeline:
    """Renders each Article and writes it under the output root.

    Settings: ``OUTPUT_ROOT`` (default ``output``), ``OUTPUT_PROFILE``, ``OUTPUT_PATH``,
    ``OUTPUT_SLUG_MAX_LENGTH`` and the ``MARKDOWN_*`` rendering settings. Sets ``item.output_path``
    (relative to the root).
    Stats: ``qq/written`` (every file written), ``qq/rewritten`` (of those, replacing an earlier
    version of the same article), ``qq/renamed`` (a different article had the name),
    ``qq/duplicate`` (the same content is already written under another id: no file),
    ``qq/dropped/bad_path``, ``qq/bad_output_root`` and ``qq/bad_store`` (the crawl closed at
    start: see above), ``qq/dropped/store`` (the store failed, e.g. its lock timed out; the article
    is not recorded, so the next run fetches it again). The store comes from the ``STORE_*``
    settings (see ``crawler.store``).
    """

    # One lock for every write: the path check, the file and the record of two crawls must not
    # interleave, whether they write the same id, the same content, or two articles whose slugs
    # collide. A write takes milliseconds, so one lock costs nothing measurable.
    LOCK_KEY = "write"

    def __init__(self, crawler: Crawler) -> None:
        settings = crawler.settings
        self.crawler = crawler
        self.root = Path(settings.get("OUTPUT_ROOT", "output")).expanduser()
        self.template = profile_from_settings(settings).path
        self.slug_max_length = settings.getint("OUTPUT_SLUG_MAX_LENGTH", 80)
        self.options = RenderOptions.from_settings(settings)
        self.store: ArticleStore | None = None  # opened in open_spider, once the root is known good

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> WritePipeline:
        return cls(crawler)

    async def open_spider(self) -> None:
        # async: Scrapy opens pipelines together (asyncio.gather); raising CloseSpider from a plain
        # method would leave the other pipelines' open coroutines created but never awaited.
        problem = root_problem(self.root)
        if problem is not None:
            self._inc("qq/bad_output_root")
            where = str(self.root) if self.root.is_absolute() else f"{self.root} (in {Path.cwd()})"
            logger.error(
                "OUTPUT_ROOT %s %s: nothing crawled. Create it, or set OUTPUT_ROOT (-s, or Scrapyd's "
                "-d setting=OUTPUT_ROOT=...) or the environment's QQ_OUTPUT_ROOT to an absolute path.",
                where, problem,
            )  # fmt: skip
            raise CloseSpider("bad_output_root")
        try:
            self.store = open_store(self.crawler.settings)
        except StoreError as exc:
            # Refuse to crawl: a fresh store would fetch and rewrite every article as new.
            self._inc("qq/bad_store")
            logger.error("%s: nothing crawled", exc)
            raise CloseSpider("bad_store") from exc
        logger.info("Writing under %s", self.root.absolute())

    def close_spider(self) -> None:
        if self.store is not None:
            self.store.close()

    def _inc(self, key: str) -> None:
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(key)

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, Article):
            return item
        text = render_article(item, self.options)
        fingerprint = content_fingerprint(item.title, split_markdown(text)[1])
        assert self.store is not None, "open_spider opens the store"
        try:
            with self.store.lock(self.LOCK_KEY):
                return self._write(item, text, fingerprint)
        except StoreError as exc:
            # Not recorded, so the next run fetches it again: nothing is lost.
            self._inc("qq/dropped/store")
            logger.error("Dropped %s (%s): %s", item.id, item.source_url, exc)
            raise DropItem(f"store: {exc}") from exc

    def _write(self, item: Article, text: str, fingerprint: str) -> Article:
        assert self.store is not None
        record = self.store.get(item.id)
        if record is None:
            duplicate = self.store.find_fingerprint(fingerprint)
            # A duplicate whose file was removed by hand is no reason to lose the content.
            if duplicate is not None and duplicate.id != item.id and (self.root / duplicate.path).exists():
                self._inc("qq/duplicate")
                logger.info(
                    "Duplicate %s (%s): same content as %s in %s", item.id, item.source_url, duplicate.id, duplicate.path
                )
                raise DropItem(f"duplicate of {duplicate.id} ({duplicate.path})", log_level="INFO")
        relative = record.path if record else article_path(item, self.template, self.slug_max_length)
        try:
            target = inside(self.root, relative)
            if record is None and target.exists() and not self._same_article(target, item):
                taken = relative
                relative = article_path(item, self.template, self.slug_max_length, f"-{item.id.lower()}")
                target = inside(self.root, relative)
                self._inc("qq/renamed")
                logger.info("%s is another article's file; writing %s to %s", taken, item.id, relative)
        except ValueError as exc:
            self._inc("qq/dropped/bad_path")
            logger.error("Dropped %s (%s): %s", item.id, item.source_url, exc)
            raise DropItem(f"bad_path: {exc}") from exc
        existed = target.exists()
        write_atomic(target, text)
        self.store.put(Record(item.id, Path(relative).as_posix(), fingerprint))
        item.output_path = relative
        self._inc("qq/written")
        if existed:
            self._inc("qq/rewritten")
        logger.info("Wrote %s (%s) to %s", item.id, item.title, target)
        return item

    def _same_article(self, target: Path, article: Article) -> bool:
        try:
            return f"({article.url})" in target.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return False
