"""Output profiles: one small declarative description per site builder (pure).

``OUTPUT_PROFILE`` picks one; the settings of ``OVERRIDES`` beat its values when set. Each builder's
rules and how each profile follows them: docs/profiles.md (its ``lastmod`` and draft keys: docs/updates.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Literal

from scrapy.settings import BaseSettings

FrontMatterFormat = Literal["yaml", "toml"]


@dataclass(frozen=True)
class Profile:
    """How one site builder wants an article (docs/profiles.md)."""

    name: str
    front_matter: dict[str, Any]
    path: str
    date_format: str = "%Y-%m-%d %H:%M:%S"  # strftime, "iso" (with offset) or "datetime" (native TOML)
    format: FrontMatterFormat = "yaml"
    fence: str = "---"
    # None: images live in image_store; else their folder relative to the file ("." beside it).
    image_dir: str | None = None
    image_store: str = "static"  # under OUTPUT_ROOT: the folder the builder publishes at the site's root
    lastmod: str = "lastmod"  # key of a corrected article's date, right after the "{date}" key
    draft: dict[str, Any] = field(default_factory=lambda: {"draft": True})  # DELETED_FILES = "draft"
    video_embed: str = ""  # the player line above a video's link ("{vid}"); empty: the link alone


# The spec's 17 keys (tests/fixtures/spec/seed-article.md), in its order.
HUGO_FRONT_MATTER: dict[str, Any] = {
    "title": "{title}",
    "date": "{date}",
    "summary": "{summary}",
    "categories": ["qq"],
    "lang": ["zh-CN"],
    "translations": ["zh-CN"],
    "tags": ["qq"],
    "menu": "",
    "thumbnail": "{thumbnail}",
    "lead": "",
    "comments": False,
    "authorbox": False,
    "pager": True,
    "toc": False,
    "mathjax": False,
    "sidebar": "right",
    "widgets": ["search", "recent", "taglist"],
}
# Hugo drops raw HTML from Markdown (Goldmark's default): a player is a shortcode of the site's
# (examples/hugo/layouts/shortcodes/qq-video.html).
HUGO = Profile("hugo", HUGO_FRONT_MATTER, "content/posts/{date}-{slug}.md", video_embed='{{< qq-video "{vid}" >}}')

PROFILES: dict[str, Profile] = {
    "hugo": HUGO,
    "hugo-bundle": replace(HUGO, name="hugo-bundle", path="content/posts/{date}-{slug}/index.md", image_dir="."),
    "jekyll": Profile(
        "jekyll",
        {
            "layout": "post",
            "title": "{title}",
            "date": "{date}",
            "description": "{description}",
            "categories": ["qq"],
            "tags": ["qq"],
            "lang": "zh-CN",
            "image": "{thumbnail}",
            "source": "{url}",
        },
        "_posts/{date}-{slug}.md",
        date_format="%Y-%m-%d %H:%M:%S %z",
        image_store=".",  # Jekyll publishes every folder of the site not named _*
        lastmod="last_modified_at",  # jekyll-seo-tag and jekyll-sitemap read it
        draft={"published": False},
    ),
    "zola": Profile(
        "zola",
        {
            "title": "{title}",
            "date": "{date}",
            "description": "{description}",
            "taxonomies": {"categories": ["qq"], "tags": ["qq"]},
            "extra": {"lang": "zh-CN", "thumbnail": "{thumbnail}", "source": "{url}"},
        },
        "content/posts/{date}-{slug}.md",
        date_format="datetime",
        format="toml",
        fence="+++",
        lastmod="updated",  # Zola's own page key
    ),
    "hexo": Profile(
        "hexo",
        {
            "title": "{title}",
            "date": "{date}",
            "description": "{description}",
            "categories": ["qq"],
            "tags": ["qq"],
            "lang": "zh-CN",
            "comments": False,
            "thumbnail": "{thumbnail}",
            "source": "{url}",
            "disableNunjucks": True,
        },
        "source/_posts/{slug}.md",
        date_format="%Y-%m-%d %H:%M:%S",
        image_store="source",  # Hexo publishes source/ (but _posts, _drafts) at the site's root
        lastmod="updated",  # Hexo's own front-matter key
        draft={"published": False},
    ),
    "eleventy": Profile(
        "eleventy",
        {
            "layout": "post",
            "title": "{title}",
            "date": "{date}",
            "description": "{description}",
            "tags": ["qq"],
            "lang": "zh-CN",
            "thumbnail": "{thumbnail}",
            "source": "{url}",
        },
        "posts/{date}-{slug}.md",
        date_format="iso",
        image_store="static",  # published by the site's passthrough copy {"static": "/"} (examples/eleventy)
        lastmod="updated",  # a data key of the page: Eleventy has no built-in one
        # Eleventy has no drafts: permalink false writes no page, and it leaves every collection.
        draft={"permalink": False, "eleventyExcludeFromCollections": True},
    ),
}

# Setting -> the Profile attribute it overrides when not empty.
OVERRIDES = {
    "MARKDOWN_FRONT_MATTER": "front_matter",
    "MARKDOWN_DATE_FORMAT": "date_format",
    "OUTPUT_PATH": "path",
    "THUMBNAILS_STORE": "image_store",
}


def with_lastmod(front_matter: dict[str, Any], key: str) -> dict[str, Any]:
    """The template with ``key: "{lastmod}"`` right after the ``{date}`` key (or last when there is
    none); as it is when ``key`` is empty or the template names ``{lastmod}`` itself."""
    if not key or "{lastmod}" in front_matter.values() or key in front_matter:
        return front_matter
    result: dict[str, Any] = {}
    for name, value in front_matter.items():
        result[name] = value
        if value == "{date}":
            result[key] = "{lastmod}"
    if key not in result:
        result[key] = "{lastmod}"
    return result


def profile_from_settings(settings: BaseSettings) -> Profile:
    """The ``OUTPUT_PROFILE`` profile with the settings' overrides applied.

    Raises ValueError naming the known profiles if ``OUTPUT_PROFILE`` is not one of them.
    """
    name = settings["OUTPUT_PROFILE"]
    if name not in PROFILES:
        raise ValueError(f"OUTPUT_PROFILE {name!r} is not one of {', '.join(PROFILES)}")
    overrides: dict[str, Any] = {}
    for setting, attribute in OVERRIDES.items():
        value = dict(settings.getdict(setting)) if setting == "MARKDOWN_FRONT_MATTER" else settings[setting]
        if value:
            overrides[attribute] = value
    return replace(PROFILES[name], **overrides)
