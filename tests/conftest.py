"""Shared test helpers: saved pages as responses, project settings, the local mirror."""

from __future__ import annotations

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
