"""Articles built in code for the pure tests."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from crawler.items import Article, Block, Span
from crawler.times import BEIJING


def article(title: str = "标题", blocks: list[Block] | None = None) -> Article:
    return Article(
        id="20250207A090J800",
        url="https://new.qq.com/rain/a/20250207A090J800",
        source_url="https://news.qq.com/rain/a/20250207A090J800",
        template="current",
        title=title,
        published=datetime(2025, 2, 7, 21, 54, 12, tzinfo=BEIJING),
        blocks=blocks if blocks is not None else [Block("paragraph", [Span("正文。")])],
        share_image="https://inews.gtimg.com/x/0",
    )


def article_data(article: Article) -> dict[str, Any]:
    """What the page says, as JSON: every extracted field but the URL it was read from."""
    return {
        "id": article.id,
        "url": article.url,
        "template": article.template,
        "title": article.title,
        "published": article.published.isoformat(),
        "media": article.media,
        "channel": article.channel,
        "keywords": article.keywords,
        "share_image": article.share_image,
        "article_type": article.article_type,
        "is_paid": article.is_paid,
        "images": article.images,
        "blocks": [block_data(b) for b in article.blocks],
    }


def block_data(block: Block) -> dict[str, object]:
    """A block as expected data: its kind and text, and only the other fields its kind uses."""
    data: dict[str, object] = {"kind": block.kind, "text": block.text}
    if block.src:
        data["src"] = block.src
    if block.cover:
        data["cover"] = block.cover
    if block.kind == "heading":
        data["level"] = block.level
    if block.kind == "list":
        data["items"] = ["".join(span.text for span in item) for item in block.items]
        data["ordered"] = block.ordered
    styled = [s for s in block.spans if s.bold or s.code or s.href]
    if styled:
        data["styled"] = [{"text": s.text, "bold": s.bold, "code": s.code, "href": s.href} for s in styled]
    return data
