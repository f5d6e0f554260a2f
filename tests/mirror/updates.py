"""A channel feed that changes between two crawls, and the articles it lists (for docs/updates.md).

``ChangingFeed(mirror).install()`` puts its routes first on a Mirror (a test's own, the ``site``
fixture): ``POST getPCList`` answers the feed of the current ``phase`` (no busy answer), and
``news.qq.com/rain/a/<id>`` of its articles answers their page in that phase. Pages are built from
a real feed-article page of the mirror (``tests/fixtures/pages/feed/20260810A0TP0100.html``) with
its id, title and first paragraph replaced. Every item has its own ``update_time`` (one minute
apart). Between phase 1 and phase 2:

* ``CHANGED``: ``update_time`` moves and the first paragraph is corrected;
* ``SAME``: ``update_time`` moves, the text stays;
* ``DELETED``: ``update_time`` moves, the page now redirects to the deleted-article page;
* ``PAID``: ``update_time`` moves; its page says ``article_is_pay`` in both phases (the feed does not);
* ``STABLE``: nothing moves;
* ``BAD``: its ``update_time`` is malformed in phase 1, older than its ``publish_time`` in phase 2.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from tests.mirror.server import DELETED_LOCATION, Mirror, Reply

TEMPLATE = Path(__file__).resolve().parents[1] / "fixtures" / "pages" / "feed" / "20260810A0TP0100.html"
TEMPLATE_ID = "20260810A0TP0100"
TEMPLATE_TITLE = "头条测试一：城市更新计划公布"
FIRST_PARAGRAPH = "这是本文自己的第一段"
CORRECTED = "这是更正后的第一段"

CHANGED, SAME, DELETED, PAID, STABLE, BAD = (f"20260812A0UP0{n}00" for n in range(1, 7))
TITLES = {
    CHANGED: "更新测试：正文被更正的文章",
    SAME: "更新测试：时间变了正文没变",
    DELETED: "更新测试：后来被删除的文章",
    PAID: "更新测试：付费文章",
    STABLE: "更新测试：什么都没变",
    BAD: "更新测试：更新时间是坏的",
}
PUBLISHED = "2026-08-12 09:00:00"
FIRST_UPDATE = "2026-08-12 10:00:00"
SECOND_UPDATE = "2026-08-12 18:00:00"  # the lastmod the corrected article gets
JSON_TYPE = "application/json; charset=utf-8"


class ChangingFeed:
    def __init__(self, mirror: Mirror) -> None:
        self.mirror = mirror
        self.phase = 1
        self.template = TEMPLATE.read_text(encoding="utf-8")

    def install(self) -> ChangingFeed:
        self.mirror.routes[:0] = [
            (re.compile(r"^/(?:i\.news|r\.inews)\.qq\.com/web_feed/getPCList$"), lambda m, s: self.feed()),
            (re.compile(r"^/news\.qq\.com/rain/a/(?P<id>20260812A0UP0\d00)$"), lambda m, s: self.page(m["id"])),
        ]
        return self

    def update_time(self, ident: str) -> str:
        """Each item's own stamp, one minute apart (a stamp most items of an answer share is the
        answer's refresh time, no signal: docs/updates.md); CHANGED's second is ``SECOND_UPDATE``."""
        if ident == BAD:
            return "yesterday" if self.phase == 1 else "2026-08-01 00:00:00"
        minute = list(TITLES).index(ident)
        if ident == STABLE or self.phase == 1:
            return f"{FIRST_UPDATE[:-5]}{minute:02d}:00"
        return f"{SECOND_UPDATE[:-5]}{minute:02d}:00"

    def item(self, ident: str) -> dict[str, Any]:
        url = f"https://news.qq.com/rain/a/{ident}"
        return {
            "id": ident, "articletype": "0", "title": TITLES[ident], "publish_time": PUBLISHED,
            "update_time": self.update_time(ident),
            "link_info": {"url": url, "share_url": url, "short_url": url, "org_url": url},
        }  # fmt: skip

    def feed(self) -> Reply:
        body = {"data": [self.item(ident) for ident in TITLES], "code": 0, "message": ""}
        return Reply(200, json.dumps(body, ensure_ascii=False).encode("utf-8"), JSON_TYPE)

    def page(self, ident: str) -> Reply:
        if ident == DELETED and self.phase == 2:
            return Reply(302, b"", headers={"Location": DELETED_LOCATION})
        page = self.template.replace(TEMPLATE_ID, ident).replace(TEMPLATE_TITLE, TITLES[ident])
        if ident == CHANGED and self.phase == 2:
            page = page.replace(FIRST_PARAGRAPH, CORRECTED)
        if ident == PAID:
            page = page.replace('"article_is_pay":false', '"article_is_pay":1')
        return Reply(200, page.encode("utf-8"))

    def fetched(self, since: int = 0) -> list[str]:
        """The ids of this feed's article pages the mirror served after its ``since``-th request."""
        found = (re.match(r"^/news\.qq\.com/rain/a/(20260812A0UP0\d00)$", path) for path in self.mirror.requests[since:])
        return sorted(match[1] for match in found if match)
