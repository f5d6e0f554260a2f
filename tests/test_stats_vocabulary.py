"""The stats vocabulary (crawler/stats.py) is the one place stat names are written, and docs/stats.md
says the same names: every name in the module is documented, every project name the docs' tables
give is in the module, and no other module of crawler/ spells a stat name or counts without it. Pure."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from crawler import stats

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "stats.md"
PROJECT = re.compile(rf"(?:{'|'.join(stats.PREFIXES)})/")
# Written by Scrapy's get_retry_request under our base key (parent(QQ_FEED_BUSY_COUNT)), not by our code.
WRITTEN_BY_SCRAPY = {"QQ_FEED_BUSY_MAX_REACHED", "QQ_FEED_BUSY_REASON"}


def vocabulary() -> dict[str, str]:
    """The module's project names and templates, by constant."""
    return {k: v for k, v in vars(stats).items() if k.isupper() and isinstance(v, str) and PROJECT.match(v)}


def as_documented(template: str) -> str:
    """A template as docs/stats.md writes it: ``{field}`` as ``<field>``."""
    return re.sub(r"\{(\w+)\}", r"<\1>", template)


def pattern(template: str) -> re.Pattern[str]:
    """What a template names: its fields any one part of a name (a documented ``<field>`` too)."""
    parts = re.split(r"\{\w+\}", template)
    return re.compile("[^/]+".join(re.escape(part) for part in parts))


def documented() -> list[str]:
    """Every backticked project name in docs/stats.md's tables; ``…/x`` after a name in the same row
    is read as that name's parent followed by ``/x``."""
    names = []
    for line in DOC.read_text(encoding="utf-8").splitlines():
        if not line.startswith("|"):
            continue
        last = ""
        for token in re.findall(r"`([^`]+)`", line):
            if token.startswith("…/") and last:
                token = stats.parent(last) + token[1:]
            elif "/" in token:
                last = token
            if PROJECT.match(token):
                names.append(token)
    return names


def test_the_vocabulary_is_read_and_names_each_stat_once() -> None:
    names = vocabulary()
    assert len(names) > 100, "the module was not read"
    assert len(set(names.values())) == len(names), "two constants name the same stat"
    for template in names.values():
        fields = re.findall(r"\{(\w*)\}", template)
        assert all(fields), template
        assert stats.name(template, **dict.fromkeys(fields, "x")).count("{") == 0


def test_every_name_of_the_module_is_documented() -> None:
    documented_names = set(documented())
    assert len(documented_names) > 100, "docs/stats.md's tables were not read"
    missing = {k: as_documented(v) for k, v in vocabulary().items() if as_documented(v) not in documented_names}
    assert not missing, f"in crawler/stats.py, not in docs/stats.md: {missing}"


def test_every_documented_name_is_in_the_module() -> None:
    templates = [pattern(template) for template in vocabulary().values()]
    unknown = [name for name in documented() if not any(p.fullmatch(name) for p in templates)]
    assert not unknown, f"in docs/stats.md, not in crawler/stats.py: {unknown}"


def test_the_docs_hold_a_drifted_name_to_account() -> None:
    # The two checks above can fail: a name the module lacks is found.
    templates = [pattern(template) for template in vocabulary().values()]
    assert not any(p.fullmatch("qq/dropped/x/y") for p in templates)
    assert any(p.fullmatch("qq/dropped/http_<status>") for p in templates)
    assert as_documented(stats.SITEHOOK_FAILED) == "sitehook/<target>/failed/<why>"


def sources() -> list[Path]:
    return sorted(p for p in (ROOT / "crawler").rglob("*.py") if p != ROOT / "crawler" / "stats.py")


def docstrings(tree: ast.AST) -> set[int]:
    """The ids of the string constants that are docstrings (a string alone as a statement)."""
    return {
        id(node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)
    }


def spelled_stat_names(source: str) -> list[str]:
    """String literals (not docstrings) and f-strings of ``source`` that spell a project stat name."""
    tree = ast.parse(source)
    skipped = docstrings(tree)  # and the literal parts of f-strings, judged with their f-string
    skipped |= {id(part) for node in ast.walk(tree) if isinstance(node, ast.JoinedStr) for part in node.values}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skipped:
            if PROJECT.match(node.value) and re.fullmatch(r"[\w{}/]+", node.value):
                found.append(node.value)
        elif isinstance(node, ast.JoinedStr) and node.values:
            first = node.values[0]
            if isinstance(first, ast.Constant) and PROJECT.match(str(first.value)):
                found.append(ast.unparse(node))
    return found


def collector_calls(source: str) -> list[str]:
    """Calls of a stats collector's counting methods (``….inc_value(…)``, ``….set_value(…)``, …)."""
    methods = {"inc_value", "set_value", "max_value", "min_value"}
    return [
        ast.unparse(node)
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in methods
    ]


def test_the_checks_of_the_sources_can_fail() -> None:
    bad = (
        "def f(crawler, why):\n"
        '    crawler.stats.inc_value("qq/dropped/x")\n'
        '    crawler.stats.set_value(f"write/{why}", 1)\n'
    )
    assert sorted(spelled_stat_names(bad)) == ["f'write/{why}'", "qq/dropped/x"]
    assert len(collector_calls(bad)) == 2
    assert spelled_stat_names('"""qq/articles in a docstring."""\nx = "output/articles.jsonl"\n') == []


@pytest.mark.parametrize("path", sources(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_module_spells_a_stat_name_or_counts_around_the_vocabulary(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    assert not spelled_stat_names(source), f"{path}: stat names belong in crawler/stats.py"
    assert not collector_calls(source), f"{path}: count with crawler.stats.inc/set_value/max_value"


def test_every_name_of_the_module_is_used() -> None:
    code = "\n".join(path.read_text(encoding="utf-8") for path in sources())
    unused = [k for k in vocabulary() if k not in WRITTEN_BY_SCRAPY and not re.search(rf"\b{k}\b", code)]
    assert not unused, f"names no module of crawler/ writes or reads: {unused}"
