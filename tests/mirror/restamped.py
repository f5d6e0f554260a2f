"""A channel feed and a sitemap restamped every "hour", as the real getPCList answer is (for
docs/updates.md, "The change signal"): every item carries the answer's refresh time.

``RestampedFeed(mirror).install()`` puts its routes first on a Mirror: ``POST getPCList`` for
channel ``CHANNEL`` answers ``PAGE_SIZE`` items a page (other channels: an empty list), ``GET
news.qq.com/sitemap/restamped.xml`` a urlset of the same articles, and ``news.qq.com/rain/a/<id>``
their pages (built from the real feed-article page, as ``tests/mirror/updates.py`` does).

* ``hour()``: every stamp moves to one new refresh time (now), shared by all items; own stamps and
  nothing else are dropped;
* ``correct(id)``: the page's first paragraph is corrected and the item gets its own stamp, newer
  than the refresh time;
* ``retitle(id)``: the feed item's title and the page's title change; its stamp stays the shared one;
* ``claim_all()``: every item gets its own new stamp, no text changes (a feed claiming everything changed).

Stamps are Beijing time relative to the real clock, since the crawler compares them with the time
it fetched a page.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from typing import Any

from crawler.times import BEIJING
from tests.mirror.server import Mirror, Reply
from tests.mirror.updates import (
    CORRECTED,
    FIRST_PARAGRAPH,
    TEMPLATE,
    TEMPLATE_ID,
    TEMPLATE_TITLE,
)

CHANNEL = "news_news_rst"
IDS = [f"20260813A0RS{n:02d}00" for n in range(12)]
PAGE_SIZE = 6
PUBLISHED = "2026-08-13 09:00:00"
JSON_TYPE = "application/json; charset=utf-8"
_PAGE_RE = r"^/news\.qq\.com/rain/a/(20260813A0RS\d{2}00)$"


def beijing(moment: datetime) -> str:
    return moment.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S")


class RestampedFeed:
    def __init__(self, mirror: Mirror) -> None:
        self.mirror = mirror
        self.template = TEMPLATE.read_text(encoding="utf-8")
        self.titles = {ident: f"重盖时间测试{n}：原来的标题" for n, ident in enumerate(IDS)}
        self.corrected: set[str] = set()
        self.own: dict[str, str] = {}
        self.refresh = ""
        self.hour()

    def install(self) -> RestampedFeed:
        self.mirror.routes[:0] = [
            (re.compile(r"^/(?:i\.news|r\.inews)\.qq\.com/web_feed/getPCList$"), lambda m, s: self.feed()),
            (re.compile(r"^/news\.qq\.com/sitemap/restamped\.xml$"), lambda m, s: self.sitemap()),
            (re.compile(_PAGE_RE), lambda m, s: self.page(m[1])),
        ]
        return self

    # -- what changes between runs --------------------------------------------------------------

    def hour(self) -> None:
        self.refresh = beijing(datetime.now(timezone.utc))
        self.own.clear()

    def correct(self, ident: str) -> str:
        self.corrected.add(ident)
        self.own[ident] = beijing(datetime.now(timezone.utc) + timedelta(seconds=2))
        return self.own[ident]

    def retitle(self, ident: str) -> str:
        self.titles[ident] = self.titles[ident].replace("原来的标题", "改过的标题")
        return self.titles[ident]

    def claim_all(self) -> None:
        moment = datetime.now(timezone.utc) + timedelta(seconds=2)
        self.own = {ident: beijing(moment + timedelta(seconds=n)) for n, ident in enumerate(IDS)}

    def stamp(self, ident: str) -> str:
        return self.own.get(ident, self.refresh)

    # -- answers --------------------------------------------------------------------------------

    def item(self, ident: str) -> dict[str, Any]:
        url = f"https://news.qq.com/rain/a/{ident}"
        return {
            "id": ident, "articletype": "0", "title": self.titles[ident], "publish_time": PUBLISHED,
            "update_time": self.stamp(ident), "desc": "重盖时间测试的摘要",
            "link_info": {"url": url, "share_url": url, "short_url": url, "org_url": url},
        }  # fmt: skip

    def feed(self) -> Reply:
        try:
            asked = json.loads(self.mirror.request_body() or b"{}")
            channel, page = str(asked["channel_id"]), int(asked["page"])
        except (ValueError, KeyError, TypeError):
            return Reply(200, b'{"code":-1,"message":"bad request"}', JSON_TYPE)
        chosen = IDS[page * PAGE_SIZE : (page + 1) * PAGE_SIZE] if channel == CHANNEL else []
        body = {"data": [self.item(ident) for ident in chosen], "code": 0, "message": "", "timestamp": ""}
        return Reply(200, json.dumps(body, ensure_ascii=False).encode("utf-8"), JSON_TYPE)

    def sitemap(self) -> Reply:
        urls = "".join(
            f"<url><loc>https://news.qq.com/rain/a/{ident}</loc>"
            f"<lastmod>{self.stamp(ident).replace(' ', 'T')}+08:00</lastmod></url>"
            for ident in IDS
        )
        body = f'<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'
        return Reply(200, body.encode("utf-8"), "application/xml; charset=utf-8")

    def page(self, ident: str) -> Reply:
        page = self.template.replace(TEMPLATE_ID, ident).replace(TEMPLATE_TITLE, self.titles[ident])
        if ident in self.corrected:
            page = page.replace(FIRST_PARAGRAPH, CORRECTED)
        return Reply(200, page.encode("utf-8"))

    def fetched(self, since: int = 0) -> list[str]:
        """The ids of this feed's article pages the mirror was asked for after its ``since``-th request (304s included)."""
        found = (re.match(_PAGE_RE, path) for path in self.mirror.requests[since:])
        return sorted(match[1] for match in found if match)

    def feed_pages(self, since: int = 0) -> int:
        return sum(1 for path in self.mirror.requests[since:] if path.endswith("/getPCList"))
