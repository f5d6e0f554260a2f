"""The mirror's image hosts (``inews.gtimg.com``, ``img1.gtimg.com``) and the bad-image articles.

Good images: every thumbnail and body image URL of the fixture articles is served as real image
bytes, drawn by Pillow at mirror start (deterministic: same bytes on every start of one Pillow
version), in the four formats qq.com serves: JPEG, PNG, GIF (animated, two frames) and WebP, each
with its format's Content-Type. gtimg URLs carry no extension (``…_640360/0``, ``…/641``).

Bad images, at gtimg-shaped paths ``/inews.gtimg.com/om_ls/Bad<Case>…_640360/0``, each the share
image of one article built from the seed page (``20250207A0IMG<X>00``, see ``BAD_ARTICLES``):
a 404, a slow answer (``SLOW_SECONDS``, for a crawl with a lower ``DOWNLOAD_TIMEOUT``), an HTML
error page served as ``image/jpeg``, a 0-byte body, a truncated JPEG, a decompression bomb (a
73-byte PNG whose header claims 100000 x 100000 pixels), an image too large for a small
``THUMBNAILS_MAXSIZE`` (about 270 kB of noise), and an article whose first body image is a 16 x 16
GIF (under ``THUMBNAILS_MIN_WIDTH``).

Unknown image paths are 404, as on the real host. ``add_image_routes(mirror)`` registers all of
it; ``IMAGES`` maps each good path to the bytes served.
"""

from __future__ import annotations

import random
import re
import struct
import time
import zlib
from io import BytesIO
from typing import TYPE_CHECKING

from PIL import Image, ImageDraw

from tests.mirror.server import Reply

if TYPE_CHECKING:
    from tests.mirror.server import Mirror

SEED_ID = "20250207A090J800"
SEED_THUMB_HASH = "Or2vqfLaOmubYgERubrcnJ6eXpC4r-t8FNmRkA0AH2TmUAA"
SEED_BODY_HASH = "Oa730XZup4WoNe0FXMbkXf9Q9L5pqmd84OiEfus1aLyscAA"
SLOW_SECONDS = 3.0
CONTENT_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "GIF": "image/gif", "WEBP": "image/webp"}


def draw(kind: str, width: int, height: int, seed: int) -> bytes:
    """A deterministic picture: coloured bands and a disc, encoded in ``kind``."""
    rng = random.Random(seed)
    frames = []
    for frame in range(2 if kind == "GIF" else 1):
        image = Image.new("RGB", (width, height), (rng.randrange(256), rng.randrange(256), rng.randrange(256)))
        pen = ImageDraw.Draw(image)
        for band in range(6):
            colour = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
            pen.rectangle((0, band * height // 6, width, band * height // 6 + height // 12), fill=colour)
        radius = min(width, height) // 4
        x = width // 3 + frame * width // 3
        pen.ellipse((x - radius, height // 2 - radius, x + radius, height // 2 + radius), fill=(255, 255, 255))
        frames.append(image)
    out = BytesIO()
    if kind == "GIF":
        frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=500, loop=0)
    else:
        frames[0].save(out, kind)
    return out.getvalue()


def noise(kind: str, width: int, height: int, seed: int) -> bytes:
    """Random pixels: an image that does not compress (large files, JPEG with a long scan)."""
    image = Image.frombytes("RGB", (width, height), random.Random(seed).randbytes(width * height * 3))
    out = BytesIO()
    image.save(out, kind)
    return out.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def bomb_png(width: int = 100_000, height: int = 100_000) -> bytes:
    """A valid PNG header claiming ``width`` x ``height`` RGB pixels, with almost no data."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(b"\0" * 64)) + _chunk(b"IEND", b"")


# Every image URL of the fixture articles (path on the mirror -> format, width, height).
GOOD: dict[str, tuple[str, int, int]] = {
    f"/inews.gtimg.com/om_ls/{SEED_THUMB_HASH}_640360/0": ("JPEG", 640, 360),
    f"/inews.gtimg.com/om_bt/{SEED_BODY_HASH}/641": ("PNG", 641, 360),
    "/inews.gtimg.com/om_bt/OHqdATSwFICB8EuVJcoO1GFicuEvyBnIWopkr1NL34huEAA/641": ("WEBP", 641, 360),
    "/inews.gtimg.com/news_ls/OUZs_RncxJ55bj7RMzeZ5W4Z7zmmDdiwfsbTTgVrtnw58AA_640330/0": ("GIF", 640, 330),
    "/inews.gtimg.com/news_bt/ONX7gG14WTxoLC8YV0f06krHbIcPttVmxN_tV_0ZsplggAA/641": ("JPEG", 641, 400),
    "/inews.gtimg.com/newsapp_bt/0/13455074465/1000": ("JPEG", 1000, 563),
    "/inews.gtimg.com/newsapp_bt/0/13455074818/1000": ("PNG", 1000, 563),
    "/inews.gtimg.com/newsapp_bt/0/13455074647/1000": ("WEBP", 1000, 563),
    "/inews.gtimg.com/newsapp_bt/0/13455075190/1000": ("GIF", 1000, 563),
    "/inews.gtimg.com/newsapp_bt/0/13455075334/1000": ("JPEG", 1000, 750),
    "/inews.gtimg.com/newsapp_bt/0/13455074969/1000": ("PNG", 1000, 563),
    "/img1.gtimg.com/tech/pics/hv1/168/240/2140/139214868.jpg": ("JPEG", 500, 300),
    "/inews.gtimg.com/newsapp_bt/0/12844449145/1000": ("JPEG", 1000, 1500),
    "/inews.gtimg.com/newsapp_bt/0/12844451110/1000": ("PNG", 1000, 1500),
    "/inews.gtimg.com/newsapp_bt/0/12844451917/1000": ("JPEG", 1000, 1500),
    "/inews.gtimg.com/newsapp_bt/0/12837514775/1000": ("PNG", 1000, 563),
    "/inews.gtimg.com/news_ls/OQa0FQOYdHPjGEJQ8J-vqwFKVsZ6At5YtL7iA2EoQqmZsAA_640330/0": ("JPEG", 640, 330),
    # Video covers (videoArr "img"), the pre-2012 page's and the mid-2024 transition page's images.
    "/inews.gtimg.com/newsapp_ls/0/11578378634_640480/0": ("JPEG", 640, 480),
    "/inews.gtimg.com/newsapp_ls/0/13457020995_640480/0": ("JPEG", 640, 480),
    "/img1.gtimg.com/ent/pics/19683/19683412.jpg": ("JPEG", 450, 300),
    "/img1.gtimg.com/ent/pics/19683/19683420.jpg": ("JPEG", 450, 338),
    "/inews.gtimg.com/om_bt/OTransitionFixtureImageOne0000000000000000AA/641": ("JPEG", 641, 360),
    "/inews.gtimg.com/om_bt/OTransitionFixtureImageTwo0000000000000000AA/641": ("PNG", 641, 360),
}
IMAGES: dict[str, bytes] = {path: draw(kind, w, h, seed) for seed, (path, (kind, w, h)) in enumerate(GOOD.items())}
TINY_PATH = "/inews.gtimg.com/om_bt/BadTinySpacer/641"
IMAGES[TINY_PATH] = draw("GIF", 16, 16, 99)

_truncated = noise("JPEG", 320, 180, 5)
BAD_REPLIES: dict[str, Reply] = {
    "Bad404": Reply(404, b"<html><body>404 Not Found</body></html>"),
    "BadSlow": Reply(200, draw("JPEG", 64, 36, 7), "image/jpeg"),
    "BadHtml": Reply(200, "<html><body><h1>访问受限</h1></body></html>".encode(), "image/jpeg"),
    "BadEmpty": Reply(200, b"", "image/jpeg"),
    "BadTruncated": Reply(200, _truncated[: len(_truncated) // 2], "image/jpeg"),
    "BadBomb": Reply(200, bomb_png(), "image/png"),
    "BadHuge": Reply(200, noise("PNG", 300, 300, 11), "image/png"),
}
# Article id -> (what its images do, the reason the crawler must give).
BAD_ARTICLES: dict[str, tuple[str, str]] = {
    "20250207A0IMGA00": ("Bad404", "http_404"),
    "20250207A0IMGB00": ("BadSlow", "timeout"),
    "20250207A0IMGC00": ("BadHtml", "not_image"),
    "20250207A0IMGD00": ("BadEmpty", "empty"),
    "20250207A0IMGE00": ("BadTruncated", "truncated"),
    "20250207A0IMGF00": ("BadBomb", "bomb"),
    "20250207A0IMGG00": ("BadHuge", "too_large"),
    "20250207A0IMGH00": ("BadTiny", "too_small"),  # its first body image; the thumbnail is fine
}


def bad_thumbnail_url(case: str) -> str:
    return f"https://inews.gtimg.com/om_ls/{case}_640360/0"


def bad_page(mirror: Mirror, ident: str) -> Reply:
    """The seed page as another article whose share image (or first body image) is bad."""
    case, _ = BAD_ARTICLES[ident]
    page = (mirror.pages / mirror.articles[SEED_ID]["file"]).read_text(encoding="utf-8")
    page = page.replace(SEED_ID, ident).replace("DeepSeek点燃开源模型", f"图片{case}测试")
    if case == "BadTiny":
        page = page.replace(f"om_bt/{SEED_BODY_HASH}", "om_bt/BadTinySpacer")
    else:
        page = page.replace(f"{SEED_THUMB_HASH}_640360/0", f"{case}_640360/0")
    return Reply(200, page.encode("utf-8"))


def image(path: str) -> Reply:
    body = IMAGES.get(path)
    if body is None:
        return Reply(404, b"<html><body>404 Not Found</body></html>")
    with Image.open(BytesIO(body)) as picture:
        return Reply(200, body, CONTENT_TYPES[picture.format or ""])


def bad_image(case: str) -> Reply:
    if case == "BadSlow":
        time.sleep(SLOW_SECONDS)
    return BAD_REPLIES.get(case) or Reply(404, b"<html><body>404 Not Found</body></html>")


def add_image_routes(mirror: Mirror) -> None:
    """Put the image hosts and the bad-image articles before the mirror's own routes."""
    mirror.routes[:0] = [
        (re.compile(r"^/[^/]+/rain/a/(?P<id>20250207A0IMG[A-Z]00)$"), lambda m, s: bad_page(s, m["id"])),
        (re.compile(r"^/inews\.gtimg\.com/om_ls/(?P<case>Bad[A-Za-z0-9]+)_640360/0$"), lambda m, s: bad_image(m["case"])),
        (re.compile(r"^/(?:inews|img1)\.gtimg\.com/(?!robots\.txt$).+$"), lambda m, s: image(m.group(0))),
    ]
