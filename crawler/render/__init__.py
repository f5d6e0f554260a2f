"""Article -> the text of its Markdown file (pure). See ``frontmatter`` and ``markdown``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from scrapy.settings import BaseSettings

from crawler.items import Article
from crawler.render.frontmatter import article_fields, front_matter_values, to_yaml
from crawler.render.markdown import render_body


@dataclass(frozen=True)
class RenderOptions:
    """What the rendered file looks like; every field is a ``MARKDOWN_*`` setting, but ``thumbnail``
    (``THUMBNAILS_FRONT_MATTER``: ``remote`` or ``local``) and ``local_images``
    (``THUMBNAILS_BODY_IMAGES``: body images link to their local copies)."""

    front_matter: dict[str, Any] = field(default_factory=dict)
    date_format: str = "%Y-%m-%d %H:%M:%S"
    summary_length: int = 50
    link_text: str = "qq"
    image_alt: str = "图片"
    thumbnail: str = "remote"
    local_images: bool = False

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> RenderOptions:
        thumbnail = settings.get("THUMBNAILS_FRONT_MATTER", cls.thumbnail)
        if thumbnail not in ("remote", "local"):
            raise ValueError(f"THUMBNAILS_FRONT_MATTER must be 'remote' or 'local', not {thumbnail!r}")
        return cls(
            front_matter=dict(settings.getdict("MARKDOWN_FRONT_MATTER")),
            date_format=settings.get("MARKDOWN_DATE_FORMAT", cls.date_format),
            summary_length=settings.getint("MARKDOWN_SUMMARY_LENGTH", cls.summary_length),
            link_text=settings.get("MARKDOWN_LINK_TEXT", cls.link_text),
            image_alt=settings.get("MARKDOWN_IMAGE_ALT", cls.image_alt),
            thumbnail=thumbnail,
            local_images=settings.getbool("THUMBNAILS_BODY_IMAGES", cls.local_images),
        )


def render_article(article: Article, options: RenderOptions) -> str:
    """The whole file: ``---``, YAML front matter, ``---``, a blank line, the body."""
    fields = article_fields(article, options.date_format, options.summary_length, options.thumbnail)
    yaml_text = to_yaml(front_matter_values(options.front_matter, fields))
    image_paths = article.image_paths if options.local_images else {}
    body = render_body(article.blocks, article.url, options.link_text, options.image_alt, image_paths)
    return f"---\n{yaml_text}---\n\n{body}"
