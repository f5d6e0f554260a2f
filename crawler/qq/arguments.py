"""The qq spider's arguments (``-a name=value``, Scrapyd's ``-d name=value``) -> ``Arguments`` and every error.

Every bad value is named with what is accepted, so the crawl is refused at start in one line
instead of crawling something else than was meant. Reads nothing but ``url_file``. Docs: docs/arguments.md.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING

from crawler.qq.feeds import channel_id
from crawler.times import BEIJING, parse_time

if TYPE_CHECKING:
    from crawler.config import Config

ARGUMENTS = ("urls", "ids", "url_file", "channels", "pages", "since", "sitemap", "refresh")
# Arguments Scrapyd adds to every job it launches.
SCRAPYD_ARGUMENTS = ("_job", "_version")
NO_CHANNELS = "none"
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("", "0", "false", "no", "off")


@dataclass(frozen=True)
class Arguments:
    """What a crawl was asked for, arguments and settings resolved."""

    inputs: tuple[str, ...]  # article URLs or ids as given: urls, then ids, then url_file's lines
    channels: tuple[str, ...]  # channel ids whose feeds are read, each once
    pages: int  # feed pages per channel
    since: datetime | None  # older entries are not fetched (Beijing time, tz-aware)
    sitemap: bool  # read the sitemap index QQ_SITEMAP_URL
    refresh: bool  # fetch and rewrite articles already written (-a refresh=1, or DEDUP_REFRESH)
    videos: str  # QQ_VIDEOS: "skip" or "write"


def parse_arguments(given: Mapping[str, str], config: Config) -> tuple[Arguments, list[str]]:
    """The arguments as given -> (Arguments, errors); Arguments are only meant to be used without errors.
    The settings they fall back to are ``config``'s, checked already."""
    errors = [
        f"unknown argument {name}={value!r}"
        for name, value in sorted(given.items())
        if name not in ARGUMENTS and name not in SCRAPYD_ARGUMENTS
    ]
    inputs: list[str] = []
    for name, what in (("urls", "article URLs"), ("ids", "article ids")):
        if name in given:
            items = split_arg(given[name])
            if not items:
                errors.append(f"{name}={given[name]!r}: empty; give comma-separated {what}, or leave {name} out")
            inputs += items
    if "url_file" in given:
        inputs += _url_file(given["url_file"], errors)
    named = any(name in given for name in ("urls", "ids", "url_file"))

    if "channels" in given:
        channels = _channels(given["channels"], "channels", errors)
    elif named or config.redis_url:
        channels = []
    else:
        channels = list(dict.fromkeys(config.qq_channels))

    pages = config.qq_feed_pages
    if given.get("pages", "").strip():
        value = given["pages"].strip()
        if value.isdigit() and int(value) >= 1:
            pages = int(value)
        else:
            errors.append(f"pages={given['pages']!r}: expected a whole number of at least 1")

    since = None
    if given.get("since", "").strip():
        try:
            since = parse_since(given["since"])
        except ValueError as error:
            errors.append(str(error))

    arguments = Arguments(
        inputs=tuple(inputs),
        channels=tuple(channels),
        pages=pages,
        since=since,
        sitemap=_flag(given, "sitemap", errors),
        refresh=_flag(given, "refresh", errors) or config.dedup_refresh,
        videos=config.qq_videos,
    )
    return arguments, errors


def split_arg(value: str) -> list[str]:
    """A comma-separated argument as a list of its non-empty items."""
    return [part.strip() for part in value.split(",") if part.strip()]


def read_url_file(path: str) -> list[str]:
    """The URLs or ids of a file, one a line; blank lines and ``#`` comments are ignored."""
    try:
        text = Path(path).expanduser().read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"url_file={path!r}: cannot be read ({exc})") from exc
    return [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def parse_since(value: str) -> datetime:
    """``YYYY-MM-DD`` or ``YYYY-MM-DD HH:MM[:SS]`` in Beijing time, else ValueError."""
    value = value.strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        try:
            return datetime.combine(date.fromisoformat(value), time(), BEIJING)
        except ValueError:
            pass
    else:
        parsed = parse_time(value)
        if parsed is not None:
            return parsed
    raise ValueError(f"since={value!r}: expected YYYY-MM-DD or 'YYYY-MM-DD HH:MM' (Beijing time)")


def _url_file(path: str, errors: list[str]) -> list[str]:
    if not path.strip():
        errors.append(f"url_file={path!r}: empty; give the path of a file of article URLs or ids, or leave url_file out")
        return []
    try:
        lines = read_url_file(path)
    except ValueError as error:
        errors.append(str(error))
        return []
    if not lines:
        errors.append(f"url_file={path!r}: no article URL or id in it (one a line; blank lines and # comments are ignored)")
    return lines


def _channels(value: str, name: str, errors: list[str]) -> list[str]:
    """Channel ids of a comma-separated list, each once; ``none`` alone is no channel."""
    names = split_arg(value)
    if [n.lower() for n in names] == [NO_CHANNELS]:
        return []
    if not names:
        errors.append(f"{name}={value!r}: empty; give channel names or ids, or {NO_CHANNELS} for no feed")
        return []
    if NO_CHANNELS in (n.lower() for n in names):
        errors.append(f"{name}={value!r}: {NO_CHANNELS} cannot be given with channels")
        return []
    channels: list[str] = []
    for raw in names:
        try:
            channel = channel_id(raw)
        except ValueError as error:
            errors.append(f"{name}: {error}")
            continue
        if channel not in channels:
            channels.append(channel)
    return channels


def _flag(given: Mapping[str, str], name: str, errors: list[str]) -> bool:
    value = given.get(name, "").strip().lower()
    if value not in _TRUE + _FALSE:
        errors.append(f"{name}={given[name]!r}: expected 1 or 0 (or true/false, yes/no, on/off)")
    return value in _TRUE
