"""The JSON Schema a written article is validated against (Spidermon's validation pipeline,
``crawler.monitors.validate``), and the JSON view of an Article it is checked on.

Two kinds of fields:

* ``STRUCTURE`` (``id``, ``url``, ``title``, ``published``, ``blocks``): an article without them is
  broken; the validation monitor fails on any;
* ``COVERAGE`` (``media``, ``keywords``, ``share_image``, ``images``): an article may lack one (a
  page without a byline, tags or pictures); the field coverage monitor fails when too many do.

Spidermon counts every invalid item per field (``spidermon/validation/fields/errors/<error>/<field>``).
"""

from __future__ import annotations

from typing import Any

from crawler.items import Article

STRUCTURE = ("id", "url", "title", "published", "blocks")
COVERAGE = ("media", "keywords", "share_image", "images")

ARTICLE_SCHEMA: dict[str, Any] = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "type": "object",
    "required": [*STRUCTURE, *COVERAGE],
    "properties": {
        "id": {"type": "string", "pattern": "^[0-9A-Za-z]{8,24}$"},
        "url": {"type": "string", "pattern": "^https://[^/]+\\.qq\\.com/"},
        "title": {"type": "string", "minLength": 1},
        "published": {"type": "string", "pattern": "^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\+08:00$"},
        "blocks": {"type": "array", "minItems": 1},
        "media": {"type": "string", "minLength": 1},
        "keywords": {"type": "array", "minItems": 1, "items": {"type": "string", "minLength": 1}},
        "share_image": {"type": "string", "pattern": "^https?://"},
        "images": {"type": "array", "minItems": 1, "items": {"type": "string", "pattern": "^https?://"}},
    },
}


def article_view(article: Article) -> dict[str, Any]:
    """The article as the schema sees it: JSON values, body images listed, blocks by kind."""
    return {
        "id": article.id,
        "url": article.url,
        "title": article.title,
        "published": article.published.isoformat(),
        "blocks": [block.kind for block in article.blocks],
        "media": article.media,
        "keywords": list(article.keywords),
        "share_image": article.share_image,
        "images": article.images,
    }
