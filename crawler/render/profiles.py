"""Output profiles: one small declarative description per site builder (pure).

A profile says what a builder needs and nothing else: the front matter template (keys in order,
``"{field}"`` placeholders as in ``MARKDOWN_FRONT_MATTER``; nested dicts become YAML maps or TOML
tables), its format and fences, the date format, the file path under ``OUTPUT_ROOT``, and, for
page bundles, where the article's images sit relative to its file. The one renderer
(``crawler.render.render_article``) and the one writer serve every profile.

Settings: ``OUTPUT_PROFILE`` (default ``hugo``) picks the profile. ``MARKDOWN_FRONT_MATTER``,
``MARKDOWN_DATE_FORMAT``, ``OUTPUT_PATH`` and ``THUMBNAILS_STORE`` override the profile's value when they are set (not
empty; empty is their default). The ``hugo`` profile is the spec byte for byte.

Builder facts each profile follows (from their documentation):

* Hugo: YAML between ``---``; without an offset ``date`` is read in the site's ``timeZone``
  (UTC if unset). A leaf bundle is ``<dir>/index.md`` with its resources beside it.
* Jekyll: posts are ``_posts/YYYY-MM-DD-<slug>.md``; ``date`` as ``YYYY-MM-DD HH:MM:SS +0800``;
  Liquid runs on the body (not on front matter values).
* Zola: TOML between ``+++``; only its own top-level keys are allowed (an unknown key is an
  error), so the rest goes under ``[extra]``; tags and categories under ``[taxonomies]``;
  ``date`` a TOML offset datetime. Tera shortcodes (``{{ x() }}``, ``{% x() %}``) run on the body.
* Hexo: posts in ``source/_posts/``; ``lang`` one string; ``categories``/``tags`` lists; Nunjucks
  runs on the body unless ``disableNunjucks: true``, which the profile sets as a second guard.
* The summary goes to ``description`` (Zola, Jekyll's SEO tag, Hexo's ``open_graph``), never to
  Jekyll's or Hexo's ``excerpt``, which themes print as HTML unescaped; as plain text, which is
  how themes print ``description`` (escaped as any text). Hugo's ``summary`` is escaped Markdown:
  Hugo renders it.
* Images: where the builder publishes a folder at the site's root: Hugo's and Zola's ``static/``,
  Jekyll's site folder itself, Hexo's ``source/``, Eleventy's passthrough copy (``static/``).
* Last modified: Hugo ``lastmod`` (its ``.Lastmod``), Jekyll ``last_modified_at`` (jekyll-seo-tag,
  jekyll-sitemap), Zola and Hexo ``updated``; unpublished: Hugo and Zola ``draft``, Jekyll and Hexo
  ``published: false``.
* Eleventy: a string ``date`` must be ISO 8601 (``2025-02-07T21:54:12+08:00``); ``tags`` make
  collections; Liquid runs on ``.md`` bodies by default.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Literal

from scrapy.settings import BaseSettings

FrontMatterFormat = Literal["yaml", "toml"]


@dataclass(frozen=True)
class Profile:
    """How one site builder wants an article: see the module docstring.

    ``date_format`` is a strftime format, ``"iso"`` (``2025-02-07T21:54:12+08:00``) or
    ``"datetime"`` (a native TOML datetime). ``image_dir`` is ``None`` when images live in the
    site's static folder, else the folder of the article's images relative to its file
    (``"."``: beside it, as a Hugo leaf bundle wants). ``image_store`` is that static folder under
    ``OUTPUT_ROOT``: the one the builder publishes at the site's root (``THUMBNAILS_STORE``).

    ``lastmod`` is the key of the date an article was last corrected, written right after the
    ``{date}`` key, in the same format, and only in the file of an article whose text changed
    since it was first written (``docs/updates.md``): an article never updated has no such key.
    ``draft`` is what marks a file unpublished (``DELETED_FILES = "draft"``), added first in its
    front matter.

    ``video_embed`` is the line that embeds a video's player (``{vid}``: its v.qq.com id) above its
    link with ``MARKDOWN_VIDEOS=embed``; empty: the builder gets the link alone.
    """

    name: str
    front_matter: dict[str, Any]
    path: str
    date_format: str = "%Y-%m-%d %H:%M:%S"
    format: FrontMatterFormat = "yaml"
    fence: str = "---"
    image_dir: str | None = None
    image_store: str = "static"
    lastmod: str = "lastmod"
    draft: dict[str, Any] = field(default_factory=lambda: {"draft": True})
    video_embed: str = ""


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
