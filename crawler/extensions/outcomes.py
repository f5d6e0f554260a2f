"""What a fetch found instead of an article (deleted, paid, a skipped video, dropped), sent by the
spider as the signal ``article_outcome`` and recorded in the article store; ``DELETED_FILES`` applied
to a deleted article's file. Docs: docs/updates.md ("How outcomes are recorded").
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

import tomli_w
import yaml
from scrapy.crawler import Crawler

from crawler.config import config_of
from crawler.extensions.output import output_lost
from crawler.files import Change, file_changed, inside, output_root, write_atomic
from crawler.paths import Layout, image_patterns
from crawler.render.frontmatter import FENCES, fenced
from crawler.render.profiles import Profile, profile_from_settings
from crawler.stats import (
    OUTCOMES_DELETED_DRAFTED,
    OUTCOMES_DELETED_KEPT,
    OUTCOMES_DELETED_REMOVED,
    OUTCOMES_ERRORS,
    OUTCOMES_OUTPUT_LOST,
    OUTCOMES_STATE,
    inc,
)
from crawler.store.base import DELETED, DROPPED, PAID, STATES, VIDEO, Record, StoreError, now
from crawler.store.extension import store_of

logger = logging.getLogger(__name__)

# The signal the spider sends: ``crawler.signals.send_catch_log(article_outcome, outcome=...)``.
article_outcome = object()

__all__ = ["DELETED", "DROPPED", "PAID", "VIDEO", "Outcome", "OutcomeRecorder", "article_outcome", "send_outcome"]


@dataclass(frozen=True)
class Outcome:
    id: str  # canonical article id
    state: str  # deleted, paid, video or dropped
    reason: str = ""  # for dropped: the spider's qq/dropped/<reason>


def send_outcome(crawler: Crawler, outcome: Outcome) -> None:
    """Tell the recorder what a fetch found (the spider's side of the signal)."""
    crawler.signals.send_catch_log(article_outcome, outcome=outcome)


def draft_text(text: str, profile: Profile) -> str | None:
    """The file's text with the profile's draft keys first in its front matter; None when it has
    them already (or has no front matter we know)."""
    parts = fenced(text)
    if parts is None or not profile.draft:
        return None
    fence, front, _ = parts
    lines = tomli_w.dumps(profile.draft) if FENCES[fence] == "toml" else yaml.safe_dump(profile.draft, sort_keys=False)
    if all(line in front.splitlines() for line in lines.splitlines()):
        return None
    return f"{fence}\n{lines}{text[4:]}"


class OutcomeRecorder:
    LOCK_KEY = "write"  # the plan pipeline's (crawler.pipelines.plan.PlanPipeline.LOCK_KEY)

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.mode = config_of(crawler).deleted_files
        self.root = output_root(crawler.settings)
        self.profile = profile_from_settings(crawler.settings)
        self.layout = Layout.from_settings(crawler.settings, self.profile)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> OutcomeRecorder:
        recorder = cls(crawler)
        crawler.signals.connect(recorder.record, signal=article_outcome)
        return recorder

    def record(self, outcome: Outcome) -> None:
        assert outcome.state in STATES, outcome
        extension = store_of(self.crawler)
        try:
            with extension.store.lock(self.LOCK_KEY):
                old = extension.store.get(outcome.id)
                record = self._next(old, outcome)
                extension.store.put(record)
            inc(self.crawler, OUTCOMES_STATE, state=record.state)
            if old is not None and old.written and outcome.state == DELETED and old.path:
                self._deleted(old)
        except (StoreError, OSError, ValueError) as exc:
            if output_lost(self.crawler, exc):  # closes the crawl, said in one line there
                inc(self.crawler, OUTCOMES_OUTPUT_LOST)
                return
            inc(self.crawler, OUTCOMES_ERRORS)
            logger.error("Could not record that %s is %s: %s", outcome.id, outcome.state, exc)
        finally:
            extension.release(outcome.id)

    @staticmethod
    def _next(old: Record | None, outcome: Outcome) -> Record:
        if old is None:
            return Record(outcome.id, state=outcome.state, reason=outcome.reason, seen=now())
        if old.written and outcome.state != DELETED:
            logger.info("Article %s is %s on its page now; its file is kept", outcome.id, outcome.reason or outcome.state)
            return replace(old, seen=now())
        return replace(old, state=outcome.state, reason=outcome.reason, seen=now())

    def _changed(self, change: Change) -> None:
        self.crawler.signals.send_catch_log(file_changed, change=change)

    def _deleted(self, record: Record) -> None:
        target = inside(self.root, record.path)
        if self.mode == "keep" or not target.exists():
            inc(self.crawler, OUTCOMES_DELETED_KEPT)
            logger.warning("Deleted article %s: its file %s is kept (DELETED_FILES = keep)", record.id, record.path)
        elif self.mode == "draft":
            text = draft_text(target.read_text(encoding="utf-8"), self.profile)
            if text is not None:
                write_atomic(target, text)
                self._changed(Change("drafted", record.id, record.path))
            inc(self.crawler, OUTCOMES_DELETED_DRAFTED)
            logger.warning("Deleted article %s: %s marked as a draft (DELETED_FILES = draft)", record.id, record.path)
        else:
            removed = [record.path]
            target.unlink()
            for pattern in image_patterns(record.id, record.path, self.layout):
                for image in sorted(self.root.glob(pattern)):
                    image.unlink()
                    removed.append(image.relative_to(self.root).as_posix())
            if self.layout.bundle_images is not None:
                try:
                    target.parent.rmdir()  # the bundle's folder, when nothing else is left in it
                except OSError:
                    pass
            self._changed(Change("removed", record.id, record.path, tuple(removed[1:])))
            inc(self.crawler, OUTCOMES_DELETED_REMOVED)
            logger.warning("Deleted article %s: removed %s (DELETED_FILES = remove)", record.id, ", ".join(removed))
