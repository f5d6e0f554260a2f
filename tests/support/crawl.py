"""The real ``scrapy crawl qq`` in a subprocess against the local mirror, and what it left behind.

Every crawl writes its final stats to a JSON file (``STATS_FILE``, ``crawler.extensions``); tests
read facts from there (``stat()``: a stat that was never set is a KeyError, not a silent 0).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crawler.ledger import Ledger
from tests.mirror.handler import mirror_settings

ROOT = Path(__file__).resolve().parents[2]
# Fast crawls of the mirror: no politeness delays.
FAST = ["-s", "AUTOTHROTTLE_ENABLED=False", "-s", "DOWNLOAD_DELAY=0"]


@dataclass
class Crawl:
    """A finished crawl: its exit code, its log (stderr) and its final stats."""

    returncode: int
    log: str
    stats: dict[str, Any]

    @property
    def stderr(self) -> str:
        return self.log


class Running:
    """A crawl subprocess still running."""

    def __init__(self, command: list[str], env: dict[str, str] | None = None) -> None:
        handle, name = tempfile.mkstemp(prefix="qq-stats-", suffix=".json")
        os.close(handle)
        self.stats_file = Path(name)
        self.process = subprocess.Popen(
            [*command, "-s", f"STATS_FILE={self.stats_file}"], cwd=ROOT, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE, text=True, env={**os.environ, **(env or {})},
        )  # fmt: skip

    def finish(self, timeout: float = 300) -> Crawl:
        try:
            _, log = self.process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            _, log = self.process.communicate()
            raise AssertionError(f"crawl still running after {timeout} s:\n{log[-3000:]}") from None
        text = self.stats_file.read_text(encoding="utf-8")
        self.stats_file.unlink(missing_ok=True)
        result = Crawl(self.process.returncode, log, json.loads(text) if text else {})
        if not any(arg.startswith("REDIS_URL=redis") for arg in self.process.args):  # type: ignore[union-attr]
            assert_ledger_adds_up(result)
        return result


def assert_ledger_adds_up(result: Crawl) -> None:
    """Every crawl the suite runs to its end on one machine accounts for every article it was asked
    for: exactly one outcome each (crawler.ledger; distributed crawls share their work)."""
    if result.stats.get("finish_reason") != "finished":
        return
    book = Ledger.of(result.stats)
    assert book.open == 0, f"the ledger does not add up: {book}\n{result.log[-3000:]}"


def command(mirror_url: str, output: Path, *args: str, fast: bool = True) -> list[str]:
    """``scrapy crawl qq`` into ``output`` through the mirror, with ``args`` (``-a``/``-s`` pairs)."""
    return [
        sys.executable, "-m", "scrapy", "crawl", "qq", *mirror_settings(mirror_url),
        "-s", f"OUTPUT_ROOT={output}", *(FAST if fast else []), *args,
    ]  # fmt: skip


def start(mirror_url: str, output: Path, *args: str, fast: bool = True) -> Running:
    """Start a crawl into ``output`` (made first: the crawl refuses a missing root)."""
    output.mkdir(parents=True, exist_ok=True)
    return Running(command(mirror_url, output, *args, fast=fast))


def crawl(mirror_url: str, output: Path, *args: str, timeout: float = 300) -> Crawl:
    """Run a crawl into ``output`` to its end."""
    return start(mirror_url, output, *args).finish(timeout)


def stat(result: Crawl, key: str) -> Any:
    """One stat of a finished crawl; KeyError (naming it) when the crawl never set it."""
    if key not in result.stats:
        raise KeyError(f"the crawl set no stat {key!r}; it set {sorted(result.stats)}")
    return result.stats[key]


def by_id(output: Path) -> dict[str, Path]:
    """The Markdown files under ``output`` by the article id their link back names."""
    files = {}
    for path in output.rglob("*.md"):
        ident = re.search(r"\[qq\]\(https://new\.qq\.com/rain/a/(\w+)\)\n\Z", path.read_text(encoding="utf-8"))
        assert ident, path
        assert ident.group(1) not in files, f"{ident.group(1)} twice: {files.get(ident.group(1))} and {path}"
        files[ident.group(1)] = path
    return files
