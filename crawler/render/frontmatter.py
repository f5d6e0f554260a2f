"""Article -> front matter values -> YAML or TOML text, and a written file's front matter read back (pure).

Keys and static values come from the profile's template (``MARKDOWN_FRONT_MATTER``). Docs:
docs/profiles.md ("The file"), docs/settings.md.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from datetime import datetime
from functools import lru_cache
from typing import Any

import tomli_w
import yaml

from crawler.items import Article
from crawler.render.markdown import escape_url, is_web_url, summary

_FIELD_RE = re.compile(r"^\{(\w+)\}$")

# The front-matter fences the profiles write (``crawler.render.profiles``): YAML and TOML.
FENCES = {"---": "yaml", "+++": "toml"}


def fenced(text: str) -> tuple[str, str, str] | None:
    """A written file's fence, front matter text and body; None when it has no front matter
    between ``---`` or ``+++`` fences."""
    fence = text[:3]
    if fence not in FENCES or not text.startswith(fence + "\n"):
        return None
    front, found, body = text[4:].partition(f"\n{fence}\n")
    return (fence, front, body) if found else None


def split_front_matter(text: str) -> tuple[dict[str, Any], str]:
    """A written file's front matter values and body; ValueError if none or it does not parse."""
    parts = fenced(text)
    if parts is None:
        raise ValueError("no front matter between --- or +++ fences")
    fence, front, body = parts
    try:
        values = yaml.safe_load(front) if FENCES[fence] == "yaml" else tomllib.loads(front)
    except (yaml.YAMLError, tomllib.TOMLDecodeError) as exc:
        raise ValueError(f"front matter does not parse: {exc}") from exc
    if not isinstance(values, dict):
        raise ValueError("front matter is not a map")
    return values, body


def article_fields(
    article: Article,
    date_format: str,
    summary_length: int,
    thumbnail: str,
    body_links: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The article values a front matter template may name as ``{field}`` (docs/settings.md).

    ``{thumbnail}`` with ``thumbnail="local"``: the local copy's link when there is one, the body's
    own link when it is one of the body's images (``body_links``: remote URL -> link).
    """
    remote = escape_url(article.thumbnail) if is_web_url(article.thumbnail) else ""
    local = ((body_links or {}).get(article.thumbnail) or article.thumbnail_path) if thumbnail == "local" else ""
    thumbnail = local or remote
    return {
        "title": article.title,
        "date": format_date(article.published, date_format),
        "summary": summary(article.blocks, summary_length),
        "description": summary(article.blocks, summary_length, plain=True),
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
    # joined. PyYAML's pure-Python emitter was 60% of the cost of a page (docs/BENCHMARKS.md), so
    # the entries whose text is certain (a plain key and a string, a bool or a list of strings, the
    # shapes of every built-in profile) are written directly, exactly as PyYAML writes them
    # (tests/test_frontmatter_yaml.py compares the two); anything else goes through PyYAML.
    if not values:
        return _dump(values)
    return "".join(_entry(key, value) for key, value in values.items())


# Characters PyYAML writes as they are inside a double-quoted scalar with allow_unicode: printable
# ASCII but the quote and the backslash, and the BMP but the line/paragraph separators, the BOM
# and the surrogates (yaml.emitter.Emitter.write_double_quoted). Anything else is escaped by PyYAML.
_VERBATIM_RE = re.compile(r"[\x20\x21\x23-\x5b\x5d-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd]*")
_PLAIN_KEY_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_RESOLVER = yaml.resolver.Resolver()


@lru_cache(maxsize=1024)
def _plain_key(key: object) -> bool:
    """A key PyYAML writes bare: a word that reads back as a string (not true, null, no...)."""
    # Cached: keys are the front matter template's (the settings'), never a page's.
    return (
        isinstance(key, str)
        and _PLAIN_KEY_RE.fullmatch(key) is not None
        and _RESOLVER.resolve(yaml.ScalarNode, key, (True, False)) == "tag:yaml.org,2002:str"
    )


def _quoted(value: object) -> str | None:
    if isinstance(value, str) and _VERBATIM_RE.fullmatch(value):
        return f'"{value}"'
    return None


def _entry(key: str, value: Any) -> str:
    """``key: value`` as PyYAML writes it in a block mapping, directly where that is certain."""
    if _plain_key(key):
        if isinstance(value, bool):
            return f"{key}: {'true' if value else 'false'}\n"
        text = _quoted(value)
        if text is not None:
            return f"{key}: {text}\n"
        if isinstance(value, list) and value:
            items = [_quoted(item) for item in value]
            if None not in items:
                return f"{key}:\n" + "".join(f"  - {item}\n" for item in items)
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
