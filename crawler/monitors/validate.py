"""Spidermon's item validation, on the JSON view of each written article (``crawler.monitors.schema``).

Spidermon's ``ItemValidationPipeline`` validates ``ItemAdapter(item).asdict()``: for an Article
that holds a ``datetime`` and no list of images, which a JSON Schema cannot describe. This
subclass hands it ``article_view(item)`` instead and passes the item itself on, untouched (it never
drops one: ``SPIDERMON_VALIDATION_DROP_ITEMS_WITH_ERRORS`` stays off). It sits after the writer, so
it sees what was written. Off with ``SPIDERMON_ENABLED = False``.

Settings: ``SPIDERMON_VALIDATION_SCHEMAS`` (the schema). Stats: Spidermon's
``spidermon/validation/items``, ``spidermon/validation/items/errors``,
``spidermon/validation/fields/errors/<error>/<field>``.
"""

from __future__ import annotations

from typing import Any

from spidermon.contrib.scrapy.pipelines import ItemValidationPipeline

from crawler.items import Article
from crawler.monitors.schema import article_view


class ValidationPipeline(ItemValidationPipeline):
    def process_item(self, item: Any) -> Any:  # type: ignore[override]
        if isinstance(item, Article):
            super().process_item(article_view(item))
        return item
