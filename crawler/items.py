"""The Article item: the one data contract between extraction, the pipelines and rendering.

Extraction (``crawler.qq.pages``) fills every field but ``thumbnail_path``, ``image_paths`` and
``output_path``; the cleaning pipeline normalises the text in place; the thumbnail pipeline sets
``thumbnail_path`` and ``image_paths`` (site paths of the local copies); the writer renders and
writes it. Body text is kept as structured blocks of inline spans (not as Markdown) so that
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
    * ``video``: ``src`` (the video page URL) and ``spans`` (its title).
    """

    kind: BlockKind
    spans: list[Span] = field(default_factory=list)
    src: str = ""
    items: list[list[Span]] = field(default_factory=list)
    ordered: bool = False
    level: int = 0

    @property
    def text(self) -> str:
        """The plain text of the block (no markup), lists joined by spaces."""
        if self.kind == "list":
            return " ".join("".join(s.text for s in item) for item in self.items)
        return "".join(s.text for s in self.spans)


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
    # Site path of the local copy of ``thumbnail`` (e.g. ``/images/qq/<id>.jpg``), when downloaded.
    thumbnail_path: str = ""
    # Body image URL -> site path of its local copy, for the body images downloaded.
    image_paths: dict[str, str] = field(default_factory=dict)
    output_path: str = ""

    @property
    def images(self) -> list[str]:
        """Body image URLs in page order."""
        return [b.src for b in self.blocks if b.kind == "image"]

    @property
    def thumbnail(self) -> str:
        """The share image, else the first body image, else empty."""
        if self.share_image:
            return self.share_image
        images = self.images
        return images[0] if images else ""
