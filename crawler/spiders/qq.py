"""The ``qq`` spider: discovers articles (arguments, channel feeds, sitemaps) and hands pages to
``crawler.qq.pages``.

It is thin on purpose: parsing feeds and sitemaps is ``crawler.qq.feeds``, extraction is
``crawler.qq.pages``, cleaning and writing are pipelines.

Arguments (``-a name=value``), all optional:

* ``urls``: comma-separated qq.com article URLs, any form (``news.qq.com/rain/a/<id>``,
  ``new.qq.com/omn/<date>/<id>.html``, ``view.inews.qq.com/a/<id>``, ``<site>.qq.com/a/<date>/<n>.htm``);
* ``ids``: comma-separated article ids (``20250207A090J800``);
* ``url_file``: a file with one URL or id a line (blank lines and ``#`` comments ignored);
* ``channels``: comma-separated channel names or ids (``tech,finance``, ``news_news_top``); ``none``
  for no feeds. Without it the feeds of ``QQ_CHANNELS`` are read unless ``urls``/``ids``/``url_file``
  name the articles;
* ``pages``: feed pages per channel (default ``QQ_FEED_PAGES``);
* ``since``: ``YYYY-MM-DD`` or ``YYYY-MM-DD HH:MM`` (Beijing): older articles are not fetched;
* ``sitemap=1``: also read the sitemap index ``QQ_SITEMAP_URL``;
* ``refresh=1``: fetch and rewrite articles already written (see ``crawler.middlewares.dedup``).

Every input is reduced to its canonical id first, so an article is fetched once per run whatever
forms and sources gave it; it is fetched at the URL given (``crawler.qq.ids.article_input``), and
once more at its canonical current URL if that one is gone (404/410, the deleted-article page). A
page whose own id is not the requested article's is dropped. A channel's paging stops at
``pages``, at an empty page, or at a page whose every entry is older than ``since`` or already
written (``already_written()``, the hook for the article store: a record whose file is still on
disk; never with ``refresh=1`` or ``DEDUP_ENABLED`` off). Article requests carry their id in ``meta["qq_id"]`` for the dedup middleware.

Settings: ``QQ_CHANNELS``, ``QQ_FEED_PAGES``, ``QQ_FEED_URL``, ``QQ_FEED_BUSY_RETRIES``,
``QQ_FEED_BUSY_DELAY``, ``QQ_SITEMAP_URL``, ``QQ_VIDEOS`` (``skip``|``write``), ``QQ_FETCH_URL``,
``QQ_ARTICLE_URL``.
Stats: ``qq/requested``, ``qq/bad_input``, ``qq/deleted``, ``qq/dropped/<reason>`` (``id_mismatch``: the
page is another article), ``qq/fallback`` (a given URL gone, the canonical one tried),
``qq/charset_mismatch``, ``qq/articles``,
``qq/skipped/{video,paid,old,written,type_<n>}``, ``qq/feed/pages``, ``qq/feed/bad/<reason>``,
``qq/feed/busy/count`` and ``qq/feed/busy/max_reached`` (retries of busy answers),
``qq/sitemap/urlsets``, ``qq/sitemap/bad/<reason>``, ``qq/sitemap/skipped_old``, ``qq/bad_arguments``.

Unknown arguments are refused: the crawl closes when it opens, before any request, with the
reason ``bad_arguments`` and one ERROR line naming them (a mistyped ``-a`` or Scrapyd ``-d`` would
otherwise be silently ignored); so does a bad ``since``/``pages``/``channels``/``url_file`` or
``QQ_VIDEOS``. Scrapyd's own ``_job`` and ``_version`` are accepted.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import scrapy
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.retry import get_retry_request
from scrapy.exceptions import CloseSpider
from scrapy.http import JsonRequest, Response, TextResponse
from twisted.python.failure import Failure

from crawler.items import Article
from crawler.qq.feeds import (
    Entry,
    SourceError,
    channel_id,
    feed_body,
    feed_headers,
    parse_feed,
    parse_since,
    parse_sitemap,
)
from crawler.qq.ids import article_input, fallback_url, fetch_url, same_article
from crawler.qq.pages import PageError, parse_article, true_charset
from crawler.store import ArticleStore, is_written, open_store

logger = logging.getLogger(__name__)

DELETED_MARKER = "babygohome"
T = TypeVar("T")
VIDEO_MODES = ("skip", "write")
VIDEO_TYPES = ("4", "118")
# Spider arguments Scrapyd adds to every job it launches.
SCRAPYD_ARGUMENTS = frozenset({"_job", "_version"})


def split_arg(value: str | None) -> list[str]:
    """A comma-separated spider argument as a list of non-empty items."""
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def read_url_file(path: str) -> list[str]:
    """The URLs or ids of a file, one a line; blank lines and ``#`` comments are ignored."""
    try:
        text = Path(path).expanduser().read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"url_file={path!r}: cannot be read ({exc})") from exc
    return [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


class QqSpider(scrapy.Spider):
    name = "qq"
    # Read from the settings once, in from_crawler.
    videos: str
    channels: list[str]
    pages: int
    feed_url: str
    busy_retries: int
    busy_delay: float
    sitemap_url: str
    fetch_template: str
    link_template: str
    max_size: int

    def __init__(
        self, urls: str = "", ids: str = "", url_file: str = "", channels: str = "", pages: str = "",
        since: str = "", sitemap: str = "", refresh: str = "", **kwargs: Any,
    ) -> None:  # fmt: skip
        super().__init__(**kwargs)
        # Every bad argument is collected here; check_arguments closes the crawl at start with them all.
        self.argument_errors: list[str] = [
            f"unknown argument {name}={value!r}" for name, value in sorted(kwargs.items()) if name not in SCRAPYD_ARGUMENTS
        ]
        self.inputs = split_arg(urls) + split_arg(ids) + self._checked(read_url_file, url_file, [])
        self.channel_arg = self._checked(
            lambda v: [channel_id(c) for c in split_arg(v) if c.lower() != "none"], channels, []
        )
        self.no_channels = channels.strip().lower() == "none"
        self.explicit = bool(urls or ids or url_file)
        self.pages_arg = self._checked(lambda v: self._positive(v, "pages"), pages, None)
        self.since: datetime | None = self._checked(parse_since, since, None)
        self.sitemap = sitemap.strip().lower() in ("1", "true", "yes")
        self.refresh = refresh.strip().lower() in ("1", "true", "yes")
        self.seen: set[str] = set()
        self.store: ArticleStore | None = None  # opened on first use, after the writer checked it

    def _checked(self, parse: Callable[[str], T], value: str, default: T) -> T:
        """``parse(value)`` for a given argument; a ValueError is recorded as an argument error."""
        if not value:
            return default
        try:
            return parse(value)
        except ValueError as error:
            self.argument_errors.append(str(error))
            return default

    @staticmethod
    def _positive(value: str, name: str) -> int:
        if not value.strip().isdigit() or int(value) < 1:
            raise ValueError(f"{name}={value!r}: expected a whole number of at least 1")
        return int(value)

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> QqSpider:
        spider: QqSpider = super().from_crawler(crawler, *args, **kwargs)
        settings = crawler.settings
        spider.videos = settings.get("QQ_VIDEOS", "skip")
        if spider.videos not in VIDEO_MODES:
            spider.argument_errors.append(f"QQ_VIDEOS={spider.videos!r}: expected one of {', '.join(VIDEO_MODES)}")
        if spider.channel_arg:
            spider.channels = spider.channel_arg
        elif spider.no_channels or spider.explicit or settings.get("REDIS_URL"):
            # Distributed crawlers take their work from Redis, not from the default channels.
            spider.channels = []
        else:
            spider.channels = [channel_id(c) for c in settings.getlist("QQ_CHANNELS")]
        spider.pages = spider.pages_arg or settings.getint("QQ_FEED_PAGES", 5)
        spider.feed_url = settings.get("QQ_FEED_URL")
        spider.busy_retries = settings.getint("QQ_FEED_BUSY_RETRIES", 3)
        spider.busy_delay = settings.getfloat("QQ_FEED_BUSY_DELAY", 2.0)
        spider.sitemap_url = settings.get("QQ_SITEMAP_URL")
        spider.fetch_template = settings.get("QQ_FETCH_URL")
        spider.link_template = settings.get("QQ_ARTICLE_URL")
        spider.max_size = settings.getint("DOWNLOAD_MAXSIZE", 0)
        crawler.signals.connect(spider.check_arguments, signal=signals.spider_opened)
        crawler.signals.connect(spider.dropped, signal=signals.request_dropped)
        return spider

    def check_arguments(self) -> None:
        """On spider_opened: CloseSpider (handled by Scrapy before start() runs) on any bad argument."""
        if not self.argument_errors:
            return
        self._stat("qq/bad_arguments", len(self.argument_errors))
        accepted = ", ".join(sorted(set(inspect.signature(type(self).__init__).parameters) - {"self", "kwargs"}))
        logger.error(
            "Bad spider arguments, nothing crawled: %s (accepted: %s)", "; ".join(self.argument_errors), accepted
        )
        raise CloseSpider("bad_arguments")

    def _stat(self, key: str, count: int = 1) -> None:
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(key, count)

    def already_written(self, ident: str) -> bool:
        """Whether the article store has the article written (its file still on disk)."""
        if self.refresh or not self.settings.getbool("DEDUP_ENABLED", True):
            return False
        if self.store is None:
            self.store = open_store(self.settings)
        return is_written(self.store, Path(self.settings.get("OUTPUT_ROOT", "output")).expanduser(), ident)

    def closed(self, reason: str) -> None:
        if self.store is not None:
            self.store.close()

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for request in self.article_requests(self.inputs):
            await self._room()
            yield request
        for channel in self.channels:
            yield self.feed_request(channel, 0)
        if self.sitemap:
            yield self.sitemap_request(self.sitemap_url)

    # -- articles ---------------------------------------------------------------------------------

    async def _room(self) -> None:
        """Wait while the engine has enough to do (Scrapy's lazy start pattern).

        Scrapy consumes ``start()`` eagerly: without this, 100,000 ids would all wait as requests
        in the scheduler's memory queue, and memory would grow with the size of the crawl.
        """
        engine = self.crawler.engine
        if engine is not None and engine.needs_backout():
            await self.crawler.signals.wait_for(signals.scheduler_empty)

    def article_requests(self, inputs: list[str]) -> Iterator[scrapy.Request]:
        for raw in inputs:
            found = article_input(raw, self.fetch_template)
            if found is None:
                self._stat("qq/bad_input")
                logger.error("Not a qq.com article URL or id, skipped: %r", raw)
                continue
            ident, url = found
            if ident not in self.seen:
                self.seen.add(ident)
                yield self.article_request(ident, url)

    def article_request(self, ident: str, url: str = "") -> scrapy.Request:
        """The request for an article: at the URL given (a source's link), else at ``QQ_FETCH_URL``."""
        self._stat("qq/requested")
        url = url or fetch_url(ident, self.fetch_template)
        return self._article_get(ident, url, fallback_url(url, ident, self.fetch_template))

    def _article_get(self, ident: str, url: str, fallback: str | None, *, retry: bool = False) -> scrapy.Request:
        return scrapy.Request(
            url,
            callback=self.parse_article,
            errback=self.article_failed,
            cb_kwargs={"ident": ident},
            # qq_id is read by crawler.middlewares.dedup; qq_fallback is the canonical current URL
            # tried once when this one is gone (None: it is that URL, or the retry).
            meta={"qq_id": ident, "qq_fallback": fallback},
            # The retry is never filtered: nor is its redirect to the deleted-article page, which
            # the first request of this article (or of another deleted one) has already asked for.
            dont_filter=retry,
        )

    def at_canonical_url(self, ident: str, request: scrapy.Request, why: str) -> scrapy.Request | None:
        """The one retry of an article whose given URL is gone, at its canonical current URL."""
        url = request.meta.get("qq_fallback")
        if not url:
            return None
        self._stat("qq/fallback")
        given = request.meta.get("redirect_urls", [request.url])[0]
        logger.info("Article %s: %s at %s; trying %s", ident, why, given, url)
        return self._article_get(ident, url, None, retry=True)

    def deleted(self, ident: str, request: scrapy.Request) -> scrapy.Request | None:
        """An article request ended on the deleted-article page: its retry, else it is counted deleted."""
        retry = self.at_canonical_url(ident, request, "redirected to the deleted-article page")
        if retry is None:
            self._stat("qq/deleted")
            logger.info("Deleted article %s: redirected to %s", ident, request.url)
        return retry

    def dropped(self, request: scrapy.Request) -> None:
        """On request_dropped: every deleted article redirects to the same page, so the dupefilter
        drops that redirect after the first one of a run, and no callback would ever see it."""
        ident = request.meta.get("qq_id")
        if ident and DELETED_MARKER in request.url:
            retry = self.deleted(ident, request)
            if retry is not None and self.crawler.engine is not None:
                self.crawler.engine.crawl(retry)

    def stale(self, entry: Entry) -> bool:
        """Older than ``since`` or already written: such a page of a feed ends the paging."""
        return (self.since is not None and entry.older_than(self.since)) or self.already_written(entry.id)

    def follow(self, entry: Entry, source: str) -> scrapy.Request | None:
        """The request for a discovered entry, or None (seen this run, or skipped and counted)."""
        if entry.id in self.seen:
            return None
        self.seen.add(entry.id)
        skip = ""
        if self.since is not None and entry.older_than(self.since):
            skip = "old"
        elif self.already_written(entry.id):
            skip = "written"
        elif entry.kind == "video" and self.videos == "skip":
            skip = "video"
        elif entry.kind == "other":
            skip = f"type_{entry.type}"
        elif entry.paid:
            skip = "paid"
        if skip:
            self._stat(f"qq/skipped/{skip}")
            logger.debug("Skipped %s from %s: %s", entry.id, source, skip)
            return None
        return self.article_request(entry.id, entry.url)

    def parse_article(self, response: Response, ident: str) -> Iterator[Article | scrapy.Request]:
        if DELETED_MARKER in response.url:
            assert response.request is not None
            retry = self.deleted(ident, response.request)
            if retry is not None:
                yield retry
            return
        if not isinstance(response, TextResponse):
            self._stat("qq/dropped/not_html")
            logger.warning("Dropped %s: %s is not an HTML page", ident, response.url)
            return
        response, mismatch = true_charset(response)
        if mismatch:
            self._stat("qq/charset_mismatch")
            logger.warning("Charset of %s (%s): %s; read as its bytes", ident, response.url, mismatch)
        try:
            article = parse_article(response, self.link_template)
        except PageError as error:
            self._stat(f"qq/dropped/{error.reason}")
            logger.warning("Dropped %s (%s): %s", ident, response.url, error.detail)
            return
        if not same_article(ident, article.id):
            self._stat("qq/dropped/id_mismatch")
            logger.warning("Dropped %s (%s): the page is article %s, not %s", ident, response.url, article.id, ident)
            return
        if article.article_type in VIDEO_TYPES and self.videos == "skip":
            self._stat("qq/skipped/video")
            logger.info("Skipped %s (%s): a video (QQ_VIDEOS=skip)", ident, response.url)
            return
        if article.is_paid:
            self._stat("qq/skipped/paid")
            logger.info("Skipped %s (%s): a paid article", ident, response.url)
            return
        self._stat("qq/articles")
        yield article

    def article_failed(self, failure: Failure) -> Iterator[scrapy.Request]:
        """An article request failed: a given URL that is gone (404/410) is tried at the canonical one."""
        response = getattr(failure.value, "response", None)
        if response is not None and response.status in (404, 410):
            request = failure.request  # type: ignore[attr-defined]
            retry = self.at_canonical_url(request.meta["qq_id"], request, f"HTTP {response.status}")
            if retry is not None:
                yield retry
                return
        self.failed(failure)

    def failed(self, failure: Failure) -> None:
        request = failure.request  # type: ignore[attr-defined]
        prefix = request.meta.get("qq_source_stats", "qq/dropped")
        response = getattr(failure.value, "response", None)
        if response is not None:
            self._stat(f"{prefix}/http_{response.status}")
            logger.warning("Dropped %s: HTTP %s", request.url, response.status)
        else:
            self._stat(f"{prefix}/network")
            logger.warning("Dropped %s: %s", request.url, failure.getErrorMessage())

    # -- channel feeds ----------------------------------------------------------------------------

    def feed_request(self, channel: str, page: int) -> scrapy.Request:
        return JsonRequest(
            self.feed_url,
            data=feed_body(channel, page),
            headers=feed_headers(channel),
            callback=self.parse_feed,
            errback=self.failed,
            cb_kwargs={"channel": channel, "page": page},
            meta={"qq_source_stats": "qq/feed/bad"},
            # A feed page is news each time it is read: never filtered as seen (a dupefilter that
            # persists across runs, as in distributed mode, would otherwise read it only once).
            dont_filter=True,
        )

    def channel_requests(self, names: list[str]) -> Iterator[scrapy.Request]:
        """First feed pages of channels named at run time (distributed mode's ``channel:<name>``)."""
        for name in names:
            try:
                channel = channel_id(name)
            except ValueError as error:
                self._stat("qq/bad_input")
                logger.error("Not a channel, skipped: %s", error)
                continue
            yield self.feed_request(channel, 0)

    async def parse_feed(
        self, response: Response, channel: str, page: int, busy: int = 0
    ) -> AsyncIterator[scrapy.Request]:
        try:
            feed = parse_feed(response.body)
        except SourceError as error:
            if error.reason == "busy":
                retry = self.busy_retry(response, busy)
                if retry is not None:
                    # Back off exponentially: the feed says busy when asked too fast.
                    await asyncio.sleep(self.busy_delay * 2**busy)
                    yield retry
                    return
            self._stat(f"qq/feed/bad/{error.reason}")
            logger.warning("Bad feed answer for %s page %s (%s): %s", channel, page, response.url, error)
            return
        self._stat("qq/feed/pages")
        for bad in feed.bad_items:
            self._stat("qq/feed/bad/item")
            logger.warning("Bad feed item in %s page %s (%s): %s", channel, page, response.url, bad)
        for entry in feed.entries:
            request = self.follow(entry, f"{channel} page {page}")
            if request is not None:
                yield request
        if not feed.entries:
            logger.info("Feed %s ends at page %s: empty", channel, page)
        elif all(self.stale(e) for e in feed.entries):
            logger.info("Feed %s ends at page %s: every entry older than since or already written", channel, page)
        elif page + 1 >= self.pages:
            logger.info("Feed %s ends at page %s: pages=%s", channel, page, self.pages)
        else:
            yield self.feed_request(channel, page + 1)

    def busy_retry(self, response: Response, busy: int) -> scrapy.Request | None:
        """Scrapy's retry of a busy answer (stats, give-up log), or None after QQ_FEED_BUSY_RETRIES.

        The count travels in ``cb_kwargs``, not in ``meta["retry_times"]``: a callback yielding a
        request with that key is taken for a meta copy (MetaCopyDetectionMiddleware).
        """
        assert response.request is not None
        request = response.request.replace(meta={**response.request.meta, "retry_times": busy})
        retry = get_retry_request(
            request, spider=self, reason="busy", max_retry_times=self.busy_retries, stats_base_key="qq/feed/busy"
        )
        if retry is not None:
            retry.meta.pop("retry_times", None)
            retry.cb_kwargs["busy"] = busy + 1
        return retry

    # -- sitemaps ---------------------------------------------------------------------------------

    def sitemap_request(self, url: str) -> scrapy.Request:
        return scrapy.Request(
            url, callback=self.parse_sitemap, errback=self.failed, meta={"qq_source_stats": "qq/sitemap/bad"},
            dont_filter=True,  # read again on every run, like a feed page
        )

    def parse_sitemap(self, response: Response) -> Iterator[scrapy.Request]:
        try:
            links, entries = parse_sitemap(response.body, self.max_size)
        except SourceError as error:
            self._stat(f"qq/sitemap/bad/{error.reason}")
            logger.warning("Bad sitemap %s: %s", response.url, error)
            return
        for link in links:
            if self.since is not None and link.lastmod is not None and link.lastmod < self.since:
                self._stat("qq/sitemap/skipped_old")
                continue
            yield self.sitemap_request(link.url)
        if not links:
            self._stat("qq/sitemap/urlsets")
        for entry in entries:
            request = self.follow(entry, response.url)
            if request is not None:
                yield request
