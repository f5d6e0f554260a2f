"""The canonical-URL fallback and the deleted-article page, as facts about requests (pure).

An article is fetched at the URL it was given; when that one is gone (HTTP 404/410, or a redirect
to qq.com's deleted-article page) it is asked once more at its canonical current URL, carried in
``meta["qq_fallback"]``. What the spider does with these: ``crawler.spiders.fallback``.
"""

from __future__ import annotations

from typing import Any

from scrapy import Request

# Every deleted article redirects to this page (``https://www.qq.com/babygohome/...``).
DELETED_MARKER = "babygohome"


def is_deleted_page(url: str) -> bool:
    """Whether ``url`` is qq.com's deleted-article page."""
    return DELETED_MARKER in url


def given_url(request: Request) -> str:
    """The URL first asked for, before any redirect."""
    return str(request.meta.get("redirect_urls", [request.url])[0])


def retry_meta(meta: dict[str, Any]) -> dict[str, Any]:
    """What the retry keeps of the request's meta: what was decided about it (the ``qq_*`` keys and
    its download slot), not its id or its URL's fallback (the retry sets its own)."""
    return {
        key: value
        for key, value in meta.items()
        if (key.startswith("qq_") or key == "download_slot") and key not in ("qq_id", "qq_fallback")
    }
