"""qq.com's discovery sources, channel feeds and sitemaps: their requests, and their answers -> article entries.

Pure: requests are built with the callbacks given, answers parsed from bytes into entries or a
``SourceError``. What each source answers and how it is read: docs/pages.md ("Feeds and sitemaps").
"""

from __future__ import annotations

import functools
import json
import re
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal, TypeVar

from lxml.etree import XMLSyntaxError
from scrapy import Request, Spider
from scrapy.downloadermiddlewares.retry import get_retry_request
from scrapy.http import JsonRequest
from scrapy.utils.sitemap import Sitemap
from twisted.python.failure import Failure

from crawler.qq.changes import answer_time, listing_digest
from crawler.qq.flags import flag
from crawler.qq.ids import article_id, clean_url, is_video_id
from crawler.stats import QQ_FEED_BAD, QQ_FEED_BUSY_COUNT, QQ_SITEMAP_BAD, parent
from crawler.times import BEIJING, parse_time

CHANNEL_PREFIX = "news_news_"
# The channels qq.com's feed serves, by short name (channel id news_news_<name>): the channel list of
# go-mizu/mizu (blueprints/search/pkg/scrape/qq/config.go) and the four more that the pages'
# window.channelInfo names (fx, bj, qa, weather), as gathered in SITE.md section 2.
CHANNELS = (
    "top", "tech", "finance", "ent", "sports", "world", "mil", "auto", "game", "kepu", "antip", "history",
    "edu", "nba", "football", "house", "digi", "esport", "baby", "lic", "istock", "video", "nchupin",
    "fx", "bj", "qa", "weather",
)  # fmt: skip
GROUP_TYPE = "525"
ARTICLE_TYPES = frozenset(["0", ""])
VIDEO_TYPES = frozenset(["4", "118"])
_CHANNEL_RE = re.compile(r"^[a-z0-9_]+$")
_ID_DATE_RE = re.compile(r"^(\d{4})(\d{2})(\d{2})")

EntryKind = Literal["article", "video", "other"]
_T = TypeVar("_T")
# libxml2 stops at 256 levels (without XML_PARSE_HUGE) and, recovering, reads what came before:
# a sitemap cut there is reported (too_deep), not half read.
_XML_DEPTH_ERROR = "depth"


class SourceError(ValueError):
    """A feed page or sitemap that gives no entries. ``reason`` is a short slug for stats."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class Entry:
    """An article a source lists: canonical id, the URL to fetch it at (empty: fetched by its id),
    and what the source says."""

    id: str
    url: str = ""
    published: datetime | None = None
    kind: EntryKind = "article"
    type: str = "0"
    paid: bool = False
    title: str = ""
    # When the source says the article last changed (a feed item's update_time, a sitemap's
    # <lastmod>); None when it says nothing usable, and then ``bad_update`` says why (feeds only).
    updated: datetime | None = None
    bad_update: str = ""
    # What a feed item shows of the article (title, abstract, image), digested (crawler.qq.changes).
    listing: str = ""

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
    answered: datetime | None = None  # the answer's own timestamp, when it gives one


# -- channel feed -------------------------------------------------------------------------------


def channel_id(name: str) -> str:
    """``tech`` -> ``news_news_tech``; a full channel id passes as given (a channel ``CHANNELS`` does
    not know yet); an unknown name or anything else is ValueError naming what is accepted."""
    name = name.strip().lower()
    if not _CHANNEL_RE.match(name) or name == CHANNEL_PREFIX:
        raise ValueError(f"not a channel name or id: {name!r} (a name such as tech, or an id {CHANNEL_PREFIX}<name>)")
    if name.startswith(CHANNEL_PREFIX):
        return name
    if name not in CHANNELS:
        raise ValueError(f"unknown channel name {name!r} (known: {', '.join(CHANNELS)}, or any id {CHANNEL_PREFIX}<name>)")
    return CHANNEL_PREFIX + name


# Feed and sitemap pages come after the articles already found: the scheduler (one priority order
# for all hosts, SCHEDULER_PRIORITY_QUEUE in settings.py) hands out every queued article request
# before the next feed or sitemap page, so a feed is read as fast as its articles are fetched, not
# ahead of them; read ahead, the scheduler would hold every article of a long crawl as a queued
# request at once (memory growing with the crawl, docs/BENCHMARKS.md).
DISCOVERY_PRIORITY = -1


def feed_request(
    url: str, channel: str, page: int, callback: Callable[..., Any], errback: Callable[[Failure], Any]
) -> JsonRequest:
    """The POST for page ``page`` of a channel's feed; the callback gets ``channel`` and ``page``."""
    # dont_filter: a feed page is news each time; a dupefilter that persists across runs
    # (distributed mode's) would otherwise read it only once.
    return JsonRequest(
        url,
        data=feed_body(channel, page),
        headers=feed_headers(channel),
        callback=callback,
        errback=errback,
        cb_kwargs={"channel": channel, "page": page},
        meta={"qq_source_stats": parent(QQ_FEED_BAD)},
        dont_filter=True,
        priority=DISCOVERY_PRIORITY,
    )


def feed_body(channel: str, page: int) -> dict[str, Any]:
    """The JSON body the qq.com channel page posts; ``forward`` is "2" on the first page, then "1"."""
    return {"base_req": {"from": "pc"}, "forward": "2" if page == 0 else "1", "channel_id": channel, "page": page}


def feed_headers(channel: str) -> dict[str, str]:
    name = channel.removeprefix(CHANNEL_PREFIX)
    return {"Origin": "https://news.qq.com", "Referer": f"https://news.qq.com/ch/{name}"}


def depth_bounded(parse: Callable[..., _T]) -> Callable[..., _T]:
    """``parse`` with an answer nested too deep for Python's recursion (a JSON of 100,000 levels)
    as ``SourceError("too_deep")`` instead of a ``RecursionError``."""

    @functools.wraps(parse)
    def bounded(body: bytes, *args: Any, **kwargs: Any) -> _T:
        try:
            return parse(body, *args, **kwargs)
        except RecursionError:
            raise SourceError("too_deep", f"nested too deep to read ({len(body)} bytes)") from None

    return bounded


@depth_bounded
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
    page = FeedPage(answered=answer_time(answer.get("timestamp")))
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
    link_id = article_id(url) if url else None
    ident = article_id(str(item.get("id") or "")) or link_id
    if ident is None:
        return None
    kind_code = str(item.get("articletype", "0"))
    payment = item.get("payment_info") if isinstance(item.get("payment_info"), dict) else {}
    # No paid item was seen in a real feed; the page's flag is article_is_pay, assumed the same here.
    paid = any(flag(value) for value in (item.get("article_is_pay"), payment.get("article_is_pay"), payment.get("is_pay")))
    published = parse_time(str(item.get("publish_time") or ""))
    updated, bad_update = update_time(item.get("update_time"), published)
    return Entry(
        id=ident,
        url=(clean_url(url) or "") if link_id == ident else "",
        published=published,
        kind=entry_kind(kind_code, ident),
        type=kind_code,
        paid=paid,
        title=str(item.get("title") or ""),
        updated=updated,
        bad_update=bad_update,
        listing=listing_digest(item),
    )


def update_time(value: Any, published: datetime | None) -> tuple[datetime | None, str]:
    """A feed item's ``update_time`` (Beijing time, as ``publish_time``), or None and why it is not
    usable (missing, malformed, older than ``publish_time``): read as "no change"."""
    if value is None or value == "":
        return None, "missing"
    updated = parse_time(str(value))
    if updated is None:
        return None, f"malformed ({str(value)[:40]!r})"
    if published is not None and updated < published:
        return None, f"older than publish_time ({value} < {published:%Y-%m-%d %H:%M:%S})"
    return updated, ""


def entry_kind(type_code: str, ident: str) -> EntryKind:
    """What an article type code (a feed item's ``articletype``, a page's ``article_type``) says."""
    if type_code in VIDEO_TYPES or is_video_id(ident):
        return "video"
    return "article" if type_code in ARTICLE_TYPES else "other"


# -- sitemaps -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SitemapLink:
    """A ``<sitemap>`` of an index: where the urlset is and when it last changed."""

    url: str
    lastmod: datetime | None


def sitemap_request(
    url: str, callback: Callable[..., Any], errback: Callable[[Failure], Any], *, from_page: bool = False
) -> Request:
    """The GET of a sitemap index or urlset, read again on every run like a feed page.
    ``from_page``: a ``<loc>`` of an index, page text, so the URL policy judges it."""
    meta = {"qq_source_stats": parent(QQ_SITEMAP_BAD), "urlpolicy": from_page}
    return Request(url, callback=callback, errback=errback, meta=meta, dont_filter=True, priority=DISCOVERY_PRIORITY)


def sitemap_xml(body: bytes, max_size: int = 0) -> bytes:
    """The XML of a sitemap answer, gunzipped when it is a ``.gz`` (by its magic number)."""
    # Not Scrapy's gunzip: it returns the readable start of a truncated file without a word, and a
    # cut urlset must be reported, not half read.
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


@depth_bounded
def parse_sitemap(body: bytes, max_size: int = 0) -> tuple[list[SitemapLink], list[Entry]]:
    """A sitemap index's links, or a urlset's article entries (the other list is empty); ``<loc>``s
    that are not qq.com article URLs are left out."""
    xml = sitemap_xml(body, max_size)
    try:
        sitemap = Sitemap(xml)
    except (XMLSyntaxError, StopIteration, ValueError) as exc:
        raise SourceError("not_xml", f"{exc!r}; starts {xml[:60]!r}") from exc
    if sitemap.type == "sitemapindex":
        links = [SitemapLink(d["loc"], parse_lastmod(d.get("lastmod", ""))) for d in sitemap if d.get("loc")]
        _check_depth(sitemap)
        return links, []
    if sitemap.type != "urlset":
        raise SourceError("not_xml", f"root element <{sitemap.type}>, not a urlset or sitemapindex; starts {xml[:60]!r}")
    entries = []
    for d in sitemap:
        ident = article_id(d.get("loc", ""))
        if ident is not None:
            kind: EntryKind = "video" if is_video_id(ident) else "article"
            lastmod = parse_lastmod(d.get("lastmod", ""))
            entries.append(Entry(id=ident, url=clean_url(d["loc"]) or "", published=lastmod, kind=kind, updated=lastmod))
    _check_depth(sitemap)
    return [], entries


def _check_depth(sitemap: Sitemap) -> None:
    """``SourceError("too_deep")`` when the parser stopped at its depth limit (the rest unread)."""
    for error in sitemap.xmliter.error_log:  # type: ignore[attr-defined]
        if _XML_DEPTH_ERROR in error.message.lower():
            raise SourceError("too_deep", f"nested deeper than the XML parser reads ({error.message.strip()})")


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


# Meta keys Scrapy's downloader and its middlewares set on a request (MetaCopyDetectionMiddleware's list).
DOWNLOADER_META = frozenset(
    ["download_latency", "redirect_reasons", "redirect_times", "redirect_ttl", "redirect_urls", "retry_times",
     "_auth_proxy", "_dont_cache", "_scheme_proxy", "cache_timestamp"]
)  # fmt: skip


def busy_retry(request: Request, busy: int, spider: Spider, retries: int, delay: float) -> Request | None:
    """Scrapy's retry of a busy answer (stats, give-up log), or None after ``retries``; it waits
    ``delay * 2**busy`` seconds in the downloader (``meta["qq_retry_delay"]``, ``crawler.middlewares.delay``)."""
    # The count travels in cb_kwargs["busy"]; meta["retry_times"] is set for get_retry_request only and
    # popped from the retry: a callback yielding a request with that key is taken for a meta copy.
    # What the downloader wrote into the answered request's meta (Scrapy's internal keys) is not copied.
    meta = {k: v for k, v in request.meta.items() if k not in DOWNLOADER_META}
    request = request.replace(meta={**meta, "retry_times": busy})
    retry = get_retry_request(
        request, spider=spider, reason="busy", max_retry_times=retries,
        stats_base_key=parent(QQ_FEED_BUSY_COUNT),
    )
    if retry is not None:
        retry.meta.pop("retry_times", None)
        retry.meta["qq_retry_delay"] = delay * 2**busy
        retry.cb_kwargs["busy"] = busy + 1
    return retry
