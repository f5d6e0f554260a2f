"""Article -> the text of its Markdown file (pure). See ``frontmatter``, ``markdown``, ``profiles``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from scrapy.settings import BaseSettings

from crawler.items import Article
from crawler.render.frontmatter import article_fields, front_matter_values, to_toml, to_yaml
from crawler.render.markdown import render_body
from crawler.render.profiles import FrontMatterFormat, profile_from_settings, with_lastmod


@dataclass(frozen=True)
class RenderOptions:
    """What the rendered file looks like: the ``OUTPUT_PROFILE`` and ``MARKDOWN_*`` settings, plus
    ``thumbnail`` (``THUMBNAILS_FRONT_MATTER``: ``remote`` or ``local``) and ``local_images``
    (``THUMBNAILS_BODY_IMAGES``: body images link to their local copies)."""

    front_matter: dict[str, Any] = field(default_factory=dict)
    date_format: str = "%Y-%m-%d %H:%M:%S"
    summary_length: int = 50
    link_text: str = "qq"
    image_alt: str = "图片"
    format: FrontMatterFormat = "yaml"
    fence: str = "---"
    thumbnail: str = "remote"
    local_images: bool = False

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> RenderOptions:
        profile = profile_from_settings(settings)
        thumbnail = settings["THUMBNAILS_FRONT_MATTER"]
        if thumbnail not in ("remote", "local"):
            raise ValueError(f"THUMBNAILS_FRONT_MATTER must be 'remote' or 'local', not {thumbnail!r}")
        return cls(
            front_matter=with_lastmod(profile.front_matter, profile.lastmod),
            date_format=profile.date_format,
            format=profile.format,
            fence=profile.fence,
            summary_length=settings.getint("MARKDOWN_SUMMARY_LENGTH"),
            link_text=settings["MARKDOWN_LINK_TEXT"],
            image_alt=settings["MARKDOWN_IMAGE_ALT"],
            thumbnail=thumbnail,
            local_images=settings.getbool("THUMBNAILS_BODY_IMAGES"),
        )


def render_article(article: Article, options: RenderOptions) -> str:
    """The whole file: the fence, the front matter, the fence, a blank line, the body."""
    image_paths = article.image_paths if options.local_images else {}
    fields = article_fields(article, options.date_format, options.summary_length, options.thumbnail, image_paths)
    values = front_matter_values(options.front_matter, fields)
    front = to_toml(values) if options.format == "toml" else to_yaml(values)
    body = render_body(article.blocks, article.url, options.link_text, options.image_alt, image_paths)
    return f"{options.fence}\n{front}{options.fence}\n\n{body}"
