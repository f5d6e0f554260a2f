"""The qq spider's article requests: the articles named by URL or id, the recent ones due for a
recheck (``UPDATE_WINDOW``), and the request for any article, asked for once per run.
Docs: docs/arguments.md, docs/updates.md.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from scrapy import Request, signals
from scrapy.crawler import Crawler

from crawler import ledger
from crawler.config import config_of
from crawler.qq.ids import NOT_ARTICLE_FORMS, article_input, fallback_url, fetch_url, not_article_form
from crawler.qq.seen import SeenIds
from crawler.spiders.fallback import Fallback
from crawler.stats import QQ_BAD_INPUT, QQ_BAD_INPUT_FORM, QQ_RECHECK, QQ_REQUESTED, QQ_SEEN_IN_MEMORY, inc
from crawler.store.extension import store_of

logger = logging.getLogger("crawler.spiders.qq")  # the spider's lines


class Articles:
    def __init__(self, crawler: Crawler, callback: Callable[..., Any], errback: Callable[..., Any]) -> None:
        self.crawler = crawler
        self.config = config_of(crawler)
        # The spider's bound methods, one each for every request (Scrapy caches its check of a
        # callback's source weakly on the callable: a fresh bound method per request misses it).
        self.callback, self.errback = callback, errback
        self.seen = SeenIds(on_fallback=lambda: inc(crawler, QQ_SEEN_IN_MEMORY))
        self.fallback = Fallback(crawler, self.get)
        crawler.signals.connect(self.seen.close, signal=signals.spider_closed)
        crawler.signals.connect(self.fallback.dropped, signal=signals.request_dropped)

    def named(self, inputs: list[str]) -> Iterator[Request]:
        """The requests for articles named by URL or id; anything else is bad input, named in one line."""
        for raw in inputs:
            found = article_input(raw, self.config.qq_fetch_url)
            if found is None:
                inc(self.crawler, QQ_BAD_INPUT)
                ledger.bad_input(self.crawler, raw)
                form = not_article_form(raw)
                if form is None:
                    logger.error("Not a qq.com article URL or id, skipped: %r", raw)
                else:
                    inc(self.crawler, QQ_BAD_INPUT_FORM, form=form)
                    logger.error("Not a qq.com article URL or id, skipped: %r is %s", raw, NOT_ARTICLE_FORMS[form])
                continue
            ident, url = found
            if self.seen.add(ident):
                yield self.request(ident, url)

    def rechecks(self) -> Iterator[Request]:
        """``UPDATE_WINDOW``: the recent written articles due for a recheck, in their own slot."""
        config = self.config
        if not config.update_window or config.update_budget <= 0 or not config.dedup_enabled:
            return
        due = store_of(self.crawler).due_rechecks(config.update_window, config.update_recheck_after, config.update_budget)
        logger.info("Rechecking %s recent articles (UPDATE_WINDOW %s)", len(due), self.crawler.settings["UPDATE_WINDOW"])
        for record in due:
            if self.seen.add(record.id):
                inc(self.crawler, QQ_RECHECK)
                yield self.request(record.id, recheck=True)

    def request(
        self, ident: str, url: str = "", updated: datetime | None = None, *, recheck: bool = False, listing: str = ""
    ) -> Request:
        """An article taken on: at the URL given (a source's link), else at ``QQ_FETCH_URL``.
        ``updated``: when its source says it last changed; ``listing``: its listing's digest."""
        inc(self.crawler, QQ_REQUESTED)
        ledger.take_on(self.crawler)
        template = self.config.qq_fetch_url
        url = url or fetch_url(ident, template)
        meta: dict[str, Any] = {}
        if updated is not None:
            meta["qq_updated"] = updated.isoformat()
        if listing:
            meta["qq_listing"] = listing
        if recheck:
            meta.update(qq_recheck=True, download_slot=self.config.update_download_slot)
        return self.get(ident, url, fallback_url(url, ident, template), meta)

    def get(self, ident: str, url: str, fallback: str | None, meta: dict[str, Any], *, retry: bool = False) -> Request:
        return Request(
            url,
            callback=self.callback,
            errback=self.errback,
            cb_kwargs={"ident": ident},
            # qq_id, qq_updated and qq_recheck are read by crawler.middlewares.dedup; qq_fallback is
            # the canonical current URL tried once when this one is gone (None: it is that URL, or the retry).
            meta={"qq_id": ident, "qq_fallback": fallback, **meta},
            # The retry is never filtered: nor is its redirect to the deleted-article page, which
            # the first request of this article (or of another deleted one) has already asked for.
            dont_filter=retry,
        )
