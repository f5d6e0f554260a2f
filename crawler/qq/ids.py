"""qq.com URL forms -> one canonical article id -> the canonical link; what to fetch for an input
(pure). The id forms, the URL paths that carry one and the refused non-article URLs:
docs/arguments.md ("Article id forms").
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

# An id as it appears alone (upper case).
_CURRENT_ID = r"\d{8}[AV][0-9A-Z]{5}00"
_SHORT_ID = r"\d{8}[AV][0-9A-Z]{5}"
_ID_RE = re.compile(rf"^(?:{_CURRENT_ID}|{_SHORT_ID}|\d{{14}}|TWF\d{{14}}00)$")
_OLD_PATH_RE = re.compile(r"^/a/(\d{8})/(\d{6})\.htm$")
_PATH_RE = re.compile(
    r"^/(?:rain/a|omn/[0-9A-Za-z]{8}|omn|a|cmsid|cmsn/\d{8})/(?P<id>[0-9A-Za-z]+?)(?:\.html?)?/?$"
)
# qq.com paths known not to be articles -> the form's name (the stat ``qq/bad_input/<name>``).
_NOT_ARTICLE_PATHS = (
    (re.compile(r"^/omv/video/[^/]+/?$"), "video_page"),
    (re.compile(r"^/zt/template(?:/|/index\.html?)?$"), "topic_page"),
    (re.compile(r"^/omn/rose\.html?$"), "rose_page"),
    (re.compile(r"^/omn/author/[^/]+/?$"), "author_page"),
)
NOT_ARTICLE_FORMS = {
    "video_page": "a video page (new.qq.com/omv/video/<vid>): its vid is a v.qq.com video, not an article id",
    "topic_page": "a topic page (new.qq.com/zt/template/?id=...), not an article",
    "rose_page": "a rose.htm page (new.qq.com/omn/rose.htm?id=...), not an article",
    "author_page": "an author's page (new.qq.com/omn/author/<id>), not an article",
}

QQ_HOST_SUFFIX = "qq.com"
# The old CMS (/a/YYYYMMDD/NNNNNN.htm) served articles until the omn/rain templates of 2019.
OLD_TEMPLATE_UNTIL = "20190101"


def _bare_id(raw: str) -> str | None:
    """A bare id in upper case, as written, or None if it is not one of the known forms."""
    raw = raw.strip().upper()
    return raw if _ID_RE.match(raw) else None


def normalise_id(raw: str) -> str | None:
    """Return the canonical form of a bare article id, or None if it is not one."""
    bare = _bare_id(raw)
    if bare is None:
        return None
    if bare.startswith("TWF"):
        return bare[3:-2]
    if len(bare) == 14 and not bare.isdigit():
        return bare + "00"
    return bare


def _qq_url(text: str) -> tuple[str, str, str] | None:
    """(host, path, https URL without query and fragment) of a qq.com URL, else None."""
    parts = urlsplit(text if "//" in text else f"https://{text}")
    host = (parts.hostname or "").lower()
    if not (host == QQ_HOST_SUFFIX or host.endswith("." + QQ_HOST_SUFFIX)):
        return None
    netloc = host if parts.port is None else f"{host}:{parts.port}"
    return host, parts.path, urlunsplit(("https", netloc, parts.path, "", ""))


def _path_id(path: str) -> str | None:
    """The id a qq.com URL path carries, as written (upper case), else None."""
    old = _OLD_PATH_RE.match(path)
    if old:
        return old.group(1) + old.group(2)
    match = _PATH_RE.match(path)
    return _bare_id(match.group("id")) if match else None


def article_id(url_or_id: str) -> str | None:
    """Return the canonical id of an article URL (any known form) or bare id, else None."""
    text = url_or_id.strip()
    bare = normalise_id(text)
    if bare is not None:
        return bare
    found = _qq_url(text)
    if found is None:
        return None
    written = _path_id(found[1])
    return normalise_id(written) if written else None


def clean_url(url: str) -> str | None:
    """An article URL as fetched: ``https``, no query, no fragment; None if not a qq.com article URL."""
    found = _qq_url(url.strip())
    if found is None or _path_id(found[1]) is None:
        return None
    return found[2]


def not_article_form(raw: str) -> str | None:
    """The name of a known non-article qq.com URL form (``NOT_ARTICLE_FORMS``), else None."""
    found = _qq_url(raw.strip())
    if found is None:
        return None
    for pattern, name in _NOT_ARTICLE_PATHS:
        if pattern.match(found[1]):
            return name
    return None


def article_input(raw: str, fetch_template: str) -> tuple[str, str] | None:
    """One input (a URL of any form or a bare id) -> (canonical id, URL to fetch), else None.

    A URL is fetched as given (``clean_url``); a bare id at ``fetch_template``, as written.
    """
    text = raw.strip()
    bare = _bare_id(text)
    if bare is not None:
        return normalise_id(bare) or bare, fetch_url(bare, fetch_template)
    url = clean_url(text)
    ident = article_id(text)
    if url is None or ident is None:
        return None
    return ident, url


def fallback_url(url: str, ident: str, fetch_template: str) -> str | None:
    """The canonical current URL of ``ident`` to try once when ``url`` is gone; None if the same."""
    canonical = fetch_url(ident, fetch_template)
    return None if canonical == url else canonical


def same_article(requested: str, page_id: str) -> bool:
    """Whether a page's own id is the requested article: the same canonical id (a documented alias)."""
    own = article_id(page_id)
    return own is not None and own == article_id(requested)


def is_video_id(article: str) -> bool:
    """Current ids carry ``V`` after the date for video items."""
    return len(article) == 16 and article[8] == "V"


def canonical_url(article: str, template: str = "https://new.qq.com/rain/a/{id}") -> str:
    """The link back to an article, built from its id alone (never from the host that served it)."""
    return template.format(id=article)


def fetch_url(article: str, template: str) -> str:
    """The URL to fetch for an id: numeric ids from before 2019 live under the old /a/ path."""
    if re.fullmatch(r"\d{14}", article) and article[:8] < OLD_TEMPLATE_UNTIL:
        return f"https://news.qq.com/a/{article[:8]}/{article[8:]}.htm"
    return template.format(id=article)
