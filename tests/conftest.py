"""Shared test helpers: saved pages as responses, project settings, the local mirror."""

from __future__ import annotations

import inspect
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from scrapy.http import HtmlResponse
from scrapy.settings import Settings

from crawler import settings as project_settings
from tests.mirror.server import Mirror
from tests.redis_server import RedisServer

FIXTURES = Path(__file__).parent / "fixtures"
PAGES = FIXTURES / "pages"
EXPECTED = FIXTURES / "expected"
SITE = json.loads((Path(__file__).parent / "mirror" / "site.json").read_text(encoding="utf-8"))


def case_id(case: str) -> str:
    """Fixture pages are named ``<case>-<article id>.html``."""
    return case.rsplit("-", 1)[1]


def page_url(case: str) -> str:
    """The page's URL: the first of the mirror's ``urls`` for it, else built from its id."""
    ident = case_id(case)
    urls = SITE["articles"].get(ident, {}).get("urls")
    if urls:
        return urls[0]
    if len(ident) == 14 and ident < "20190101":
        return f"https://tech.qq.com/a/{ident[:8]}/{ident[8:]}.htm"
    return f"https://news.qq.com/rain/a/{ident}"


def page_response(case: str, body: bytes | None = None) -> HtmlResponse:
    """A saved page as the downloader would hand it over, with the mirror's Content-Type."""
    charset = SITE["articles"].get(case_id(case), {}).get("charset", "utf-8")
    return HtmlResponse(
        url=page_url(case),
        body=body if body is not None else (PAGES / f"{case}.html").read_bytes(),
        headers={"Content-Type": f"text/html; charset={charset}"},
    )


def all_cases() -> list[str]:
    return sorted(p.stem for p in PAGES.glob("*.html"))


@pytest.fixture
def settings() -> Settings:
    result = Settings()
    result.setmodule(project_settings)
    return result


@pytest.fixture
def site() -> Iterator[tuple[Mirror, str]]:
    """A mirror of its own for one test, for tests that read its request log or change it."""
    own = Mirror()
    server, url = own.serve()
    yield own, url
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def mirror() -> Iterator[tuple[Mirror, str]]:
    site = Mirror()
    server, url = site.serve()
    yield site, url
    server.shutdown()
    server.server_close()


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A private redis-server of the test's own, on a free loopback port, with its append-only file."""
    server = RedisServer(tmp_path / "redis", appendonly=True).start()
    yield server
    server.kill()


# -- markers: the slow kinds, found by what a test (or a fixture it uses) calls -------------------
# `python -m pytest -m "not slow"` is the fast loop (docs/tests.md); the default run is everything.
SLOW_CALLS = {
    "crawl": ("crawl(", "start(", "start_crawler(", "run(site", "runs(", "Running("),
    "builders": ("build(", "tool(", "jekyll", "eleventy", "hexo"),
    "redis": ("redis_server", "RedisServer("),
    "scrapyd": ("scrapyd",),
    "browser": ("chromium", "playwright"),
}


def _source(function: object) -> str:
    try:
        return inspect.getsource(function)  # type: ignore[arg-type]
    except (OSError, TypeError):
        return ""


def _kinds(item: pytest.Item) -> set[str]:
    """The slow kinds a test is of: what its own code and its fixtures' code call."""
    sources = [_source(getattr(item, "function", None))]
    info = getattr(item, "_fixtureinfo", None)
    for name in getattr(item, "fixturenames", ()):
        for definition in (info.name2fixturedefs.get(name, ()) if info else ()):
            if definition.baseid:  # the project's own fixtures, not pytest's
                sources.append(_source(definition.func))
    text = "\n".join(sources)
    return {kind for kind, calls in SLOW_CALLS.items() if any(call in text for call in calls)}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        kinds = _kinds(item) | {mark.name for mark in item.iter_markers() if mark.name in SLOW_CALLS}
        for kind in kinds:
            item.add_marker(kind)
        if kinds:
            item.add_marker("slow")
