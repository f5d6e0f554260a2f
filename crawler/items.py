"""The Article item: the one data contract between extraction, the pipelines and rendering.

Extraction (``crawler.qq.pages``) fills every field but ``paths``, ``thumbnail_path`` and
``image_paths``; the cleaning pipeline normalises the text in place; the plan pipeline sets ``paths``
(where every file of the article goes, ``crawler.paths``); the thumbnail pipeline stores images
there and sets ``thumbnail_path`` and ``image_paths`` (links to the local copies); the writer renders
and writes the file at ``paths.markdown``. Body text is kept as structured blocks of inline spans (not as Markdown) so that
cleaning never has to parse Markdown and the renderer alone decides escaping and syntax.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

BlockKind = Literal["paragraph", "heading", "image", "caption", "quote", "list", "video"]


@dataclass
class Span:
    """A run of inline text with one style: plain, bold, code, or a link (``href``)."""

    text: str
    bold: bool = False
    code: bool = False
    href: str | None = None


@dataclass
class Block:
    """One body block in page order.

    * ``paragraph``, ``heading`` (``level`` 2-6), ``caption``, ``quote``: ``spans``;
    * ``list``: ``items`` (one list of spans per item), ``ordered``;
    * ``image``: ``src`` (absolute https URL);
    * ``video``: ``src`` (the video page URL), ``spans`` (its title) and ``cover`` (its cover image's
      absolute URL, when the page names one).
    """

    kind: BlockKind
    spans: list[Span] = field(default_factory=list)
    src: str = ""
    items: list[list[Span]] = field(default_factory=list)
    ordered: bool = False
    level: int = 0
    cover: str = ""

    @property
    def text(self) -> str:
        """The plain text of the block (no markup), lists joined by spaces."""
        if self.kind == "list":
            return " ".join("".join(s.text for s in item) for item in self.items)
        spans = self.spans
        return spans[0].text if len(spans) == 1 else "".join([s.text for s in spans])


@dataclass(frozen=True)
class ImagePath:
    """Where one image of an article goes: ``file`` relative to the output root and ``link`` as the
    Markdown links it, both without the extension (which comes from the image bytes)."""

    file: str
    link: str


@dataclass(frozen=True)
class Paths:
    """Every path of an article, planned once (``crawler.paths.plan_paths``)."""

    markdown: str  # the Markdown file, relative to the output root
    thumbnail: ImagePath
    body: tuple[ImagePath, ...] = ()  # one per distinct body image, in page order


@dataclass
class Article:
    """A qq.com article as the page states it. ``published`` is Beijing time (tz-aware)."""

    id: str
    url: str
    source_url: str
    template: str
    title: str
    published: datetime
    media: str = ""
    channel: str = ""
    keywords: list[str] = field(default_factory=list)
    share_image: str = ""
    blocks: list[Block] = field(default_factory=list)
    article_type: str = "0"
    is_paid: bool = False
    # How far extraction fell back from the template's own data (window.DATA on current pages):
    # "data" (it did not), "dom" (the title or body came from the page's HTML), "meta" (the title
    # or date came from <meta> tags), "url" (a pre-2012 page without its #ArtFrom time: dated by its
    # URL). Counted as qq/extraction/<how>: template drift shows here first.
    extraction: str = "data"
    # The source's update time of what was fetched (a feed's update_time), when it says one.
    updated: datetime | None = None
    # What the store keeps to judge the next change (crawler.qq.judge.carry_change_evidence):
    # the feed listing's digest, why it was fetched again ("updated", "listing", "recheck" or ""),
    # the page's ETag and Last-Modified.
    listing: str = ""
    refetch: str = ""
    etag: str = ""
    last_modified: str = ""
    # When the text was last corrected, for the lastmod key (set by the plan pipeline; None: never).
    modified: datetime | None = None
    # Where the article's files go (set by the plan pipeline).
    paths: Paths | None = None
    # Link to the local copy of ``thumbnail`` (e.g. ``/images/qq/<id>.jpg``), when downloaded.
    thumbnail_path: str = ""
    # Body image URL -> link to its local copy, for the body images downloaded.
    image_paths: dict[str, str] = field(default_factory=dict)
    # The image files stored for the article, relative to the output root.
    image_files: list[str] = field(default_factory=list)

    @property
    def images(self) -> list[str]:
        """Body image URLs in page order."""
        return [b.src for b in self.blocks if b.kind == "image"]

    @property
    def thumbnail(self) -> str:
        """The share image, else the first body image, else the first video's cover, else empty."""
        if self.share_image:
            return self.share_image
        images = self.images
        if images:
            return images[0]
        return next((b.cover for b in self.blocks if b.kind == "video" and b.cover), "")
