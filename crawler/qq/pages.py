"""A qq.com article page of any template generation -> Article (pure: a response in, an Article or a PageError out).

Decoded as what its bytes are (``true_charset``). The templates and what is read from each: docs/pages.md.
"""

from __future__ import annotations

import codecs
import html
import json
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from lxml import etree
from parsel.csstranslator import HTMLTranslator
from parsel.selector import create_root_node
from scrapy.http import TextResponse

from crawler.items import Article, Block
from crawler.qq import blocks as html_blocks
from crawler.qq.flags import flag
from crawler.qq.ids import article_id, canonical_url
from crawler.times import parse_time

TITLE_SUFFIXES = ("_腾讯新闻", "_腾讯网")
_DATA_RE = re.compile(r"window\.DATA\s*=\s*")
_ARTICLE_INFO_RE = re.compile(r"ARTICLE_INFO\s*=\s*(?:window\.ARTICLE_INFO\s*\|\|\s*)?\{")
_JS_STRING = r"""'(?:[^'\\]|\\[\s\S])*'|"(?:[^"\\]|\\[\s\S])*\""""
# Tokens of a JavaScript object literal: a key (name or string, then ``:``), a string, a bracket.
_JS_TOKEN_RE = re.compile(
    rf"(?P<key>(?:[A-Za-z_$][\w$]*|{_JS_STRING})\s*:)|(?P<str>{_JS_STRING})|(?P<open>[{{\[])|(?P<close>[}}\]])"
)
_JS_ESCAPE_RE = re.compile(r"\\(u\{[0-9A-Fa-f]{1,6}\}|u[0-9A-Fa-f]{4}|x[0-9A-Fa-f]{2}|0(?![0-9])|\r\n|[\s\S])")
_JS_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f", "v": "\v", "0": "\0"}
# A backslash before a line terminator is a line continuation: both vanish.
_JS_CONTINUATIONS = frozenset(["\n", "\r", "\r\n", "\u2028", "\u2029"])
_PLACEHOLDER_RE = re.compile(r"<!--\s*(IMG|VIDEO)_(\d+)\s*-->")
_SECURE_MARKER_RE = re.compile(r"<!--\s*SECURE_LINK_(BEGIN|END)_(\d+)\s*-->")
# The time in a pre-2012 page's #ArtFrom text (2009年06月14日08:36).
_ARCHIVE_TIME_RE = re.compile(r"\d{4}年\d{1,2}月\d{1,2}日\s*\d{1,2}:\d{2}")
_ARCHIVE_AD_TAGS = frozenset(["script", "iframe", "object", "embed"])


# Every query a template reads, compiled once: CSS translated as parsel translates it (``sel.css``);
# an id as the elements that hold an ``id`` attribute of that value (what ``#id`` selects, found
# three times faster than the translation's ``descendant-or-self::*[@id = '...']``).
_TRANSLATOR = HTMLTranslator()


def _css(query: str) -> etree.XPath:
    return etree.XPath(_TRANSLATOR.css_to_xpath(query), smart_strings=False)


def _by_id(ident: str) -> etree.XPath:
    return etree.XPath(f"//@id[. = '{ident}']/..", smart_strings=False)


_OLD_BODY = _by_id("Cnt-Main-Article-QQ")
_OMN_BODY = _css("div.content-article p.one-p, div.LEFT")
_OMN_CONTAINERS = _css("div.content-article")
_OMN_TITLE = _css("div.LEFT h1::text")
_ARTICLE_CONTENT = _by_id("article-content")
_DOM_TITLE_OR_OG = _css("h1#article-title, meta[property='og:title']")
_DOM_TITLE = _css("h1#article-title::text")
# Mid-2024: the article's <h1> inside .content-article, after a site pop-up's <h1> (never a bare h1).
_ARTICLE_H1 = _css("div.content-article h1")
_ANY_ARTICLE = _css("h1, #article-content")
_MEDIA_NAME = _css(".media-name::text")
_RICH_CONTAINERS = _css("#article-content .rich_media_content")
_TRANSITION_CONTAINERS = _by_id("ArticleContent")
_ARCHIVE_BODY = _by_id("ArticleCnt")
_ARCHIVE_TITLE = _by_id("ArticleTit")
_ARCHIVE_FROM = _by_id("ArtFrom")
_TITLE = _css("title::text")
_QNT_CONTAINERS = _css("#article-content .qnt-p")
_OLD_TITLE = _css("#C-Main-Article-QQ h1::text, .hd h1::text")
_OLD_TIME = _css("span.pubTime::text, span.a_time::text, span.article-time::text")
_OLD_MEDIA = _css("span.where::text, span.a_source::text, span.where a::text")


def _first(query: etree.XPath, root: etree._Element) -> str:
    """The first string ``query`` finds (``sel.css(...).get(default="")``)."""
    found = query(root)
    return found[0] if found else ""


class PageError(ValueError):
    """The page gives no article. ``reason`` is a short slug for logs and stats."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


Read = tuple[TextResponse, str, "str | None"]  # read_page(): the response as read, the mismatch, its UTF-8 text


def parse_article(
    response: TextResponse, link_template: str = "https://new.qq.com/rain/a/{id}", *, read: Read | None = None
) -> Article:
    """Extract the article of a qq.com page of any template generation, or raise PageError.
    ``read``: what ``read_page(response)`` gave, when the caller has it (the page is decoded once)."""
    response, _, utf8 = read if read is not None else _read(response)
    text = response.text if utf8 is None else utf8
    root = _parse(response, text, utf8 is not None)
    if _OLD_BODY(root) or _ARTICLE_INFO_RE.search(text):
        return _parse_old(response, text, root, link_template)
    data, data_error = _window_data(text)
    if data is None and _ARCHIVE_BODY(root):
        return _parse_pre2012(response, root, link_template)
    if data is not None and not data.get("originContent") and _OMN_BODY(root):
        return _parse_omn(response, root, data, link_template)
    return _parse_current(response, root, data, data_error, link_template)


def _parse(response: TextResponse, text: str, utf8: bool) -> etree._Element:
    """The page's tree as parsel parses it (``response.selector.root``), in plain lxml elements;
    flattened first when it nests too deep for libxml2. ``utf8``: ``text`` is the body as UTF-8."""
    if html_blocks.is_deep(text):
        # libxml2 would stop at its depth limit and lose the rest of the page: read it flattened.
        return create_root_node(html_blocks.flatten(text), etree.HTMLParser)
    if utf8:
        # The bytes parsel would make of the text (text.strip().replace("\x00", "").encode()) are the
        # stripped body when it has no NUL and starts and ends with non-space ASCII: parsed as they are.
        body = response.body.strip()
        first, last = body[:1], body[-1:]
        if body and first.isascii() and last.isascii() and not (first.decode().isspace() or last.decode().isspace()):
            if b"\x00" not in body:
                return create_root_node("", etree.HTMLParser, base_url=response.url, body=body)
    return create_root_node(text, etree.HTMLParser, base_url=response.url)


def true_charset(response: TextResponse) -> tuple[TextResponse, str]:
    """The response read as what its bytes are (UTF-8 or GB18030: docs/pages.md), and how the
    declaration was wrong ("" if it was not)."""
    response, mismatch, _ = _read(response)
    return response, mismatch


def read_page(response: TextResponse) -> Read:
    """``true_charset``, and the page's text when it is UTF-8: for ``parse_article(read=...)``."""
    return _read(response)


def _read(response: TextResponse) -> Read:
    """``true_charset``, and the text of the response it returns when that is its body decoded as
    UTF-8 (as ``response.text`` decodes it: a body read as UTF-8 without a byte order mark), else None."""
    body = response.body
    if body.isascii():
        return response, "", None
    declared = codecs.lookup(response.encoding).name
    utf8: str | None = None
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        cut = error.reason == "unexpected end of data"
        if declared != "utf-8" or cut:
            return response, "", None
        try:
            body.decode("gb18030")
        except UnicodeDecodeError:
            return response, "", None
        actual = "gb18030"
    else:
        utf8 = None if body.startswith(codecs.BOM_UTF8) else text
        if declared == "utf-8":
            return response, "", utf8
        actual = "utf-8"
    return response.replace(encoding=actual), f"declared {response.encoding}, but the bytes are {actual}", utf8


# -- window.DATA ------------------------------------------------------------------------------


def _window_data(text: str) -> tuple[dict[str, Any] | None, str]:
    """The ``window.DATA`` object, or None with the reason it could not be read."""
    match = _DATA_RE.search(text)
    if not match:
        return None, "no_data"
    try:
        data, _ = json.JSONDecoder().raw_decode(text, match.end())
    except ValueError as exc:
        return None, f"bad_json ({exc})"
    if not isinstance(data, dict):
        return None, "bad_json (not an object)"
    return data, ""


def _str(data: dict[str, Any] | None, *keys: str) -> str:
    """The first non-empty string value among ``keys``."""
    for key in keys:
        value = (data or {}).get(key)
        if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value).strip():
            return str(value).strip()
    return ""


class _Metas:
    """The page's ``<meta>`` values: ``metas(name)`` is the stripped ``content`` of the first
    ``<meta>`` whose ``property`` or ``name`` is ``name`` (read in one pass, on the first question)."""

    def __init__(self, root: etree._Element) -> None:
        self.root = root
        self.values: dict[str, str] | None = None

    def __call__(self, name: str) -> str:
        if self.values is None:
            self.values = {}
            for meta in self.root.iter("meta"):
                content = meta.get("content")
                if content is not None:
                    for key in (meta.get("property"), meta.get("name")):
                        if key is not None:
                            self.values.setdefault(key, content)
        return self.values.get(name, "").strip()


def _meta(root: etree._Element, name: str) -> str:
    return _Metas(root)(name)


def _strip_suffix(title: str) -> str:
    for suffix in TITLE_SUFFIXES:
        if title.endswith(suffix):
            return title[: -len(suffix)]
    return re.sub(r"_[^_]{1,6}_腾讯网$", "", title)


def _keywords(value: str, title: str = "") -> list[str]:
    """A comma list of keywords; older pages put the title first in their keywords meta."""
    return [k.strip() for k in re.split(r"[,，]", value) if k.strip() and k.strip() != title]


def _require(article: Article) -> Article:
    if not article.title:
        raise PageError("no_title", f"no title in the page data, h1 or og:title at {article.source_url}")
    if not any(b.kind != "image" and b.text.strip() for b in article.blocks) and not article.images:
        raise PageError("empty_body", f"the article body has no text and no image at {article.source_url}")
    return article


def _resolve_id(response: TextResponse, *candidates: str | Callable[[], str]) -> str:
    """The first article id among ``candidates`` (a callable is asked only when reached), then the URL."""
    for candidate in (*candidates, response.url):
        if callable(candidate):
            candidate = candidate()
        found = article_id(candidate) if candidate else None
        if found:
            return found
    raise PageError("no_id", f"no article id in the page or its URL {response.url}")


# -- current template ---------------------------------------------------------------------------


def _origin_blocks(data: dict[str, Any]) -> list[Block]:
    """``originContent.text`` with its IMG/VIDEO placeholders resolved through ``originAttribute``."""
    content = data.get("originContent")
    text = content.get("text") if isinstance(content, dict) else None
    if not isinstance(text, str) or not text.strip():
        return []
    attributes = data.get("originAttribute")
    attributes = attributes if isinstance(attributes, dict) else {}

    text = _secure_links(text, attributes)

    def resolve(match: re.Match[str]) -> str:
        attribute = attributes.get(f"{match.group(1)}_{match.group(2)}")
        if not isinstance(attribute, dict):
            return ""
        if match.group(1) == "VIDEO":
            vid = _str(attribute, "vid")
            title = _str(attribute, "title", "desc")
            # "<" as JSON writes it in a script, so no text of the page can end the script early.
            video = json.dumps({"vid": vid, "title": title, "img": _str(attribute, "img")}).replace("<", "\\u003c")
            return f"<script>videoArr.push({video})</script>" if vid else ""
        src = _str(attribute, "url", "origUrl", "imgurl1000", "imgurl0", "bigOrigUrl")
        return f'<img src="{html.escape(src)}">' if src else ""

    return html_blocks.blocks_from_html(_PLACEHOLDER_RE.sub(resolve, text))


def _secure_links(text: str, attributes: dict[str, Any]) -> str:
    """``<!--SECURE_LINK_BEGIN_n-->words<!--SECURE_LINK_END_n-->`` -> a link to the http(s) URL of
    ``originAttribute["SECURE_LINK_BEGIN_n"]`` (``url``), else the words alone; an unpaired marker goes."""
    if "SECURE_LINK_" not in text:
        return text
    pieces: list[str] = []
    opened: dict[str, int] = {}  # n -> where its <a> goes in pieces
    position = 0
    for marker in _SECURE_MARKER_RE.finditer(text):
        pieces.append(text[position : marker.start()])
        position = marker.end()
        kind, number = marker.group(1, 2)
        if kind == "BEGIN":
            opened[number] = len(pieces)
            pieces.append("")
            continue
        start = opened.pop(number, None)
        attribute = attributes.get(f"SECURE_LINK_BEGIN_{number}")
        target = html_blocks.absolute_url(_str(attribute, "url", "link", "href") if isinstance(attribute, dict) else "")
        if start is not None and target.lower().startswith(("http://", "https://")):
            pieces[start] = f'<a href="{html.escape(target)}">'
            pieces.append("</a>")
    pieces.append(text[position:])
    return "".join(pieces)


def _video_blocks(data: dict[str, Any]) -> list[Block]:
    """A video item's page has no body text: its videos (``videoArr``) are the body."""
    videos = data.get("videoArr")
    return [
        html_blocks.video_block(_str(video, "vid"), _str(video, "title", "desc"), _str(video, "img"))
        for video in (videos if isinstance(videos, list) else [])
        if isinstance(video, dict) and _str(video, "vid")
    ]


def _dom_blocks(root: etree._Element) -> list[Block]:
    containers = (
        _RICH_CONTAINERS(root) or _QNT_CONTAINERS(root) or _ARTICLE_CONTENT(root) or _TRANSITION_CONTAINERS(root)
    )
    return html_blocks.blocks_from_elements(containers)


def _dom_title(root: etree._Element) -> str:
    """``h1#article-title``, else the first ``<h1>`` inside ``.content-article`` (mid-2024 pages put
    a pop-up's ``<h1>`` first in the page: never taken)."""
    title = _first(_DOM_TITLE, root).strip()
    if title:
        return title
    headings = _ARTICLE_H1(root)
    return _text(headings[0]) if headings else ""


def _text(element: etree._Element) -> str:
    """An element's text, its runs of whitespace made one space."""
    return " ".join("".join(element.itertext()).split())


def _parse_current(
    response: TextResponse,
    root: etree._Element,
    data: dict[str, Any] | None,
    data_error: str,
    link_template: str,
) -> Article:
    meta = _Metas(root)
    if data is None and not (_ARTICLE_CONTENT(root) and _DOM_TITLE_OR_OG(root)):
        reason = data_error.split(" ", 1)[0]
        if reason == "no_data" and not _ANY_ARTICLE(root):
            reason = "not_article"
        raise PageError(reason, f"{data_error} at {response.url}")
    # Each field from window.DATA, else the DOM, else the meta tags; ``fell`` notes how far it fell.
    fell = {"data"}
    title = _str(data, "title")
    if not title:
        title = _dom_title(root)
        fell.add("dom" if title else "meta")
        title = title or _strip_suffix(meta("og:title"))
    pubtime = _str(data, "pubtime")
    if not pubtime:
        fell.add("meta")
        pubtime = meta("article:published_time")
    published = parse_time(pubtime)
    if published is None:
        raise PageError("no_date", f"no publish time ({pubtime!r}) at {response.url}")
    blocks = _origin_blocks(data or {})
    if not blocks:
        blocks = _dom_blocks(root)
        if blocks:
            fell.add("dom")
        else:
            blocks = _video_blocks(data or {})
    ident = _resolve_id(response, _str(data, "article_id", "cms_id", "cmsId"), lambda: meta("og:url"))
    return _require(
        Article(
            id=ident,
            url=canonical_url(ident, link_template),
            source_url=response.url,
            template="current",
            title=title,
            published=published,
            media=_str(data, "media") or meta("article:author") or _first(_MEDIA_NAME, root).strip(),
            channel=_str(data, "catalog1") or meta("category"),
            keywords=_keywords(_str(data, "tags") or meta("keywords")),
            share_image=html_blocks.absolute_url(_str(data, "shareImg") or meta("og:image")),
            blocks=blocks,
            article_type=_str(data, "article_type", "atype") or "0",
            is_paid=flag((data or {}).get("article_is_pay")),
            extraction="meta" if "meta" in fell else "dom" if "dom" in fell else "data",
        )
    )


# -- 2019-2024 template ---------------------------------------------------------------------------


def _parse_omn(response: TextResponse, root: etree._Element, data: dict[str, Any], link_template: str) -> Article:
    title = _str(data, "title") or _first(_OMN_TITLE, root).strip()
    published = parse_time(_str(data, "pubtime"))
    if published is None:
        raise PageError("no_date", f"no publish time in window.DATA at {response.url}")
    containers = _OMN_CONTAINERS(root)
    ident = _resolve_id(response, _str(data, "article_id", "cms_id"))
    return _require(
        Article(
            id=ident,
            url=canonical_url(ident, link_template),
            source_url=response.url,
            template="omn",
            title=title,
            published=published,
            media=_str(data, "media"),
            channel=_str(data, "catalog1"),
            keywords=_keywords(_str(data, "tags") or _meta(root, "keywords"), title),
            share_image=html_blocks.absolute_url(_str(data, "shareImg")),
            blocks=html_blocks.blocks_from_elements(containers),
            article_type=_str(data, "article_type") or "0",
            is_paid=flag(data.get("article_is_pay")),
        )
    )


# -- old CMS template -----------------------------------------------------------------------------


def _article_info(text: str) -> dict[str, str]:
    """The top-level string fields of ``ARTICLE_INFO = window.ARTICLE_INFO || {...}``, a JavaScript
    object literal (nested objects and arrays, such as ``topic``, ``tpl``, ``tags``, skipped whole)."""
    match = _ARTICLE_INFO_RE.search(text)
    if not match:
        return {}
    fields: dict[str, str] = {}
    depth, key = 1, ""
    for token in _JS_TOKEN_RE.finditer(text, match.end()):
        if token["open"]:
            depth, key = depth + 1, ""
        elif token["close"]:
            depth, key = depth - 1, ""
            if depth == 0:
                break
        elif token["key"]:
            name = token["key"][:-1].strip()
            key = js_unescape(name[1:-1]) if name[0] in "'\"" else name
            key = key if depth == 1 else ""
        else:
            if key:
                fields[key] = js_unescape(token["str"][1:-1])
            key = ""
    return fields


def js_unescape(value: str) -> str:
    """The text of a JavaScript string literal's body, escapes read as JavaScript reads them
    (``\\xHH``, ``\\uHHHH`` with surrogate pairs joined, ``\\u{H...}``; line continuations removed)."""

    def one(match: re.Match[str]) -> str:
        escape = match.group(1)
        if escape in _JS_CONTINUATIONS:
            return ""
        if escape in _JS_ESCAPES:
            return _JS_ESCAPES[escape]
        if escape[0] in "ux" and len(escape) > 1:
            code = int(escape.strip("ux{}"), 16)
            return chr(code) if code <= 0x10FFFF else escape
        return escape

    text = _JS_ESCAPE_RE.sub(one, value)
    if re.search("[\ud800-\udfff]", text):
        text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return text


def _parse_old(response: TextResponse, text: str, root: etree._Element, link_template: str) -> Article:
    info = _article_info(text)
    title = info.get("title", "").strip() or _first(_OLD_TITLE, root).strip()
    pubtime = info.get("pubtime", "") or _first(_OLD_TIME, root)
    published = parse_time(pubtime)
    if published is None:
        raise PageError("no_date", f"no publish time ({pubtime!r}) at {response.url}")
    containers = _OLD_BODY(root)
    if not containers:
        raise PageError("empty_body", f"no #Cnt-Main-Article-QQ at {response.url}")
    ident = _resolve_id(response, info.get("id", ""), info.get("article_url", ""))
    media = _first(_OLD_MEDIA, root).strip()
    return _require(
        Article(
            id=ident,
            url=canonical_url(ident, link_template),
            source_url=response.url,
            template="old",
            title=title,
            published=published,
            media=media,
            channel=info.get("site", ""),
            keywords=_keywords(_meta(root, "keywords"), title),
            share_image="",
            blocks=html_blocks.blocks_from_elements(containers),
        )
    )


# -- pre-2012 template ----------------------------------------------------------------------------


def _archive_body(container: etree._Element) -> etree._Element:
    """``#ArticleCnt`` without its ad tables (a ``<table>`` holding a script, frame or plugin),
    their tails kept; the scripts elsewhere are dropped by the walk."""
    for table in [t for t in container.iter("table") if any(e.tag in _ARCHIVE_AD_TAGS for e in t.iter())]:
        parent = table.getparent()
        if parent is None or any(a.tag == "table" and a is not table for a in table.iterancestors()):
            continue  # inside another ad table: removed with it
        tail = table.tail
        previous = table.getprevious()
        if tail:
            if previous is not None:
                previous.tail = (previous.tail or "") + tail
            else:
                parent.text = (parent.text or "") + tail
        parent.remove(table)
    return container


def _archive_title(root: etree._Element) -> str:
    """``#ArticleTit``, else the headline of ``<title>`` (``<headline>_<section>_<channel>_腾讯网``)."""
    found = _ARCHIVE_TITLE(root)
    title = _text(found[0]) if found else ""
    if title:
        return title
    parts = _first(_TITLE, root).strip().split("_")
    return "_".join(parts[:-3]).strip() if len(parts) >= 4 and parts[-1] == "腾讯网" else ""


def _parse_pre2012(response: TextResponse, root: etree._Element, link_template: str) -> Article:
    ident = _resolve_id(response)
    art_from = _ARCHIVE_FROM(root)
    stamp = _ARCHIVE_TIME_RE.search(_text(art_from[0])) if art_from else None
    extraction = "data"
    if stamp is not None:
        published = parse_time(stamp.group(0))
    else:
        # No time on the page: the day the URL (and id) carries, at midnight Beijing time.
        extraction = "url"
        published = parse_time(f"{ident[:4]}-{ident[4:6]}-{ident[6:8]} 00:00")
    if published is None:
        raise PageError("no_date", f"no publish time in #ArtFrom or the URL at {response.url}")
    # #ArtFrom: the source's link, the time, the channel's link (``http://ent.qq.com/``).
    links = list(art_from[0].iter("a")) if art_from else []
    media = _text(links[0]) if links else ""
    host = (urlsplit((links[1].get("href") or "").strip()).hostname or "").lower() if len(links) > 1 else ""
    channel = host.split(".", 1)[0] if host.endswith(".qq.com") and host.count(".") == 2 else ""
    return _require(
        Article(
            id=ident,
            url=canonical_url(ident, link_template),
            source_url=response.url,
            template="pre2012",
            title=_archive_title(root),
            published=published,
            media=media,
            channel="" if channel == "www" else channel,
            keywords=_keywords(_meta(root, "keywords")),
            share_image="",
            blocks=html_blocks.blocks_from_elements([_archive_body(c) for c in _ARCHIVE_BODY(root)[:1]]),
            extraction=extraction,
        )
    )
