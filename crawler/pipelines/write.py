"""Writing: one Markdown file per article under ``OUTPUT_ROOT``, atomically.

The path comes from ``OUTPUT_PATH`` (default ``content/posts/{date}-{slug}.md``); the slug is
python-slugify's transliteration of the title, or the article id when that is empty. A path that
would leave the output root is refused. A file that already holds a *different* article (its link
back names another id) is never overwritten: the new one gets ``-<id>`` appended to its name. The
same article crawled again rewrites its own file.

The file is written to a temporary file in the target directory and renamed over the target, so
a crash leaves either the old file or the new one, never a partial one.

Every file written is recorded in the article store (``crawler.store``: id -> path, content
fingerprint) only after it is in place, all under the store's lock so that parallel crawls agree:
an article already recorded rewrites its recorded file (even when its title, hence its slug, has
changed); an article whose content is already recorded under another id is a duplicate and gets no
file. A crash between the rename and the record leaves a file without a record: the next crawl
finds the file at its path, sees it holds the same article, and rewrites it (no second file).
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
from pathlib import Path
from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from slugify import slugify

from crawler.items import Article
from crawler.render import RenderOptions, render_article
from crawler.store import ArticleStore, Record, StoreError, content_fingerprint, open_store
from crawler.store.base import split_markdown

logger = logging.getLogger(__name__)


# Between Latin letters or digits and Chinese characters: a word boundary for the slug, which
# transliteration would otherwise glue together ("DeepSeek点燃" -> "deepseekdian-ran").
_SCRIPT_BOUNDARY_RE = re.compile(r"(?<=[A-Za-z0-9])(?=[^\x00-\x7f])|(?<=[^\x00-\x7f])(?=[A-Za-z0-9])")


def article_slug(title: str, max_length: int = 80) -> str:
    """python-slugify's transliteration of the title, words separated at script changes too."""
    return slugify(_SCRIPT_BOUNDARY_RE.sub(" ", title), max_length=max_length, word_boundary=True)


def article_path(article: Article, template: str, slug_max_length: int = 80) -> str:
    """The file path of an article relative to the output root (pure)."""
    slug = article_slug(article.title, slug_max_length) or article.id.lower()
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


def write_atomic(target: Path, text: str) -> None:
    """Write ``text`` to ``target`` through a temporary file and a rename."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


class WritePipeline:
    """Renders each Article and writes it under the output root.

    Settings: ``OUTPUT_ROOT`` (default ``output``), ``OUTPUT_PATH``, ``OUTPUT_SLUG_MAX_LENGTH`` and
    the ``MARKDOWN_*`` rendering settings. Sets ``item.output_path`` (relative to the root).
    Stats: ``qq/written`` (every file written), ``qq/rewritten`` (of those, replacing an earlier
    version of the same article), ``qq/renamed`` (a different article had the name),
    ``qq/duplicate`` (the same content is already written under another id: no file),
    ``qq/dropped/bad_path``, ``qq/dropped/store`` (the store failed, e.g. its lock timed out; the
    article is not recorded, so the next run fetches it again). The store comes from ``STORE_*`` settings (see ``crawler.store``).
    """

    # One lock for every write: the path check, the file and the record of two crawls must not
    # interleave, whether they write the same id, the same content, or two articles whose slugs
    # collide. A write takes milliseconds, so one lock costs nothing measurable.
    LOCK_KEY = "write"

    def __init__(self, crawler: Crawler) -> None:
        settings = crawler.settings
        self.crawler = crawler
        self.root = Path(settings.get("OUTPUT_ROOT", "output")).expanduser()
        self.template = settings.get("OUTPUT_PATH", "content/posts/{date}-{slug}.md")
        self.slug_max_length = settings.getint("OUTPUT_SLUG_MAX_LENGTH", 80)
        self.options = RenderOptions.from_settings(settings)
        try:
            self.store: ArticleStore = open_store(settings)
        except StoreError as exc:
            # Refuse to crawl: a fresh store would rewrite every article as new.
            logger.critical("%s", exc)
            raise

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> WritePipeline:
        return cls(crawler)

    def close_spider(self) -> None:
        self.store.close()

    def _inc(self, key: str) -> None:
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(key)

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, Article):
            return item
        text = render_article(item, self.options)
        fingerprint = content_fingerprint(item.title, split_markdown(text)[1])
        try:
            with self.store.lock(self.LOCK_KEY):
                return self._write(item, text, fingerprint)
        except StoreError as exc:
            # Not recorded, so the next run fetches it again: nothing is lost.
            self._inc("qq/dropped/store")
            logger.error("Dropped %s (%s): %s", item.id, item.source_url, exc)
            raise DropItem(f"store: {exc}") from exc

    def _write(self, item: Article, text: str, fingerprint: str) -> Article:
        record = self.store.get(item.id)
        if record is None:
            duplicate = self.store.find_fingerprint(fingerprint)
            # A duplicate whose file was removed by hand is no reason to lose the content.
            if duplicate is not None and duplicate.id != item.id and (self.root / duplicate.path).exists():
                self._inc("qq/duplicate")
                logger.info("Duplicate %s (%s): same content as %s in %s", item.id, item.source_url, duplicate.id, duplicate.path)
                raise DropItem(f"duplicate of {duplicate.id} ({duplicate.path})", log_level="INFO")
        relative = record.path if record else article_path(item, self.template, self.slug_max_length)
        try:
            target = inside(self.root, relative)
            if record is None and target.exists() and not self._same_article(target, item):
                stem = target.stem
                relative = str(Path(relative).with_name(f"{stem}-{item.id.lower()}{target.suffix}"))
                target = inside(self.root, relative)
                self._inc("qq/renamed")
                logger.info("%s is another article's file; writing %s to %s", stem, item.id, relative)
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
