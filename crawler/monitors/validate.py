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

from jsonschema.validators import validator_for
from spidermon.contrib.scrapy.pipelines import ItemValidationPipeline
from spidermon.contrib.validation import JSONSchemaValidator
from spidermon.contrib.validation.jsonschema.formats import format_checker
from spidermon.contrib.validation.jsonschema.validator import REQUIRED_RE

from crawler.items import Article
from crawler.monitors.schema import article_view


class SchemaValidator(JSONSchemaValidator):
    """Spidermon's JSON Schema validator with its ``jsonschema`` validator built once per crawl
    (Spidermon builds one per item, checking the schema each time); the errors are reported the same."""

    def __init__(self, schema: dict[str, Any]) -> None:
        super().__init__(schema)
        self._checker = validator_for(schema)(schema=schema, format_checker=format_checker)

    def _validate(self, data: Any, strict: bool = False) -> None:
        for error in self._checker.iter_errors(data):
            absolute_path = list(error.absolute_path)
            required_match = REQUIRED_RE.search(error.message)
            if required_match:
                absolute_path.append(required_match.group(1))
            field_name = ".".join([str(p) for p in absolute_path])
            self._add_errors({field_name: [error.message]})


class ValidationPipeline(ItemValidationPipeline):
    @classmethod
    def _load_jsonschema_validator(cls, schema: Any) -> JSONSchemaValidator:
        return SchemaValidator(super()._load_jsonschema_validator(schema)._schema)

    def process_item(self, item: Any) -> Any:  # type: ignore[override]
        if isinstance(item, Article):
            self.validate_view(article_view(item))
        return item

    def validate_view(self, view: dict[str, Any]) -> None:
        """Spidermon's ``process_item`` on the view, without its ``ItemAdapter(view).asdict()``: the
        view is already a new dict of JSON values, and that deep copy called ``ItemAdapter.is_item``
        on every block, keyword and image (~1.5% of a crawl's time). Errors would be added to the
        view (``SPIDERMON_VALIDATION_ADD_ERRORS_TO_ITEMS``), which nothing reads: not done."""
        validators = self.find_validators(view)
        if not validators:
            return
        self.stats.add_item()
        self.stats.add_fields(len(view))
        for validator in validators:
            ok, errors = validator.validate(view)
            if not ok:
                self._add_error_stats(errors)
                if self.drop_items_with_errors:
                    self._drop_item(view, errors)
