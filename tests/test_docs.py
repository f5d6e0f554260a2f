"""The documentation stays true to the code: every setting is documented, every page linked."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

from crawler import settings as project_settings

ROOT = Path(__file__).resolve().parents[1]


def test_every_setting_is_in_the_settings_page() -> None:
    page = (ROOT / "docs" / "settings.md").read_text(encoding="utf-8")
    wiring = {"BOT_NAME", "SPIDER_MODULES", "NEWSPIDER_MODULE", "ITEM_PIPELINES", "EXTENSIONS",
              "DOWNLOADER_MIDDLEWARES", "ADDONS"}  # fmt: skip
    names = {name for name in dir(project_settings) if name.isupper()}
    missing = sorted(name for name in names if f"`{name}`" not in page and not (name in wiring and name in page))
    assert not missing, f"settings not documented in docs/settings.md: {missing}"


def documented_default(cell: str) -> tuple[bool, object]:
    """A settings.md default cell: (True, value) for a value in backticks, (False, None) for "empty…"."""
    if cell.strip().startswith("empty"):
        return False, None
    match = re.match(r"\s*`([^`]*)`", cell)
    assert match, f"no default in {cell!r}"
    for load in (json.loads, ast.literal_eval):
        try:
            return True, load(match.group(1))
        except (ValueError, SyntaxError):
            pass
    return True, match.group(1)


def test_the_settings_page_gives_settings_py_s_defaults() -> None:
    """The one default of each setting is settings.py's; the page says the same value."""
    page = (ROOT / "docs" / "settings.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| `([A-Z_0-9]+)` \| ([^|]*) \|", page, re.M)
    assert len(rows) > 80
    wrong = []
    for name, cell in rows:
        if not hasattr(project_settings, name):
            continue  # a Scrapy or scrapy-redis setting the project leaves at its default
        value = getattr(project_settings, name)
        given, documented = documented_default(cell)
        same = documented == value or (isinstance(value, str) and str(documented) == value) if given else not value
        if not same:
            wrong.append(f"{name}: settings.md says {cell.strip()!r}, settings.py {value!r}")
    assert not wrong, "\n".join(wrong)


def test_the_readme_links_pages_that_exist() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    links = re.findall(r"\]\(((?:docs|tests)/[^)#]+)\)", readme)
    assert links
    assert [link for link in links if not (ROOT / link).exists()] == []
    assert len(readme.encode()) < 8_192  # a front door: the details live in docs/
