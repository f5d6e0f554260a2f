"""The crawl's files on disk: the output root, paths kept inside it, atomic writes, and the
``file_changed`` signal announcing each file written or removed, the job's name its reports carry. Ground floor: imports nothing
of the project. Docs: docs/limits.md (what a lost output root does), docs/architecture.md.
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

# Sent (``send_catch_log(file_changed, change=...)``) for each file this crawl wrote, rewrote,
# drafted or removed: by the writer and by ``crawler.extensions.outcomes`` (deleted articles).
file_changed = object()


@dataclass(frozen=True)
class Change:
    kind: str  # "new", "changed" (rewritten), "drafted" or "removed"
    id: str  # the article id
    path: str  # its Markdown file, relative to the output root
    images: tuple[str, ...] = ()  # its image files (stored, or removed), relative to the output root


def output_root(settings: Any) -> Path:
    """``OUTPUT_ROOT`` as a Path (``~`` expanded; relative paths stay relative to the cwd)."""
    return Path(settings["OUTPUT_ROOT"]).expanduser()


def inside(root: Path, relative: str) -> Path:
    """``root / relative`` resolved, or ValueError if it leaves ``root``."""
    target = (root / relative).resolve()
    if not target.is_relative_to(root.resolve()) or target == root.resolve():
        raise ValueError(f"path {relative!r} leaves the output root {root}")
    return target


def root_problem(root: Path) -> str | None:
    """Why ``root`` cannot take the crawl's files, or None when it is a writable directory."""
    if not root.exists():
        return "does not exist"
    if not root.is_dir():
        return "is not a directory"
    try:
        # Creating a file the way the writer does is the only reliable test (os.access misses
        # read-only mounts, ACLs and root's privileges).
        with tempfile.NamedTemporaryFile(dir=root, prefix=".write-check-"):
            pass
    except OSError as exc:
        return f"is not writable ({exc.strerror or exc})"
    return None


def job_name(spider: Any) -> str:
    """Scrapyd's job id, else the UTC time and the process id; safe as a file name. The same for
    the whole crawl (the report and the site hook name one job)."""
    if not getattr(spider, "_qq_job_name", ""):
        job = getattr(spider, "_job", "") or f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{os.getpid()}"
        spider._qq_job_name = re.sub(r"[^\w.-]", "_", str(job))
    return str(spider._qq_job_name)


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
