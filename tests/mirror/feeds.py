"""The mirror's discovery part: qq.com's channel feed and sitemaps, and the articles they list.

Built by ``tests/fixtures/build_feed_site.py`` from the real samples; this module only serves it:

* ``POST /i.news.qq.com/web_feed/getPCList`` (and ``r.inews.qq.com``): the JSON body's
  ``channel_id`` and ``page`` pick ``feed/<channel_id>/<page>.json``, served as stored (some are
  deliberately not JSON). The first time a given channel page is asked it answers
  ``{"code":1,"message":"busy"}``, as the real feed does when asked too fast; a page past the
  last (or of an unknown channel) is an empty ``data`` list. ``Mirror.feed_asks`` records every
  (channel, page) asked, busy answers included;
* ``GET /news.qq.com/sitemap/<name>``: ``sitemap/<name>`` (``index.xml``, urlsets, gzip ones);
* the articles of ``feed/articles.json`` (pages in ``tests/fixtures/pages/feed/``) and its deleted
  ids join the mirror's own.
"""

from __future__ import annotations

import json
import re
import threading
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tests.mirror.server import Mirror, Reply

HERE = Path(__file__).resolve().parent
FEED = HERE / "feed"
SITEMAPS = HERE / "sitemap"
BUSY = b'{"code":1,"message":"busy","data":null}'
EMPTY = b'{"data":[],"ad_list":"","trace_id":"","fixed_nums":0,"is_deleted":0,"code":0,"message":"","timestamp":""}'
JSON_TYPE = "application/json; charset=utf-8"


class FeedSite:
    """The feed answers and their busy-once state for one Mirror."""

    def __init__(self) -> None:
        self.asked: set[tuple[str, int]] = set()
        self.lock = threading.Lock()

    def feed(self, mirror: Mirror) -> Reply:
        from tests.mirror.server import Reply  # noqa: PLC0415

        try:
            request = json.loads(mirror.request_body() or b"{}")
            channel, page = str(request["channel_id"]), int(request["page"])
        except (ValueError, KeyError, TypeError):
            return Reply(200, b'{"code":-1,"message":"bad request"}', JSON_TYPE)
        with self.lock:
            mirror.feed_asks.append((channel, page))
            first = (channel, page) not in self.asked
            self.asked.add((channel, page))
        if first:
            return Reply(200, BUSY, JSON_TYPE)
        path = FEED / re.sub(r"[^a-z0-9_]", "", channel) / f"{page}.json"
        return Reply(200, path.read_bytes() if path.is_file() else EMPTY, JSON_TYPE)


def sitemap(name: str) -> Reply:
    from tests.mirror.server import Reply  # noqa: PLC0415

    path = SITEMAPS / name
    if not path.is_file():
        return Reply(404, b"<html><body>404</body></html>")
    kind = "application/x-gzip" if name.endswith(".gz") else "application/xml; charset=utf-8"
    return Reply(200, path.read_bytes(), kind)


def register(mirror: Mirror) -> None:
    """Add the feed, the sitemaps and their articles to a Mirror."""
    site = json.loads((FEED / "articles.json").read_text(encoding="utf-8"))
    mirror.articles.update(site["articles"])
    mirror.deleted.update(site["deleted"])
    mirror.feed_asks = []
    feeds = FeedSite()
    mirror.routes += [
        (re.compile(r"^/(?:i\.news|r\.inews)\.qq\.com/web_feed/getPCList$"), lambda m, s: feeds.feed(s)),
        (re.compile(r"^/news\.qq\.com/sitemap/(?P<name>[\w.]+)$"), lambda m, s: sitemap(m["name"])),
    ]
