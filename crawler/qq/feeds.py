"""qq.com discovery sources -> article entries (pure: bytes in, entries or a ``SourceError`` out).

* Channel feed: ``POST https://i.news.qq.com/web_feed/getPCList`` with the JSON body of
  ``feed_body()``. The answer is ``{"code": 0, "data": [...]}``; an item is an article
  (``articletype "0"``), a video (``"4"``/``"118"`` or a ``V`` id) or a group (``"525"``, e.g.
  热点精选) whose ``sub_item`` list holds more items. ``{"code": 1, "message": "busy"}`` means
  "ask again later" (``SourceError("busy")``); the caller retries.
* Sitemaps: ``news.qq.com/sitemap/index.xml`` (a sitemapindex) -> ``sitemap_<n>.xml`` urlsets,
  plain or gzip; parsed with Scrapy's ``Sitemap``. An entry's date is its ``<lastmod>``, else the
  date inside its id.

Every entry is reduced to its canonical id (``crawler.qq.ids``). Errors carry a ``reason`` that
names a stats counter: ``not_json``, ``busy``, ``code``, ``no_data`` (feed), ``not_xml``,
``bad_gzip``, ``too_big`` (sitemap). Feed items without a usable id are returned in
``FeedPage.bad_items`` so the caller can count them and use the rest of the page.
"""

from __future__ import annotations

import json
import re
import zlib
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any, Literal

from lxml.etree import XMLSyntaxError
from scrapy.utils.sitemap import Sitemap

from crawler.qq.flags import flag
from crawler.qq.ids import article_id, is_video_id
from crawler.qq.pages import BEIJING, parse_time

FEED_URL = "https://i.news.qq.com/web_feed/getPCList"
CHANNEL_PREFIX = "news_news_"
GROUP_TYPE = "525"
ARTICLE_TYPES = frozenset(["0", ""])
VIDEO_TYPES = frozenset(["4", "118"])
_CHANNEL_RE = re.compile(r"^[a-z0-9_]+$")
_ID_DATE_RE = re.compile(r"^(\d{4})(\d{2})(\d{2})")

EntryKind = Literal["article", "video", "other"]


class SourceError(ValueError):
    """A feed page or sitemap that gives no entries. ``reason`` is a short slug for stats."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class Entry:
    """An article a source lists: canonical id, the URL it gave, and what it says about it."""

    id: str
    url: str = ""
    published: datetime | None = None
    kind: EntryKind = "article"
    type: str = "0"
    paid: bool = False
    title: str = ""

    def older_than(self, since: datetime) -> bool:
        """Older than ``since`` by its own date, else by the day in its id (the whole day counts)."""
        if self.published is not None:
            return self.published < since
        day = id_date(self.id)
        return day is not None and day < since.astimezone(BEIJING).date()


@dataclass
class FeedPage:
    entries: list[Entry] = field(default_factory=list)
    bad_items: list[str] = field(default_factory=list)


# -- channel feed -------------------------------------------------------------------------------


def channel_id(name: str) -> str:
    """``tech`` -> ``news_news_tech``; full ids pass; anything else is ValueError."""
    name = name.strip().lower()
    if not _CHANNEL_RE.match(name):
        raise ValueError(f"not a channel name or id: {name!r} (e.g. tech, finance, news_news_top)")
    return name if name.startswith(CHANNEL_PREFIX) else CHANNEL_PREFIX + name


def feed_body(channel: str, page: int) -> dict[str, Any]:
    """The JSON body the qq.com channel page posts; ``forward`` is "2" on the first page, then "1"."""
    return {"base_req": {"from": "pc"}, "forward": "2" if page == 0 else "1", "channel_id": channel, "page": page}


def feed_headers(channel: str) -> dict[str, str]:
    name = channel.removeprefix(CHANNEL_PREFIX)
    return {"Origin": "https://news.qq.com", "Referer": f"https://news.qq.com/ch/{name}"}


def parse_feed(body: bytes) -> FeedPage:
    """The entries of one getPCList answer, groups flattened, in feed order."""
    try:
        answer = json.loads(body)
    except ValueError as exc:
        raise SourceError("not_json", f"{exc}; starts {body[:60]!r}") from exc
    if not isinstance(answer, dict):
        raise SourceError("not_json", f"a JSON {type(answer).__name__}, not an object")
    code = answer.get("code")
    if code != 0:
        reason = "busy" if code == 1 and answer.get("message") == "busy" else "code"
        raise SourceError(reason, f"code {code!r}, message {answer.get('message')!r}")
    items = answer.get("data")
    if not isinstance(items, list):
        raise SourceError("no_data", f"no data list (data is {type(items).__name__})")
    page = FeedPage()
    _collect(items, page)
    return page


def _collect(items: list[Any], page: FeedPage) -> None:
    for item in items:
        if not isinstance(item, dict):
            page.bad_items.append(f"not an object: {str(item)[:60]!r}")
            continue
        kind = str(item.get("articletype", ""))
        if kind == GROUP_TYPE and isinstance(item.get("sub_item"), list):
            _collect(item["sub_item"], page)
            continue
        entry = feed_entry(item)
        if entry is None:
            page.bad_items.append(f"no article id: {json.dumps(item, ensure_ascii=False)[:80]}")
        else:
            page.entries.append(entry)


def feed_entry(item: dict[str, Any]) -> Entry | None:
    """One feed item as an Entry, or None when neither its ``id`` nor its link gives an id."""
    link = item.get("link_info") if isinstance(item.get("link_info"), dict) else {}
    url = str(link.get("url") or "")
    ident = article_id(str(item.get("id") or "")) or (article_id(url) if url else None)
    if ident is None:
        return None
    kind_code = str(item.get("articletype", "0"))
    kind: EntryKind = "article"
    if kind_code in VIDEO_TYPES or is_video_id(ident):
        kind = "video"
    elif kind_code not in ARTICLE_TYPES:
        kind = "other"
    payment = item.get("payment_info") if isinstance(item.get("payment_info"), dict) else {}
    # No paid item was seen in a real feed; the page's flag is article_is_pay, assumed the same here.
    paid = any(flag(value) for value in (item.get("article_is_pay"), payment.get("article_is_pay"), payment.get("is_pay")))
    return Entry(
        id=ident,
        url=url,
        published=parse_time(str(item.get("publish_time") or "")),
        kind=kind,
        type=kind_code,
        paid=paid,
        title=str(item.get("title") or ""),
    )


# -- sitemaps -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SitemapLink:
    """A ``<sitemap>`` of an index: where the urlset is and when it last changed."""

    url: str
    lastmod: datetime | None


def sitemap_xml(body: bytes, max_size: int = 0) -> bytes:
    """The XML of a sitemap answer, gunzipped when it is a ``.gz`` (by its magic number).

    Not Scrapy's ``gunzip``: it returns the readable start of a truncated file without a word,
    and a cut urlset must be reported, not half read.
    """
    if body[:2] != b"\x1f\x8b":
        return body
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        xml = inflater.decompress(body, max_size)
    except zlib.error as exc:
        raise SourceError("bad_gzip", str(exc)) from exc
    if max_size and inflater.unconsumed_tail:
        raise SourceError("too_big", f"larger than {max_size} bytes once gunzipped")
    if not inflater.eof:
        raise SourceError("bad_gzip", f"the gzip data ends early (after {len(body)} bytes)")
    return xml


def parse_sitemap(body: bytes, max_size: int = 0) -> tuple[list[SitemapLink], list[Entry]]:
    """A sitemap index's links, or a urlset's article entries (the other list is empty).

    ``<loc>``s that are not qq.com article URLs are left out.
    """
    xml = sitemap_xml(body, max_size)
    try:
        sitemap = Sitemap(xml)
    except (XMLSyntaxError, StopIteration, ValueError) as exc:
        raise SourceError("not_xml", f"{exc!r}; starts {xml[:60]!r}") from exc
    if sitemap.type == "sitemapindex":
        return [SitemapLink(d["loc"], parse_lastmod(d.get("lastmod", ""))) for d in sitemap if d.get("loc")], []
    if sitemap.type != "urlset":
        raise SourceError("not_xml", f"root element <{sitemap.type}>, not a urlset or sitemapindex; starts {xml[:60]!r}")
    entries = []
    for d in sitemap:
        ident = article_id(d.get("loc", ""))
        if ident is not None:
            kind: EntryKind = "video" if is_video_id(ident) else "article"
            entries.append(Entry(id=ident, url=d["loc"], published=parse_lastmod(d.get("lastmod", "")), kind=kind))
    return [], entries


def parse_lastmod(value: str) -> datetime | None:
    """A W3C datetime (``2026-08-10``, ``2026-08-10T12:00:00+08:00``); no offset means Beijing."""
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=BEIJING)


def id_date(ident: str) -> date | None:
    """The day an id carries (every id form begins with YYYYMMDD)."""
    match = _ID_DATE_RE.match(ident)
    try:
        return date(int(match[1]), int(match[2]), int(match[3])) if match else None
    except ValueError:
        return None


# -- arguments ----------------------------------------------------------------------------------


def parse_since(value: str) -> datetime:
    """``YYYY-MM-DD`` or ``YYYY-MM-DD HH:MM[:SS]`` in Beijing time, else ValueError."""
    value = value.strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        try:
            return datetime.combine(date.fromisoformat(value), time(), BEIJING)
        except ValueError:
            pass
    else:
        parsed = parse_time(value)
        if parsed is not None:
            return parsed
    raise ValueError(f"since={value!r}: expected YYYY-MM-DD or 'YYYY-MM-DD HH:MM' (Beijing time)")
