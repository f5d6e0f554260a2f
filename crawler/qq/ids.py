"""qq.com URL forms -> one canonical article id -> the canonical link.

Every form of an article URL that Tencent has used maps to one id, so the crawler fetches an
article once per run and the output links back to it the same way whatever host served it:

* current ids: ``YYYYMMDD`` + ``A`` (article) or ``V`` (video) + 5 characters + ``00``
  (``20250207A090J800``), under ``news.qq.com/rain/a/``, ``new.qq.com/rain/a/``,
  ``new.qq.com/omn/YYYYMMDD/<id>.html`` and ``view.inews.qq.com/a/``;
* 2019-2021 numeric ids (``20210426003469``), also written as cms ids ``TWF2021042600346900``;
* old CMS pages ``<site>.qq.com/a/YYYYMMDD/NNNNNN.htm``, whose id (as in ``ARTICLE_INFO.id``) is the
  date followed by the number: ``20161014006270``.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

# An id as it appears alone: a current id, a numeric 14-digit id, or a TWF cms id.
_CURRENT_ID = r"\d{8}[AV][0-9A-Z]{5}00"
_ID_RE = re.compile(rf"^(?:{_CURRENT_ID}|\d{{14}}|TWF\d{{14}}00)$")
_OLD_PATH_RE = re.compile(r"^/a/(\d{8})/(\d{6})\.htm$")
_PATH_RE = re.compile(
    r"^/(?:rain/a|omn/\d{8}|omn|a|cmsid)/(?P<id>[0-9A-Z]+?)(?:\.html?)?/?$"
)

QQ_HOST_SUFFIX = "qq.com"
# The old CMS (/a/YYYYMMDD/NNNNNN.htm) served articles until the omn/rain templates of 2019.
OLD_TEMPLATE_UNTIL = "20190101"


def normalise_id(raw: str) -> str | None:
    """Return the canonical form of a bare article id, or None if it is not one."""
    raw = raw.strip().upper()
    if not _ID_RE.match(raw):
        return None
    if raw.startswith("TWF"):
        return raw[3:-2]
    return raw


def article_id(url_or_id: str) -> str | None:
    """Return the canonical id of an article URL (any known form) or bare id, else None."""
    text = url_or_id.strip()
    bare = normalise_id(text)
    if bare is not None:
        return bare
    parts = urlsplit(text if "//" in text else f"https://{text}")
    host = (parts.hostname or "").lower()
    if not (host == QQ_HOST_SUFFIX or host.endswith("." + QQ_HOST_SUFFIX)):
        return None
    old = _OLD_PATH_RE.match(parts.path)
    if old:
        return old.group(1) + old.group(2)
    match = _PATH_RE.match(parts.path)
    if match:
        return normalise_id(match.group("id"))
    return None


def is_video_id(article: str) -> bool:
    """Current ids carry ``V`` after the date for video items."""
    return len(article) == 16 and article[8] == "V"


def canonical_url(article: str, template: str = "https://new.qq.com/rain/a/{id}") -> str:
    """The link back to an article, built from its id alone (never from the host that served it)."""
    return template.format(id=article)


def fetch_url(article: str, template: str = "https://news.qq.com/rain/a/{id}") -> str:
    """The URL to fetch for an id: numeric ids from before 2019 live under the old /a/ path."""
    if re.fullmatch(r"\d{14}", article) and article[:8] < OLD_TEMPLATE_UNTIL:
        return f"https://news.qq.com/a/{article[:8]}/{article[8:]}.htm"
    return template.format(id=article)
