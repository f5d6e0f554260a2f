"""Article -> the text of its Markdown file (pure). See ``frontmatter``, ``markdown``, ``profiles``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from scrapy.settings import BaseSettings

from crawler.items import Article
from crawler.render.frontmatter import article_fields, front_matter_values, to_toml, to_yaml
from crawler.render.markdown import render_body
from crawler.render.profiles import FrontMatterFormat, profile_from_settings, with_lastmod


@dataclass(frozen=True)
class RenderOptions:
    """What the rendered file looks like: the ``OUTPUT_PROFILE`` and ``MARKDOWN_*`` settings, plus
    ``thumbnail`` (``THUMBNAILS_FRONT_MATTER``: ``remote`` or ``local``), ``local_images``
    (``THUMBNAILS_BODY_IMAGES``: body images link to their local copies) and ``video_embed``
    (``MARKDOWN_VIDEOS=embed``: the profile's player line)."""

    front_matter: dict[str, Any]
    date_format: str
    summary_length: int
    link_text: str
    image_alt: str
    format: FrontMatterFormat
    fence: str
    thumbnail: str
    local_images: bool
    video_embed: str  # the profile's, with MARKDOWN_VIDEOS=embed

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> RenderOptions:
        profile = profile_from_settings(settings)
        return cls(
            front_matter=with_lastmod(profile.front_matter, profile.lastmod),
            date_format=profile.date_format,
            format=profile.format,
            fence=profile.fence,
            summary_length=settings.getint("MARKDOWN_SUMMARY_LENGTH"),
            link_text=settings["MARKDOWN_LINK_TEXT"],
            image_alt=settings["MARKDOWN_IMAGE_ALT"],
            thumbnail=settings["THUMBNAILS_FRONT_MATTER"],  # checked with the settings (crawler.config)
            local_images=settings.getbool("THUMBNAILS_BODY_IMAGES"),
            video_embed=profile.video_embed if settings["MARKDOWN_VIDEOS"] == "embed" else "",
        )


def render_article(article: Article, options: RenderOptions) -> str:
    """The whole file: the fence, the front matter, the fence, a blank line, the body."""
    image_paths = article.image_paths if options.local_images else {}
    fields = article_fields(article, options.date_format, options.summary_length, options.thumbnail, image_paths)
    values = front_matter_values(options.front_matter, fields)
    front = to_toml(values) if options.format == "toml" else to_yaml(values)
    body = render_body(article.blocks, article.url, options.link_text, options.image_alt, image_paths, options.video_embed)
    return f"{options.fence}\n{front}{options.fence}\n\n{body}"
