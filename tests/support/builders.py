"""Site builders run for real in the tests: found (or the test fails under CI, is skipped elsewhere) and run."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

IDS = "20250207A090J800,20250207A0BAD400,20260810A0BO7100"


def tool(command: str | Path, install: str) -> str:
    """The builder's executable; missing: a failure under CI (which installs it), else a skip."""
    found = str(command) if isinstance(command, Path) and command.exists() else shutil.which(str(command))
    if found:
        return found
    message = f"{command} is not installed ({install})"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def build(command: list[str], cwd: Path, **env: str) -> str:
    result = subprocess.run(
        command, cwd=cwd, capture_output=True, text=True, timeout=300, env={**os.environ, **env}, stdin=subprocess.DEVNULL
    )
    log = result.stdout + result.stderr
    assert result.returncode == 0, log
    return log


# The top-level front matter keys Zola accepts on a page (any other is an error).
ZOLA_PAGE_KEYS = {"title", "description", "date", "updated", "weight", "draft", "slug", "path", "aliases",
                  "authors", "in_search_index", "template", "taxonomies", "extra"}  # fmt: skip
