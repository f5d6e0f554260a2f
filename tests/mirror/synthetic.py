"""A synthetic but real-shaped qq.com on loopback, for benchmarks: N distinct articles, no disk.

Every article is generated on request, deterministically from its id, out of the real page
templates in ``tests/fixtures/pages/``:

* ``current`` (most articles): the real 2026 page ``current-rich-20260810A0BO7100.html`` with its
  ``window.DATA`` (title, pubtime, media, ``originContent.text`` with ``<!--IMG_n-->`` placeholders,
  ``originAttribute``) and its server-rendered ``#article-content`` replaced by the generated article;
* ``omn`` (one in ``OMN_EVERY``): the real 2021 page ``omn-video-20210426003469.html`` with its
  ``window.DATA`` and ``div.content-article`` (``p.one-p``, ``img.content-picture``) replaced.

Text is drawn from the sentences of the real fixture articles; the number of paragraphs (3-60),
sentences per paragraph, sub-headings and images (0-12) vary per article, so page sizes vary from
a few KB to ~60 KB like the real site. Ids encode the article's index (``index_of``), so 100,000
articles cost nothing until they are requested.

Routes (under the mirror's ``/<host>/<path>`` scheme, see ``crawler/mirror.py``):

* ``/<any>.qq.com/rain/a/<id>`` (and ``/omn/…``, ``/a/<id>``): the article page;
* ``POST /i.news.qq.com/web_feed/getPCList`` with the real JSON body (``{"page": N, ...}``), or
  ``GET …/getPCList?page=N``: a feed page in the real response shape of
  ``bench/fixtures/getPCList-item.json`` (an item of the real sample), ``FEED_PAGE_SIZE`` items,
  newest first; past the last article ``data`` is ``[]``;
* ``/inews.gtimg.com/…``: JPEG bytes (a few real JPEGs made with Pillow, chosen by the path);
* ``/<host>/robots.txt``: allow everything.

``SyntheticSite.counts`` counts requests by kind (``article``, ``feed``, ``image``, ``robots``,
``missing``), which is how the benchmarks know how many pages a crawl really fetched.

Run by hand: ``python -m tests.mirror.synthetic --articles 2000 --port 8766``.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import io
import json
import random
import re
import string
import threading
from collections import Counter
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
PAGES = ROOT / "tests" / "fixtures" / "pages"
CURRENT_PAGE = PAGES / "current-rich-20260810A0BO7100.html"
OMN_PAGE = PAGES / "omn-video-20210426003469.html"
FEED_SAMPLE = ROOT / "bench" / "fixtures" / "getPCList-item.json"  # data[1] of the real getPCList sample
OMN_EVERY = 7  # one article in 7 uses the 2019-2024 template
FEED_PAGE_SIZE = 20
ARTICLES_PER_DAY = 5000
MAX_ARTICLES = 1_000_000  # numeric (omn) ids keep the index in 6 digits
FIRST_DAY = datetime(2026, 1, 1, 8, 0, 0)
_B36 = string.digits + string.ascii_uppercase
_DATA_RE = re.compile(r"window\.DATA\s*=\s*")
_ARTICLE_RE = re.compile(r"^/[^/]+\.qq\.com/(?:rain/a|omn/\d{8}|omn|a)/(?P<id>[0-9A-Z]+?)(?:\.html)?/?$")


# -- ids: the index of an article is in its id ------------------------------------------------------


def article_ident(index: int) -> str:
    """The id of article ``index``: current ``YYYYMMDDA<5 base36>00``, or numeric for omn ones."""
    day = (FIRST_DAY + timedelta(days=index // ARTICLES_PER_DAY)).strftime("%Y%m%d")
    if index % OMN_EVERY == OMN_EVERY - 1:
        # 2019-2021 numeric ids are date + 6 digits; the omn template is dated 2021.
        return f"2021{day[4:]}{index:06d}"
    digits = ""
    value = index
    for _ in range(5):
        value, rest = divmod(value, 36)
        digits = _B36[rest] + digits
    return f"{day}A{digits}00"


def index_of(ident: str) -> int | None:
    """Inverse of ``article_ident``, or None for an id the site never made."""
    try:
        if len(ident) == 14 and ident.isdigit():
            index = int(ident[8:])
        elif len(ident) == 16 and ident[8] == "A" and ident.endswith("00"):
            index = int(ident[9:14], 36)
        else:
            return None
    except ValueError:
        return None
    return index if article_ident(index) == ident else None


# -- building blocks taken from the real fixtures ---------------------------------------------------


def _sentences() -> list[str]:
    """Sentences of the real fixture articles (the text the generated articles are made of)."""
    texts: list[str] = []
    for page in (CURRENT_PAGE, OMN_PAGE, PAGES / "seed-20250207A090J800.html"):
        html = page.read_text(encoding="utf-8")
        texts += re.findall(r"<p[^>]*>([^<>]{6,})</p>", html)
        texts += re.findall(r"<span[^>]*>([^<>]{12,})</span>", html)
    out: list[str] = []
    for text in texts:
        out += [s.strip() + "。" for s in re.split(r"[。！？]", text) if len(s.strip()) >= 4]
    return sorted(set(out))


def _jpegs() -> list[bytes]:
    """A few real JPEGs of photo-like sizes (gradients and noise, so they compress like photos)."""
    from PIL import Image

    out: list[bytes] = []
    rng = random.Random(7)
    for width, height in ((640, 360), (1000, 667), (641, 789), (1080, 720), (800, 800), (500, 281)):
        image = Image.effect_noise((width, height), 40).convert("RGB")
        tint = Image.new("RGB", (width, height), (rng.randrange(256), rng.randrange(256), rng.randrange(256)))
        image = Image.blend(image, tint, 0.5)
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=80)
        out.append(buffer.getvalue())
    return out


class Templates:
    """The real pages cut into parts around what each article replaces."""

    def __init__(self) -> None:
        self.current = self._cut_current(CURRENT_PAGE.read_text(encoding="utf-8"))
        self.omn = self._cut_omn(OMN_PAGE.read_text(encoding="utf-8"))
        self.sentences = _sentences()

    @staticmethod
    def _data(html: str) -> tuple[dict[str, Any], int, int]:
        match = _DATA_RE.search(html)
        assert match, "template has window.DATA"
        data, end = json.JSONDecoder().raw_decode(html, match.end())
        return data, match.end(), end

    def _cut_current(self, html: str) -> dict[str, Any]:
        data, start, end = self._data(html)
        body_start = html.index('<div class="rich_media_content">', end)
        body_end = html.index("</section></div>", body_start) + len("</section></div>")
        head, tail = html[:start], html[end:body_start]
        rest = html[body_end:]
        title, ident, shown = data["title"], data["article_id"], data["pubtime"][:16]
        # The page's share image (og:image, what the crawler takes as the thumbnail) becomes the
        # article's own cover, so every article has a thumbnail of its own to download.
        cover = re.search(r'og:image" content="([^"]+)"', head)
        assert cover, "template has og:image"
        head = head.replace(cover[1], "\0COVER\0")
        parts = [part.replace(title, "\0TITLE\0").replace(ident, "\0ID\0").replace(shown, "\0TIME\0")
                 for part in (head, tail, rest)]
        return {"data": data, "parts": parts}

    def _cut_omn(self, html: str) -> dict[str, Any]:
        data, start, end = self._data(html)
        body_start = html.index("<!--导语-->", end)
        body_end = html.index('<div id="Status"></div>', body_start)
        title = data["title"]
        parts = [part.replace(title, "\0TITLE\0") for part in (html[:start], html[end:body_start], html[body_end:])]
        return {"data": data, "parts": parts}


def _fill(part: str, values: dict[str, str]) -> str:
    for key, value in values.items():
        part = part.replace(f"\0{key}\0", value)
    return part


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def image_url(ident: str, number: int) -> str:
    token = hashlib.sha1(f"{ident}/{number}".encode()).hexdigest()[:40]
    return f"https://inews.gtimg.com/news_bt/O{token}AA/641"


def cover_url(ident: str) -> str:
    """The article's share image: its thumbnail on the page (2026 template) and its feed cover."""
    return image_url(ident, 99)


class SyntheticSite:
    """N generated articles, their feed pages and their images; ``serve()`` puts them on loopback."""

    def __init__(self, articles: int = 2000, feed_page_size: int = FEED_PAGE_SIZE) -> None:
        if not 0 < articles <= MAX_ARTICLES:
            raise ValueError(f"a synthetic site has 1 to {MAX_ARTICLES} articles, not {articles}")
        self.size = articles
        self.feed_page_size = feed_page_size
        self.templates = Templates()
        self.jpegs = _jpegs()
        self.feed_item = json.loads(FEED_SAMPLE.read_text(encoding="utf-8"))
        self.counts: Counter[str] = Counter()
        # (feed page, article pages served before it was asked for), in the order asked: how far
        # the crawl's feed paging runs ahead of its article fetches.
        self.feed_log: list[tuple[int, int]] = []
        self._lock = threading.Lock()

    # -- content ---------------------------------------------------------------------------------

    def ids(self, count: int | None = None) -> list[str]:
        """The ids of the first ``count`` articles (all by default), oldest first."""
        return [article_ident(i) for i in range(min(count if count is not None else self.size, self.size))]

    def published(self, index: int) -> datetime:
        return FIRST_DAY + timedelta(days=index // ARTICLES_PER_DAY, seconds=(index % ARTICLES_PER_DAY) * 13)

    def content(self, ident: str) -> dict[str, Any]:
        """The generated article: title, paragraphs (text or image numbers), media, time."""
        rng = random.Random(ident)
        sentences = self.templates.sentences
        paragraphs: list[tuple[str, str]] = []  # (kind, text) with kind "p", "h", "img"
        images = rng.choice((0, 1, 1, 2, 3, 4, 6, 9, 12))
        count = max(3, min(60, int(rng.lognormvariate(2.5, 0.7))))
        for number in range(count):
            if number and rng.random() < 0.08:
                paragraphs.append(("h", rng.choice(sentences).rstrip("。")[:20]))
            paragraphs.append(("p", "".join(rng.choice(sentences) for _ in range(rng.randint(1, 4)))))
        for number in range(images):
            paragraphs.insert(rng.randint(0, len(paragraphs)), ("img", str(number)))
        index = index_of(ident) or 0
        title = f"{rng.choice(sentences).rstrip('。')[:28]}（{ident[-7:]}）"
        return {
            "title": title,
            "paragraphs": paragraphs,
            "images": images,
            "media": rng.choice(("AGIHunt", "字母AI", "央视新闻客户端", "新京报", "澎湃新闻", "第一财经")),
            "pubtime": self.published(index).strftime("%Y-%m-%d %H:%M:%S"),
        }

    def article_page(self, ident: str) -> bytes:
        article = self.content(ident)
        if len(ident) == 14:
            return self._omn_page(ident, article)
        return self._current_page(ident, article)

    def _current_page(self, ident: str, article: dict[str, Any]) -> bytes:
        template = self.templates.current
        data = dict(template["data"])
        attributes = {}
        origin, dom = [], []
        for kind, text in article["paragraphs"]:
            if kind == "img":
                url = image_url(ident, int(text))
                key = f"IMG_{text}"
                base = url.rsplit("/", 1)[0]
                attributes[key] = {
                    **template["data"]["originAttribute"]["IMG_0"],
                    "url": url, "origUrl": url, "compressUrl": url, "bigOrigUrl": f"{base}/0",
                    "imgurl0": f"{base}/0", "imgurl1000": f"{base}/1000", "thumb": f"{base}_181x181s/0",
                }  # fmt: skip
                origin.append(f"<p><!--{key}--></p>")
                dom.append(f'<p><img src="{url}" style="display:block;width:100%"></p>')
            elif kind == "h":
                origin.append(f"<p><strong>{_escape(text)}</strong></p>")
                dom.append(origin[-1])
            else:
                origin.append(f"<p>{_escape(text)}</p>")
                dom.append(origin[-1])
        section = '<div class="rich_media_content"><section>{}</section></div>'
        first_text = next((t for k, t in article["paragraphs"] if k == "p"), "")
        data.update(
            url=f"https://view.inews.qq.com/a/{ident}", article_id=ident, cmsId=ident, cms_id=ident,
            title=article["title"], desc=first_text[:60] + "....", abstract=first_text[:60] + "....",
            media=article["media"], pubtime=article["pubtime"], contentWordsNum=sum(len(t) for _, t in article["paragraphs"]),
            originContent={"directory": {"enable": 2}, "text": section.format("".join(origin))},
            originAttribute=attributes,
        )  # fmt: skip
        values = {"TITLE": _escape(article["title"]), "ID": ident, "TIME": article["pubtime"][:16],
                  "COVER": cover_url(ident)}  # fmt: skip
        head, tail, rest = (_fill(part, values) for part in template["parts"])
        page = head + json.dumps(data, ensure_ascii=False) + tail + section.format("".join(dom)) + rest
        return page.encode("utf-8")

    def _omn_page(self, ident: str, article: dict[str, Any]) -> bytes:
        template = self.templates.omn
        data = dict(template["data"])
        data.update(article_id=ident, cms_id=f"TWF{ident}00", title=article["title"], media=article["media"],
                    media_id=article["media"], pubtime=article["pubtime"], videoArr=[])  # fmt: skip
        body = ["<!--导语-->\n"]
        for kind, text in article["paragraphs"]:
            if kind == "img":
                url = image_url(ident, int(text)).replace("https:", "")
                body.append(f'<p class="one-p"><img class="content-picture" src="{url}"></p>\n')
            elif kind == "h":
                body.append(f'<p class="one-p"><strong>{_escape(text)}</strong></p>\n')
            else:
                body.append(f'<p class="one-p">{_escape(text)}</p>\n')
        head, tail, rest = (_fill(part, {"TITLE": _escape(article["title"])}) for part in template["parts"])
        page = head + json.dumps(data, ensure_ascii=False, indent=2) + tail + "".join(body) + rest
        return page.encode("utf-8")

    def feed_page(self, page: int) -> bytes:
        """Feed page ``page`` (0 = newest) in getPCList's response shape."""
        start = self.size - 1 - page * self.feed_page_size
        items = []
        for index in range(start, max(start - self.feed_page_size, -1), -1):
            if index < 0:
                break
            ident = article_ident(index)
            article = self.content(ident)
            item = copy.deepcopy(self.feed_item)
            url = f"https://new.qq.com/rain/a/{ident}"
            item.update(id=ident, title=article["title"], publish_time=article["pubtime"],
                        update_time=article["pubtime"], desc=article["title"])  # fmt: skip
            item["link_info"] = {"share_url": f"https://view.inews.qq.com/a/{ident}", "url": url,
                                 "short_url": f"https://view.inews.qq.com/a/{ident}", "org_url": url}  # fmt: skip
            cover = cover_url(ident)
            item["pic_info"].update(big_img=[cover], small_img=[cover], three_img=[cover], share_img=cover,
                                    img_count=article["images"])  # fmt: skip
            items.append(item)
        response = {"data": items, "ad_list": "", "trace_id": "", "fixed_nums": 0, "is_deleted": 0, "code": 0,
                    "message": "", "timestamp": "", "hot_list": None, "plugin_audio": None, "native_ad_data": None}  # fmt: skip
        return json.dumps(response, ensure_ascii=False).encode("utf-8")

    # -- HTTP --------------------------------------------------------------------------------------

    def _count(self, kind: str) -> None:
        with self._lock:
            self.counts[kind] += 1

    def handle(self, path: str, body: bytes) -> tuple[int, str, bytes]:
        route, _, query = path.partition("?")
        if route.endswith("/robots.txt"):
            self._count("robots")
            return 200, "text/plain", b"User-agent: *\nAllow: /\n"
        match = _ARTICLE_RE.match(route)
        if match:
            ident = match["id"]
            index = index_of(ident)
            if index is not None and index < self.size:
                self._count("article")
                return 200, "text/html; charset=utf-8", self.article_page(ident)
        elif route == "/i.news.qq.com/web_feed/getPCList":
            self._count("feed")
            page = 0
            try:
                if body:
                    page = int(json.loads(body).get("page", 0))
                elif query:
                    page = int(dict(p.partition("=")[::2] for p in query.split("&")).get("page", 0))
            except (ValueError, AttributeError):
                return 400, "application/json", b'{"code":1,"message":"bad request"}'
            with self._lock:
                self.feed_log.append((page, self.counts["article"]))
            return 200, "application/json; charset=utf-8", self.feed_page(page)
        elif route.startswith("/inews.gtimg.com/"):
            self._count("image")
            return 200, "image/jpeg", self.jpegs[hashlib.sha1(route.encode()).digest()[0] % len(self.jpegs)]
        self._count("missing")
        return 404, "text/html", b"<html><body>404</body></html>"

    def serve(self, port: int = 0) -> tuple[ThreadingHTTPServer, str]:
        """Start serving on 127.0.0.1 in a daemon thread; returns the server and its base URL."""
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _reply(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                status, content_type, body = site.handle(self.path, self.rfile.read(length) if length else b"")
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _reply  # noqa: N815

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass

        server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server, f"http://127.0.0.1:{server.server_address[1]}"


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve a synthetic qq.com of N articles on 127.0.0.1.")
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--port", type=int, default=8766)
    args = parser.parse_args()
    site = SyntheticSite(args.articles)
    server, url = site.serve(args.port)
    print(f"{args.articles} synthetic articles on {url} (first {site.ids(1)[0]}); crawl with SCRAPY_SETTINGS_MODULE=tests.mirror.settings and -s QQ_MIRROR_URL={url}",
          flush=True)  # fmt: skip
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        server.shutdown()


CHANNEL = "tech"  # the synthetic feed lists every article in any channel


def feed_args(articles: int, page_size: int = 20) -> dict[str, str]:
    """Spider arguments that discover ``articles`` synthetic articles through the real feed path:
    one channel, ``articles / page_size`` pages of 20 newest first, plus the empty page past the
    last article, which ends the paging as on qq.com."""
    return {"channels": CHANNEL, "pages": str(-(-articles // page_size) + 1)}


if __name__ == "__main__":
    main()
