"""Where an article's files go: planned once, from the article, the layout and the store's record (pure).

``plan_paths`` is the one place that decides the Markdown file's path and each image's file and
link; the plan pipeline puts them on the item, the others only read them. Docs: docs/store.md ("Planning").
"""

from __future__ import annotations

import glob
import posixpath
import re
from collections.abc import Callable
from dataclasses import dataclass

from scrapy.settings import BaseSettings
from slugify import slugify

from crawler.items import Article, ImagePath, Paths
from crawler.render.profiles import Profile

# Between Latin letters or digits and Chinese characters: a word boundary for the slug, which
# transliteration would otherwise glue together ("DeepSeek点燃" -> "deepseekdian-ran").
_SCRIPT_BOUNDARY_RE = re.compile(r"(?<=[A-Za-z0-9])(?=[^\x00-\x7f])|(?<=[^\x00-\x7f])(?=[A-Za-z0-9])")


@dataclass(frozen=True)
class Layout:
    """The path templates of one crawl: the profile's and the ``THUMBNAILS_*`` ones."""

    markdown: str
    slug_max_length: int
    bundle_images: str | None  # the profile's image_dir: None, or a folder relative to the file
    image_store: str
    thumbnail: str
    body: str
    url_prefix: str

    @classmethod
    def from_settings(cls, settings: BaseSettings, profile: Profile) -> Layout:
        return cls(
            markdown=profile.path,
            slug_max_length=settings.getint("OUTPUT_SLUG_MAX_LENGTH"),
            bundle_images=profile.image_dir,
            image_store=profile.image_store,
            thumbnail=settings["THUMBNAILS_PATH"],
            body=settings["THUMBNAILS_BODY_PATH"],
            url_prefix=settings["THUMBNAILS_URL_PREFIX"],
        )


def article_slug(title: str, max_length: int) -> str:
    """python-slugify's transliteration of the title, words separated at script changes too."""
    # text-unidecode (python-slugify's own dependency), named: "auto" would take Unidecode wherever
    # another package installed it (other slugs for the same title), trying to import it on every call.
    return slugify(_SCRIPT_BOUNDARY_RE.sub(" ", title), max_length=max_length, word_boundary=True, backend="text-unidecode")


def markdown_path(article: Article, template: str, slug_max_length: int, suffix: str = "") -> str:
    """The Markdown file's path relative to the output root; ``suffix`` ends the slug."""
    slug = (article_slug(article.title, slug_max_length) or article.id.lower()) + suffix
    published = article.published
    path = template.format(
        date=published.strftime("%Y-%m-%d"),
        year=published.strftime("%Y"),
        month=published.strftime("%m"),
        day=published.strftime("%d"),
        slug=slug,
        id=article.id,
    )
    return checked(path)


_TEMPLATE_FIELD_RE = re.compile(r"\{(date|year|month|day|slug|id)\}")
_FIELD_PATTERNS = {"date": r"\d{4}-\d{2}-\d{2}", "year": r"\d{4}", "month": r"\d{2}", "day": r"\d{2}", "slug": r"[^/]+", "id": r"[^/]+"}


def fits_template(path: str, template: str) -> bool:
    """Whether ``path`` is one the path template ``template`` gives (for some article): a file
    written for another profile or ``OUTPUT_PATH`` does not fit."""
    parts = _TEMPLATE_FIELD_RE.split(posixpath.normpath(template))
    pattern = "".join(_FIELD_PATTERNS[part] if n % 2 else re.escape(part) for n, part in enumerate(parts))
    return re.fullmatch(pattern, path) is not None


def checked(path: str) -> str:
    """``path`` normalised, or ValueError when it would leave the output root."""
    normal = posixpath.normpath(path)
    if normal.startswith(("/", "../")) or normal in (".", ".."):
        raise ValueError(f"path {path!r} leaves the output root")
    return normal


def image_paths(article: Article, markdown: str, layout: Layout) -> tuple[ImagePath, tuple[ImagePath, ...]]:
    """The thumbnail's and each distinct body image's file (under the root) and link, no extension."""

    def image(template: str, n: int = 0) -> ImagePath:
        name = template.format(id=article.id, n=n)
        file = _image_file(name, markdown, layout)
        if layout.bundle_images is None:
            return ImagePath(file, layout.url_prefix + name)
        return ImagePath(file, posixpath.relpath(file, posixpath.dirname(markdown)))

    body = tuple(image(layout.body, n) for n in range(1, len(dict.fromkeys(article.images)) + 1))
    return image(layout.thumbnail), body


def _image_file(name: str, markdown: str, layout: Layout) -> str:
    """Where an image named ``name`` (from a ``THUMBNAILS_*PATH`` template) is stored."""
    if layout.bundle_images is None:
        return checked(posixpath.join(layout.image_store, name))
    return checked(posixpath.join(posixpath.dirname(markdown), layout.bundle_images, posixpath.basename(name)))


_ANY_N = "\x00n\x00"


def image_patterns(article_id: str, markdown: str, layout: Layout) -> list[str]:
    """Glob patterns (relative to the output root) of the image files stored for the article whose
    file is ``markdown``: its thumbnail and its body images, whatever their extension (it comes
    from the bytes). For removing a deleted article's images, whose data is gone."""

    def pattern(template: str, n: int | str) -> str:
        file = _image_file(template.format(id=article_id, n=n), markdown, layout)
        return glob.escape(file).replace(_ANY_N, "[0-9]*") + ".*"

    return [pattern(layout.thumbnail, 0), pattern(layout.body, _ANY_N)]


def plan_paths(
    article: Article, layout: Layout, recorded: str | None = None, taken: Callable[[str], bool] = lambda path: False
) -> Paths:
    """Every path of the article: ``recorded`` (the store's path for it) wins; a path ``taken`` by
    another article gets the ``-<id>`` suffix."""
    if recorded is not None:
        markdown = checked(recorded)
    else:
        markdown = markdown_path(article, layout.markdown, layout.slug_max_length)
        if taken(markdown):
            markdown = markdown_path(article, layout.markdown, layout.slug_max_length, f"-{article.id.lower()}")
    thumbnail, body = image_paths(article, markdown, layout)
    return Paths(markdown, thumbnail, body)
