"""The judgement of an article page (pure): the response in; the article, or why there is none, out.

The spider counts, logs and records what this says (``crawler.spiders.pages``);
the rules themselves live in ``crawler.qq.pages`` (reading), ``crawler.qq.ids`` (the same article)
and ``crawler.qq.rules`` (what is skipped).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from scrapy.http import Response, TextResponse

from crawler.items import Article
from crawler.qq.ids import same_article
from crawler.qq.pages import PageError, parse_article, read_page
from crawler.qq.rules import page_entry, skip_reason


@dataclass(frozen=True)
class PageJudgement:
    response: Response  # as read: decoded as its bytes when its declared charset lied
    article: Article | None = None  # the article to hand on; None when dropped or skipped
    charset_mismatch: str = ""  # how the declared charset disagreed with the bytes
    extraction: str = ""  # how the page was read (``Article.extraction``); "" when it could not be
    dropped: str = ""  # the reason it gives no article (``qq/dropped/<reason>``)
    skipped: str = ""  # the rule it falls under (``qq/skipped/<reason>``)
    why: str = ""  # the words after "Dropped <id>" in the log line


def judge_page(response: Response, ident: str, link_template: str, videos: str) -> PageJudgement:
    """The page asked for as article ``ident``: its article, or why it gives none. A page is judged
    by the rule feeds and sitemaps are, on what it says, without ``since``: an article named by the
    arguments is fetched whatever its date, and a listed one was judged already."""
    if not isinstance(response, TextResponse):
        return PageJudgement(response, dropped="not_html", why=f": {response.url} is not an HTML page")
    read = read_page(response)  # decoded once, for the charset check and the parse
    response, mismatch = read[0], read[1]
    try:
        article = parse_article(response, link_template, read=read)
    except PageError as error:
        return PageJudgement(response, charset_mismatch=mismatch or "", dropped=error.reason,
                             why=f" ({response.url}): {error.detail}")  # fmt: skip
    read = PageJudgement(response, charset_mismatch=mismatch or "", extraction=article.extraction)
    if not same_article(ident, article.id):
        why = f" ({response.url}): the page is article {article.id}, not {ident}"
        return replace(read, dropped="id_mismatch", why=why)
    skip = skip_reason(page_entry(ident, article), None, videos)
    if skip is not None:
        return replace(read, skipped=skip)
    updated = response.meta.get("qq_updated")
    article.updated = datetime.fromisoformat(updated) if updated else None
    carry_change_evidence(article, response.meta)
    return replace(read, article=article)


def carry_change_evidence(article: Article, meta: dict[str, Any]) -> None:
    """What the plan pipeline records to judge the next change (docs/updates.md): the listing
    digest, why it was fetched again, the page's validators (``crawler.middlewares.conditional``)."""
    article.listing = meta.get("qq_listing", "")
    article.refetch = meta.get("qq_refetch", "")
    article.etag, article.last_modified = meta.get("qq_validators", ("", ""))
