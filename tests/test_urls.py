"""The URL policy (crawler.urls) and its middleware (crawler.middlewares.urlpolicy)."""

from __future__ import annotations

import asyncio

import pytest
from scrapy import Request
from scrapy.downloadermiddlewares.redirect import RedirectMiddleware
from scrapy.exceptions import NotConfigured
from scrapy.http import Response
from scrapy.utils.test import get_crawler

from crawler import settings as project_settings
from crawler.middlewares.urlpolicy import UrlPolicyMiddleware, UrlRefused
from crawler.urls import resolve, vet_addresses, vet_url

PAGE = "https://news.qq.com/rain/a/20250207A090J800"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("https://inews.gtimg.com/om_ls/x_640360/0", ""),
        ("http://img1.gtimg.com/a.jpg", ""),
        ("//inews.gtimg.com/x/0", ""),
        ("/images/a.jpg", ""),  # relative: resolved against the page (news.qq.com)
        ("a.jpg", ""),
        ("http://8.8.8.8/a.jpg", ""),
        ("http://[2001:4860:4860::8888]/a.jpg", ""),
        ("file:///etc/passwd", "scheme"),
        ("FILE:///etc/passwd", "scheme"),
        ("javascript:alert(1)", "scheme"),
        (" java\tscript:alert(1)", "scheme"),
        ("data:image/png;base64,iVBORw0KGgo=", "scheme"),
        ("ftp://example.com/a.jpg", "scheme"),
        ("gopher://127.0.0.1:6379/_INFO", "scheme"),
        ("http:///a.jpg", "no_host"),
        ("http://user:pass@inews.gtimg.com/a.jpg", "credentials"),
        ("http://inews.gtimg.com:99999/a.jpg", "malformed"),
        ("http://[::1/a.jpg", "malformed"),
        ("http://999.0.0.1/a.jpg", "malformed"),
        ("http://127.0.0.1:6379/", "loopback"),
        ("http://127.1/", "loopback"),
        ("http://2130706433/", "loopback"),  # decimal
        ("http://017700000001/", "loopback"),  # octal
        ("http://0177.0.0.1/", "loopback"),
        ("http://0x7f.0.0.1/", "loopback"),
        ("http://0x7f000001/", "loopback"),
        ("http://localhost:8080/", "loopback"),
        ("http://LOCALHOST./", "loopback"),
        ("http://a.b.localhost/", "loopback"),
        ("http://[::1]/", "loopback"),
        ("http://[::ffff:127.0.0.1]/", "loopback"),  # IPv4-mapped
        ("http://[::ffff:7f00:1]/", "loopback"),
        ("http://[64:ff9b::a00:1]/", "private"),  # NAT64 of 10.0.0.1
        ("http://[2002:a00:1::]/", "private"),  # 6to4 of 10.0.0.1
        ("http://10.0.0.1/", "private"),
        ("http://172.16.5.4/", "private"),
        ("http://192.168.1.1/", "private"),
        ("http://[fc00::1]/", "private"),
        ("http://[::ffff:192.168.0.1]/", "private"),
        ("http://169.254.169.254/latest/meta-data/", "link_local"),
        ("http://[fe80::1]/", "link_local"),
        ("http://224.0.0.1/", "multicast"),
        ("http://[ff02::1]/", "multicast"),
        ("http://0.0.0.0/", "unspecified"),
        ("http://[::]/", "unspecified"),
        ("http://0/", "unspecified"),
        ("http://240.0.0.1/", "reserved"),
        ("http://100.64.0.1/", "reserved"),  # carrier-grade NAT
        ("http://255.255.255.255/", "reserved"),
    ],
)
def test_vet_url(raw: str, reason: str) -> None:
    verdict = vet_url(raw, PAGE)
    assert verdict.reason == reason, verdict
    assert verdict.ok is (reason == "")


def test_resolve_against_the_page_and_encode_what_no_output_may_hold() -> None:
    assert resolve("/a/b.jpg", PAGE) == "https://news.qq.com/a/b.jpg"
    assert resolve("//x.qq.com/a", "") == "https://x.qq.com/a"
    assert resolve("https://x.qq.com/a b\u202e\x00.jpg", PAGE) == "https://x.qq.com/a%20b%E2%80%AE%00.jpg"
    assert resolve("https://x.qq.com/a\n/b\t.jpg", PAGE) == "https://x.qq.com/a/b.jpg"


@pytest.mark.parametrize(
    ("addresses", "reason"),
    [(["183.3.226.35"], ""), (["183.3.226.35", "2402:4e00::1"], ""), ([], "unresolvable"),
     (["183.3.226.35", "127.0.0.1"], "loopback"), (["10.0.0.5"], "private"), (["::ffff:10.0.0.5"], "private"),
     (["169.254.169.254"], "link_local"), (["not an address"], "unresolvable")],
)  # fmt: skip
def test_vet_addresses(addresses: list[str], reason: str) -> None:
    assert vet_addresses(addresses) == reason


# -- the middleware ------------------------------------------------------------------------------

HOSTS = {"inews.gtimg.com": ["183.3.226.35"], "evil.example": ["10.0.0.5"], "half.example": ["1.1.1.1", "::1"]}


def fake_resolver(host: str) -> list[str]:
    return HOSTS.get(host, [])


def middleware(**settings: object) -> UrlPolicyMiddleware:
    crawler = get_crawler(settings_dict={
        "URLPOLICY_ENABLED": project_settings.URLPOLICY_ENABLED,
        "URLPOLICY_RESOLVER": f"{__name__}.fake_resolver",
        **settings,
    })  # fmt: skip
    crawler.stats.open_spider()
    mw = UrlPolicyMiddleware.from_crawler(crawler)

    async def lookup(host: str) -> list[str]:  # the resolver without the reactor's thread pool
        return mw.resolver(host)

    mw.lookup = lookup  # type: ignore[method-assign]
    return mw


def check(mw: UrlPolicyMiddleware, request: Request) -> None:
    asyncio.run(mw.process_request(request))


def page_derived(url: str) -> Request:
    return Request(url, meta={"urlpolicy": True})


def test_the_project_default_is_the_system_resolver() -> None:
    assert project_settings.URLPOLICY_RESOLVER == "crawler.urls.resolve_host"
    assert project_settings.DOWNLOADER_MIDDLEWARES["crawler.middlewares.urlpolicy.UrlPolicyMiddleware"] < 100


def test_disabled() -> None:
    with pytest.raises(NotConfigured):
        middleware(URLPOLICY_ENABLED=False)


def test_public_host_passes_and_is_resolved_once() -> None:
    calls: list[str] = []

    mw = middleware()
    mw.resolver = lambda host: calls.append(host) or HOSTS.get(host, [])  # type: ignore[func-returns-value]
    for _ in range(3):
        check(mw, page_derived("https://inews.gtimg.com/a/0"))
    assert calls == ["inews.gtimg.com"]
    assert mw.crawler.stats.get_value("urlpolicy/allowed") == 3


@pytest.mark.parametrize(
    ("url", "reason"),
    [("https://evil.example/a.jpg", "private"), ("https://half.example/a.jpg", "loopback"),
     ("https://nowhere.example/a.jpg", "unresolvable"), ("http://127.0.0.1:6379/", "loopback"),
     ("file:///etc/passwd", "scheme")],
)  # fmt: skip
def test_refused(url: str, reason: str) -> None:
    mw = middleware()
    with pytest.raises(UrlRefused) as refused:
        check(mw, page_derived(url))
    assert refused.value.reason == reason
    assert mw.crawler.stats.get_value(f"urlpolicy/refused/{reason}") == 1


def test_every_request_is_checked_not_only_page_derived_ones() -> None:
    mw = middleware()
    with pytest.raises(UrlRefused):
        check(mw, Request("http://127.0.0.1:8765/news.qq.com/rain/a/X"))
    with pytest.raises(UrlRefused):
        check(mw, Request("https://evil.example/rain/a/X"))
    check(mw, Request("https://inews.gtimg.com/rain/a/X"))
    assert mw.crawler.stats.get_value("urlpolicy/allowed") == 1


def test_the_crawl_s_own_unresolvable_request_goes_on_so_no_network_is_told_apart() -> None:
    """Without DNS every name is unresolvable: the downloader's own failure closes the crawl as
    ``network``; a page-derived URL (or a redirect) that does not resolve is refused."""
    mw = middleware()
    check(mw, Request("https://news.qq.com/rain/a/X"))
    with pytest.raises(UrlRefused):
        check(mw, page_derived("https://news.qq.com/a.jpg"))
    with pytest.raises(UrlRefused):
        check(mw, Request("https://news.qq.com/rain/a/X", meta={"redirect_urls": ["https://inews.gtimg.com/"]}))


@pytest.mark.parametrize("location", ["http://10.0.0.1/x", "https://evil.example/x", "http://[::ffff:127.0.0.1]/", "http://0x7f.1/"])
def test_an_article_page_s_redirect_to_a_private_address_is_refused(location: str) -> None:
    mw = middleware()
    request = Request("https://inews.gtimg.com/rain/a/X")
    check(mw, request)
    redirect = RedirectMiddleware.from_crawler(mw.crawler)
    followed = redirect.process_response(request, Response(request.url, status=302, headers={"Location": location}))
    assert isinstance(followed, Request)
    with pytest.raises(UrlRefused):
        check(mw, followed)


@pytest.mark.parametrize("location", ["http://10.0.0.1/x.jpg", "https://evil.example/x.jpg", "http://[::ffff:127.0.0.1]/"])
def test_a_redirect_from_public_to_private_is_refused(location: str) -> None:
    mw = middleware()
    request = page_derived("https://inews.gtimg.com/a/0")
    check(mw, request)
    redirect = RedirectMiddleware.from_crawler(mw.crawler)
    followed = redirect.process_response(request, Response(request.url, status=302, headers={"Location": location}))
    assert isinstance(followed, Request) and followed.meta["urlpolicy"]
    with pytest.raises(UrlRefused):
        check(mw, followed)


def test_a_sitemap_index_cannot_send_the_crawl_to_a_local_file_or_a_private_address() -> None:
    """Every <loc> of a sitemap index is page text: its request goes through the URL policy."""
    from scrapy.http import XmlResponse

    from crawler.spiders.qq import QqSpider
    from tests.support.components import project_crawler

    spider = QqSpider.from_crawler(project_crawler(None, QqSpider))
    index = b"""<?xml version="1.0" encoding="UTF-8"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
    <sitemap><loc>file:///etc/passwd</loc></sitemap><sitemap><loc>http://127.0.0.1:6379/</loc></sitemap>
    <sitemap><loc>http://evil.example/s.xml</loc></sitemap><sitemap><loc>https://inews.gtimg.com/s.xml</loc></sitemap>
    </sitemapindex>"""
    requests = list(spider.parse_sitemap(XmlResponse("https://news.qq.com/sitemap/index.xml", body=index)))
    assert len(requests) == 4 and all(r.meta["urlpolicy"] for r in requests)
    mw = middleware()
    refused = []
    for request in requests:
        try:
            check(mw, request)
        except UrlRefused as refusal:
            refused.append(refusal.reason)
    assert refused == ["scheme", "loopback", "private"]
