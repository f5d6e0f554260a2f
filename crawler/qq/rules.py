"""What the crawl leaves out, decided once for feed entries, sitemap entries and article pages.

``skip_reason()`` is the one rule: an entry (what a feed or sitemap says of an article, or what its
page says, through ``page_entry()``) is skipped as ``old`` (older than ``since``), ``video`` (a
video while ``QQ_VIDEOS`` is ``skip``), ``type_<n>`` (an article type that is neither an article
nor a video, e.g. 56) or ``paid``, checked in that order. The reason names the spider's stat
``qq/skipped/<reason>``. Whether the article is already written is not decided here: that is the
article store's answer.
"""

from __future__ import annotations

from datetime import datetime

from crawler.items import Article
from crawler.qq.feeds import Entry, entry_kind


def skip_reason(entry: Entry, since: datetime | None, videos: str) -> str | None:
    """Why ``entry`` is not fetched or written, or None when it is."""
    if since is not None and entry.older_than(since):
        return "old"
    if entry.kind == "video" and videos == "skip":
        return "video"
    if entry.kind == "other":
        return f"type_{entry.type}"
    if entry.paid:
        return "paid"
    return None


def page_entry(ident: str, article: Article) -> Entry:
    """What an article's own page says, as the entry the rule judges."""
    return Entry(
        id=ident,
        url=article.url,
        published=article.published,
        kind=entry_kind(article.article_type, ident),
        type=article.article_type,
        paid=article.is_paid,
        title=article.title,
    )
