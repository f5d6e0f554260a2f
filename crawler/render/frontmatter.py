"""Article -> front matter values -> YAML text (pure).

The keys, their order and their static values come from one setting (``MARKDOWN_FRONT_MATTER``);
a value that is exactly ``"{field}"`` is taken from the article (see ``article_fields``), anything
else is written as given. The YAML is produced by PyYAML with the byte-level conventions of the spec:
every string double-quoted (UTF-8, never ``\\u`` escapes), booleans bare, list items indented two
spaces under their key, nothing folded however long. TOML (Zola) is written by tomli-w and read
back by ``tomllib`` in the tests; nested template dicts become YAML maps or TOML tables.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import tomli_w
import yaml

from crawler.items import Article
from crawler.render.markdown import escape_url, is_web_url, summary

_FIELD_RE = re.compile(r"^\{(\w+)\}$")


def article_fields(
    article: Article, date_format: str = "%Y-%m-%d %H:%M:%S", summary_length: int = 50, thumbnail: str = "remote"
) -> dict[str, Any]:
    """The article values a front matter template may name as ``{field}``.

    ``{thumbnail}`` is the remote URL, or with ``thumbnail="local"`` the site path of the local
    copy when there is one (a thumbnail that failed to download keeps its remote URL).
    """
    remote = escape_url(article.thumbnail) if is_web_url(article.thumbnail) else ""
    thumbnail = (article.thumbnail_path if thumbnail == "local" else "") or remote
    return {
        "title": article.title,
        "date": format_date(article.published, date_format),
        "summary": summary(article.blocks, summary_length),
        "thumbnail": thumbnail,
        "id": article.id,
        "url": article.url,
        "media": article.media,
        "channel": article.channel,
        "keywords": list(article.keywords),
        # None (the key left out) unless the article's text was corrected after it was written.
        "lastmod": format_date(article.modified, date_format) if article.modified else None,
    }


def format_date(published: datetime, date_format: str) -> str | datetime:
    """``date_format`` is a strftime format, ``"iso"`` (with ``T`` and offset) or ``"datetime"``
    (the value itself, which TOML writes as a native offset datetime)."""
    if date_format == "datetime":
        return published
    return published.isoformat() if date_format == "iso" else published.strftime(date_format)


def front_matter_values(template: dict[str, Any], fields: dict[str, Any]) -> dict[str, Any]:
    """Fill a front matter template: ``"{field}"`` values from ``fields`` (a field that is None
    leaves its key out), the rest as given."""
    values: dict[str, Any] = {}
    for key, value in template.items():
        match = _FIELD_RE.match(value) if isinstance(value, str) else None
        if isinstance(value, dict):
            values[key] = front_matter_values(value, fields)
        elif match:
            if match.group(1) not in fields:
                raise KeyError(f"front matter key {key!r} names unknown article field {value!r}")
            if fields[match.group(1)] is not None:  # None: the key is left out
                values[key] = fields[match.group(1)]
        else:
            values[key] = value
    return values


class _SpecDumper(yaml.SafeDumper):
    """SafeDumper that indents block sequences under their key (``  - "x"``)."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


class _Quoted(str):
    """A string value (keys stay plain): always written double-quoted."""


def _quoted_str(dumper: yaml.SafeDumper, value: _Quoted) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", str(value), style='"')


_SpecDumper.add_representer(_Quoted, _quoted_str)


def _quote_values(value: Any) -> Any:
    if isinstance(value, str):
        return _Quoted(value)
    if isinstance(value, list | tuple):
        return [_quote_values(v) for v in value]
    if isinstance(value, dict):
        return {k: _quote_values(v) for k, v in value.items()}
    return value


def to_yaml(values: dict[str, Any]) -> str:
    """YAML text of ``values`` (keys in order), without the ``---`` fences."""
    # A top-level block mapping is written entry by entry, so its text is its entries' texts
    # joined. Most entries are the same in every file (the static Mainroad fields), and PyYAML's
    # pure-Python emitter was 60% of the cost of a page (docs/BENCHMARKS.md): reuse their text.
    if not values:
        return _dump(values)
    parts: list[str] = []
    for key, value in values.items():
        cache_key = (key, repr(value))  # repr tells str, bool, int, None and lists apart
        text = _ENTRIES.get(cache_key)
        if text is None:
            text = _dump_entry(key, value)
            if len(_ENTRIES) < _ENTRIES_MAX:
                _ENTRIES[cache_key] = text
        parts.append(text)
    return "".join(parts)


_ENTRIES: dict[tuple[str, str], str] = {}
_ENTRIES_MAX = 256  # the static entries come first; a few titles beside them do no harm


def _dump_entry(key: str, value: Any) -> str:
    return _dump({key: value})


def _dump(values: dict[str, Any]) -> str:
    return yaml.dump(
        _quote_values(values),
        Dumper=_SpecDumper,
        allow_unicode=True,
        sort_keys=False,
        default_flow_style=False,
        width=2**31 - 1,
    )


def to_toml(values: dict[str, Any]) -> str:
    """TOML text of ``values`` (keys in order, tables last as TOML requires), without fences."""
    return tomli_w.dumps(values)
