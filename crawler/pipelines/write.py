"""Writing: the Markdown file of each article, rendered for the profile, at the path planned for it,
atomically (``crawler.files.write_atomic``), announced with ``file_changed``. Docs: docs/profiles.md
("Writing").
"""

from __future__ import annotations

import errno
import logging
from pathlib import Path
from typing import Any

from scrapy.crawler import Crawler
from scrapy.utils.asyncio import run_in_thread

from crawler import ledger
from crawler.extensions.output import output_lost
from crawler.files import Change, file_changed, inside, output_root, write_atomic
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


class WritePipeline:
    """Renders each Article and writes it to ``paths.markdown`` under the output root."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.root = output_root(crawler.settings)
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
