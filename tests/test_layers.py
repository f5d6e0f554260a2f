"""The code's floors: no module of crawler/ imports one on a higher floor, and no import circle.

Floors, lowest first (docs/architecture.md draws the same map):

0. ground: ``crawler`` (the package), ``settings``, ``stats``, ``items``, ``urls``, ``files``,
   ``times``, ``faults``, ``ledger``, ``exitcode``: plain data, names and helpers any room uses;
1. site knowledge: ``qq/`` (what qq.com's pages, feeds and ids say; pure);
2. rendering: ``render/``, ``paths`` (an Article -> a file's text and its path; pure);
3. configuration: ``config`` (every setting checked, against the site's channels and the profiles);
4. the store: ``store/`` (records of what was seen and written, and the extension that opens it);
5. components: ``middlewares/``, ``pipelines/``, ``extensions/``, ``distributed/``, ``handlers``,
   ``dupefilter`` (Scrapy components, one responsibility each);
6. monitors: ``monitors/`` (Spidermon's checks over what the components did);
7. spiders: ``spiders/`` (discovery and callbacks that delegate);
8. commands: ``commands/`` (the ``crawl`` command and its exit code).

A module may import its own floor or lower ones. Imports under ``if TYPE_CHECKING:`` are not
imports at run time and are not counted; imports inside functions are. Pure: reads the source
with ``ast``, imports nothing of the project.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "crawler"

FLOORS: dict[str, int] = {
    "crawler": 0,
    "crawler.settings": 0,
    "crawler.stats": 0,
    "crawler.items": 0,
    "crawler.urls": 0,
    "crawler.files": 0,
    "crawler.times": 0,
    "crawler.faults": 0,
    "crawler.ledger": 0,
    "crawler.exitcode": 0,
    "crawler.qq": 1,
    "crawler.render": 2,
    "crawler.paths": 2,
    "crawler.config": 3,
    "crawler.store": 4,
    "crawler.middlewares": 5,
    "crawler.pipelines": 5,
    "crawler.extensions": 5,
    "crawler.distributed": 5,
    "crawler.handlers": 5,
    "crawler.resolver": 5,
    "crawler.dupefilter": 5,
    "crawler.monitors": 6,
    "crawler.spiders": 7,
    "crawler.commands": 8,
}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def floor(module: str) -> int:
    """The floor of ``module``: that of its longest listed prefix."""
    name = module
    while name not in FLOORS:
        assert "." in name, f"{module} is on no floor: add it to FLOORS (and to docs/architecture.md)"
        name = name.rsplit(".", 1)[0]
    return FLOORS[name]


def _type_checking_only(tree: ast.Module) -> set[int]:
    """The ids of import nodes under ``if TYPE_CHECKING:``."""
    hidden: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            hidden.update(id(child) for stmt in node.body for child in ast.walk(stmt))
    return hidden


def imports(module: str) -> set[str]:
    """The project modules ``module`` imports at run time (``from crawler import x`` names ``crawler.x``)."""
    path = MODULES[module]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    hidden = _type_checking_only(tree)
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in hidden:
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.split(".")[0] == "crawler")
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join([*package.split(".")[: len(package.split(".")) - node.level + 1], *filter(None, [base])])
            if base.split(".")[0] != "crawler":
                continue
            named = [f"{base}.{alias.name}" for alias in node.names if f"{base}.{alias.name}" in MODULES]
            found.update(named or [base])
    return found - {module}


GRAPH = {module: imports(module) for module in MODULES}


def test_every_module_is_on_a_floor() -> None:
    assert len(MODULES) > 50  # the walk found the package
    for module in MODULES:
        floor(module)


def test_no_module_imports_a_higher_floor() -> None:
    upward = sorted(
        f"{module} (floor {floor(module)}) imports {target} (floor {floor(target)})"
        for module, targets in GRAPH.items()
        for target in targets
        if floor(target) > floor(module)
    )
    assert not upward, "\n".join(upward)


def test_no_import_circle() -> None:
    edges = GRAPH
    circles: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for target in sorted(edges.get(module, ())):
            if state.get(target) == 1:
                circles.append([*path[path.index(target) :], target])
            elif target not in state:
                visit(target, [*path, target])
        state[module] = 2

    for module in sorted(MODULES):
        if module not in state:
            visit(module, [module])
    assert not circles, "\n".join(" -> ".join(circle) for circle in circles)


def test_the_check_sees_an_upward_import() -> None:
    """The walk finds imports inside functions and skips TYPE_CHECKING ones (the test can fail)."""
    assert "crawler.qq.judge" in GRAPH["crawler.spiders.pages"]
    assert "crawler.qq.feeds" in GRAPH["crawler.config"]  # imported inside ``channels()``
    assert "crawler.config" not in GRAPH["crawler.qq.arguments"]  # for annotations only
    assert "crawler.ledger" in GRAPH["crawler.pipelines.write"]  # ``from crawler import ledger``


def test_the_spider_asks_the_store_only_through_its_extension() -> None:
    spiders = [module for module in GRAPH if module.startswith("crawler.spiders.")]
    asked = {target for module in spiders for target in GRAPH[module] if target.startswith("crawler.store")}
    assert asked == {"crawler.store.extension"}
    assert "crawler.spiders.articles" in spiders and "crawler.spiders.listings" in spiders  # the walk sees them
