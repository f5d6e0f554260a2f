"""An article body's HTML, of any page template, -> a list of Blocks in page order (pure; no I/O).

What qq.com's markup needs, and why not an HTML-to-Markdown library: docs/pages.md. Escaping and
Markdown syntax are ``crawler.render``'s.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from itertools import accumulate
from operator import sub
from urllib.parse import quote

from lxml import etree
from lxml import html as lxml_html
from lxml.etree import _Element

from crawler.items import Block, Span

# Elements whose whole subtree is page chrome, never article text.
DROP_TAGS = frozenset(
    "head script style noscript iframe svg button form input select textarea template "
    "map area link meta".split()
)
# Players and embeds: their own text is fallback ("your browser cannot play this"), but libxml2
# does not know that an unclosed <embed>, <video>... ends, and nests everything after it inside:
# the block elements within them are the article's, and are kept.
EMBED_TAGS = frozenset("audio video canvas object embed source track param picture".split())
# Chrome inside body containers, by class or id (page furniture, not the author's text).
DROP_CLASSES = frozenset(
    [
        "article-top-content",  # current: the "问AI" box above the body
        "ac-ask-ai",
        "mbArticleShareBtn",  # old: "转播到腾讯微博" share button over the lead image
        "rv-root-v2",  # old: related-video player widget
        "videoPlayerWrap",  # 2019-2024: empty player slot; the video itself comes from its <script>
    ]
)
# Links the page inserts by itself around keywords (AI cards, stock quotes, weibo accounts): the
# words stay, the link goes.
UNLINK_CLASSES = frozenset(["qnt-link", "a-tips-Article-QQ"])
UNLINK_MARKERS = ("pref=qqcom.keyword",)
DROP_IDS = frozenset(["tipsWBzf", "Status", "article-status", "relate-question", "ArticleBottom"])
# Bold-only lines that introduce page furniture rather than article text.
CHROME_LINES = frozenset(["精彩视频推荐", "相关视频", "相关阅读", "相关新闻", "推荐阅读"])

BLOCK_TAGS = frozenset(
    "p div section article figure header footer main aside table thead tbody tfoot tr td th "
    "dl dt dd center".split()
)
HEADING_TAGS = {"h1": 2, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
_BLOCK_LIKE = frozenset("ul ol li blockquote figcaption img br".split())
BOLD_TAGS = frozenset(["strong", "b"])
CODE_TAGS = frozenset(["code", "kbd", "samp", "tt"])
# Tags the walk does more with than follow their styles and block boundaries.
_SPECIAL_TAGS = frozenset(
    ["script", "iframe", "img", "br", "ul", "ol", "blockquote", "figcaption", *DROP_TAGS, *EMBED_TAGS, *HEADING_TAGS]
)

_VIDEO_PUSH_RE = re.compile(r"videoArr\.push\((\{.*?\})\)", re.S)
VIDEO_PAGE = "https://v.qq.com/x/page/{vid}.html"


def absolute_url(url: str) -> str:
    """Make a page URL absolute https: protocol-relative and http gtimg URLs become https."""
    url = url.strip()
    if url.startswith("//"):
        return "https:" + url
    if url.startswith("http://") and ".gtimg." in url:
        return "https://" + url[len("http://") :]
    return url


def _image_src(element: _Element) -> str:
    for attr in ("data-src", "src", "data-original"):
        value = (element.get(attr) or "").strip()
        if value and not value.startswith(("data:", "javascript:")):
            return absolute_url(value)
    return ""


class _Walker:
    """Collects blocks from an element tree; inline text accumulates until a block boundary."""

    def __init__(self) -> None:
        self.blocks: list[Block] = []
        self.spans: list[Span] = []
        self.kind: str = "paragraph"
        self.in_list_item = False  # a list inside an item is read by the outer list (see _list)
        self.reparsed = False  # an unclosed <iframe>'s text was read as HTML (see walk)
        self.blank: tuple[str, bool, bool, str | None] | None = None  # see text

    def flush(self) -> None:
        spans = self.spans
        if not spans:
            self.blank = None
            return
        self.spans = []
        text = (spans[0].text if len(spans) == 1 else "".join([s.text for s in spans])).strip()
        if not text or text in CHROME_LINES:
            return
        self.blocks.append(Block(kind=self.kind, spans=spans))  # type: ignore[arg-type]

    def text(self, text: str, bold: bool, code: bool, href: str | None) -> None:
        """Append non-empty ``text`` to the paragraph (to its last span when the style is the same)."""
        spans = self.spans
        if spans:
            last = spans[-1]
            if last.bold == bold and last.code == code and last.href == href:
                last.text += text
                return
        elif text.isspace() and self.blank is None:
            # Blank text opening a paragraph (the line break between two <p>) is kept aside: the
            # paragraph's first span if text follows, gone at the next flush if not (as a blank
            # paragraph is), without making a Span for it.
            self.blank = (text, bold, code, href)
            return
        elif self.blank is not None:
            spans.append(Span(*self.blank))
            self.blank = None
            self.text(text, bold, code, href)
            return
        spans.append(Span(text=text, bold=bold, code=code, href=href))

    def walk(self, element: _Element, bold: bool = False, code: bool = False, href: str | None = None) -> None:
        tag = element.tag
        if not isinstance(tag, str):
            return  # comments and processing instructions; their tails are read by the parent
        tag = tag.lower()
        special = tag in _SPECIAL_TAGS
        if special:
            if tag == "script":
                self._script(element)
                return
            if tag == "iframe" and "<" in (element.text or "") and not self.reparsed:
                # libxml2 reads an unclosed <iframe> as raw text to the end of the document: read
                # the article it swallowed (once: an iframe in there is dropped).
                self.reparsed = True
                root = lxml_html.fragment_fromstring(flatten(element.text or ""), create_parent="div", parser=_PARSER)
                self.walk(root, bold, code, href)
                return
            if tag in DROP_TAGS:
                return
        if element.get("id") in DROP_IDS:
            return
        classes = element.get("class")
        names = classes.split() if classes else ()
        if names and not DROP_CLASSES.isdisjoint(names):
            return
        if special:
            self._special(element, tag, bold, code, href)
            return
        if tag in BOLD_TAGS:
            bold = True
        elif tag in CODE_TAGS:
            code = True
        elif tag == "a":
            link = absolute_url(element.get("href") or "")
            if link.startswith(("http://", "https://")) and not any(m in link for m in UNLINK_MARKERS):
                href = link
        if names and not UNLINK_CLASSES.isdisjoint(names):
            href = None
        if tag in BLOCK_TAGS:
            self.flush()
            self.children(element, bold, code, href)
            self.flush()
        else:
            self.children(element, bold, code, href)

    def _special(self, element: _Element, tag: str, bold: bool, code: bool, href: str | None) -> None:
        """Embeds, images, breaks, lists, headings, quotes and captions (not dropped)."""
        if tag in EMBED_TAGS:
            self._embedded(element, bold, code, href)
        elif tag == "img":
            src = _image_src(element)
            if src:
                self.flush()
                self.blocks.append(Block(kind="image", src=src))
        elif tag == "br":
            self.flush()
        elif tag in ("ul", "ol"):
            self.flush()
            if not self.in_list_item:
                self._list(element, ordered=tag == "ol")
        elif tag in HEADING_TAGS:
            self.flush()
            inner = _Walker()
            inner.kind = "heading"
            inner.children(element, bold=False, code=code, href=href)
            inner.flush()
            for block in inner.blocks:
                if block.kind == "heading":
                    block.level = HEADING_TAGS[tag]
                    for span in block.spans:
                        span.bold = False
            self.blocks.extend(inner.blocks)
        else:  # blockquote, figcaption
            self.flush()
            previous, self.kind = self.kind, "quote" if tag == "blockquote" else "caption"
            self.children(element, bold, code, href)
            self.flush()
            self.kind = previous

    def children(self, element: _Element, bold: bool, code: bool, href: str | None) -> None:
        text = element.text
        if text:
            self.text(text, bold, code, href)
        for child in element:
            self.walk(child, bold, code, href)
            text = child.tail
            if text:
                self.text(text, bold, code, href)

    def _embedded(self, element: _Element, bold: bool, code: bool, href: str | None) -> None:
        """A player's block-level children (with what follows them), never its fallback text."""
        for child in element:
            tag = child.tag.lower() if isinstance(child.tag, str) else ""
            if tag in EMBED_TAGS or tag in BLOCK_TAGS or tag in HEADING_TAGS or tag in _BLOCK_LIKE:
                self.walk(child, bold, code, href)
                if child.tail:
                    self.text(child.tail, bold, code, href)

    def _list(self, element: _Element, ordered: bool) -> None:
        items: list[list[Span]] = []
        # Every item of the list and of the lists nested in it, in page order, one level: each
        # item's walk skips its nested lists, whose items come next in this loop.
        for li in element.iter("li"):
            inner = _Walker()
            inner.in_list_item = True
            inner.children(li, False, False, None)
            inner.flush()
            spans = [s for b in inner.blocks if b.spans for s in b.spans]
            if any(s.text.strip() for s in spans):
                items.append(spans)
        if items:
            self.blocks.append(Block(kind="list", items=items, ordered=ordered))

    def _script(self, element: _Element) -> None:
        """2019-2024 pages declare each video where it stands: ``window.DATA.videoArr.push({...})``."""
        for match in _VIDEO_PUSH_RE.finditer(element.text or ""):
            try:
                video = json.loads(match.group(1))
            except ValueError:
                continue
            if isinstance(video, dict) and video.get("vid"):
                self.flush()
                self.blocks.append(video_block(str(video["vid"]), str(video.get("title") or ""), str(video.get("img") or "")))


def video_block(vid: str, title: str, cover: str = "") -> Block:
    """A video as a block: its page on v.qq.com, with its title as the link text, and its cover
    image (absolute; only an http(s) URL is kept)."""
    # The vid is the page's word: quoted, it stays one path segment of v.qq.com whatever it holds.
    cover = absolute_url(cover)
    return Block(
        kind="video",
        src=VIDEO_PAGE.format(vid=quote(vid, safe="")),
        spans=[Span(text=title or vid)],
        cover=cover if cover.lower().startswith(("http://", "https://")) else "",
    )


def blocks_from_elements(elements: Iterable[_Element]) -> list[Block]:
    """Blocks of the given body containers, in order."""
    walker = _Walker()
    for element in elements:
        walker.walk(element)
        walker.flush()
    return walker.blocks


def blocks_from_html(fragment: str) -> list[Block]:
    """Blocks of an HTML fragment (such as ``originContent.text``)."""
    if not fragment.strip():
        return []
    # NUL is dropped as parsel drops it from whole pages (libxml2 would make it U+FFFD).
    html = flatten(fragment.replace("\x00", ""))
    body = None if _FULL_HTML_RE.match(html) else etree.fromstring(f"<html><body>{html}</body></html>", _PARSER)
    bodies = [e for e in body if e.tag == "body"] if body is not None and body.tag == "html" else []
    if len(bodies) != 1:
        # What lxml makes of it (and the errors it raises).
        return blocks_from_elements([lxml_html.fragment_fromstring(html, create_parent="div", parser=_PARSER)])
    # The walk of ``lxml.html.fragment_fromstring(html, create_parent="div")``, without moving the
    # body's children into that new <div>: its text is the body's unless blank, then its children.
    body = bodies[0]
    walker = _Walker()
    text = body.text
    if text and text.strip():
        walker.text(text, False, False, None)
    for child in body:
        walker.walk(child)
        if child.tail:
            walker.text(child.tail, False, False, None)
    walker.flush()
    return walker.blocks


# Deep nesting. libxml2 stops reading a document nested deeper than 256 elements (2048 with
# huge_tree) and silently drops the rest, and the walk above recurses once per level. No article
# nests that deep; a page that does (hostile or broken) is flattened first: tags opened below
# MAX_DEPTH are removed with their end tags, their text stays in its place in the deepest element.
MAX_DEPTH = 128
# Plain lxml elements: lxml.html's own classes cost a Python call per element the walk touches.
_PARSER = etree.HTMLParser(huge_tree=True)
# A tag (its end at the first ">" outside quotes) or a comment; and a raw-text element whole. Written
# with possessive loops rather than lazy ones (``.*?``): the same matches, several times cheaper
# (tests/test_depth.py compares them with the lazy forms).
_TAG_RE = re.compile(
    r"<(/?)([A-Za-z][A-Za-z0-9:-]*)\b(?:[^>\"'/]++|/(?!>)|\"[^\"]*+\"|'[^']*+')*+(/?)>|<!--(?:[^-]++|-(?!->))*+-->"
)
_RAW_RE = re.compile(r"<(script|style|textarea|title|xmp)\b(?:[^<]++|<(?!/\1\s*>))*+</\1\s*>", re.I)
_START_RE = re.compile(r"<[A-Za-z]")
_START_OR_LT_RE = re.compile(r"<[A-Za-z<]")
_FULL_HTML_RE = re.compile(r"^\s*<(?:html|!doctype)", re.I)  # lxml.html's _looks_like_full_html_unicode
VOID_TAGS = frozenset("area base br col embed hr img input link meta param source track wbr".split())


def max_depth(html: str) -> int:
    """How deep elements nest in ``html``, counting every start tag not yet ended (an upper bound:
    the parser closes some elements by itself, such as a ``<p>`` before another)."""
    return _depth(_RAW_RE.sub("", html))


def _depth(stripped: str) -> int:
    # +1 per start tag, -1 per end tag, 0 for comments, void and self-closing tags; the depth never
    # goes below 0, so after each tag it is the running sum minus the lowest running sum so far.
    steps = [
        0 if self_closing or not name or name.lower() in VOID_TAGS else -1 if closing else 1
        for closing, name, self_closing in _TAG_RE.findall(stripped)
    ]
    if not steps:
        return 0
    sums = list(accumulate(steps))
    return max(0, max(map(sub, sums, accumulate(sums, min))), max(sums))


def is_deep(html: str, limit: int = MAX_DEPTH) -> bool:
    """``max_depth(html) > limit``, answered at once for the pages with fewer start tags than that."""
    # Every start tag begins "<" and a letter once the raw-text elements are removed: in the page as
    # it is, that "<" is followed by the letter or by a removed element's "<", so pages with few
    # enough of those need not even be stripped.
    if len(html) <= 256 * limit and len(_START_OR_LT_RE.findall(html)) <= limit:
        return False  # (a longer page has more of them: counting would be a waste)
    stripped = _RAW_RE.sub("", html)
    return len(_START_RE.findall(stripped)) > limit and _depth(stripped) > limit


def flatten(html: str, limit: int = MAX_DEPTH) -> str:
    """``html`` with the tags nested deeper than ``limit`` removed (their text kept); unchanged
    when nothing nests that deep, so ordinary pages are read exactly as written."""
    if not is_deep(html, limit):
        return html
    out: list[str] = []
    stack: list[tuple[str, bool]] = []  # open tags: (name, kept)
    kept_open = 0
    position = 0
    raw_spans = [m.span() for m in _RAW_RE.finditer(html)]
    for match in _TAG_RE.finditer(html):
        if any(start <= match.start() < end for start, end in raw_spans):
            continue
        closing, name, self_closing = match.group(1, 2, 3)
        if name is None or name.lower() in VOID_TAGS or self_closing:
            continue
        out.append(html[position : match.start()])
        position = match.end()
        name = name.lower()
        if not closing:
            kept = kept_open < limit
            stack.append((name, kept))
            if kept:
                kept_open += 1
                out.append(match.group(0))
            continue
        for index in range(len(stack) - 1, -1, -1):
            if stack[index][0] == name:
                if stack[index][1]:
                    out.append(match.group(0))
                kept_open -= sum(1 for _, kept in stack[index:] if kept)
                del stack[index:]
                break
    out.append(html[position:])
    return "".join(out)
