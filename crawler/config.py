"""The crawl's configuration: every project setting read, checked and typed once, frozen.

Defaults live in ``crawler/settings.py`` only; this module says what each setting must be. The crawl
command checks them all before the crawl opens (``settings_errors``: one line per mistake, exit 3);
components read ``config_of(crawler)``. Docs: docs/settings.md.
"""

from __future__ import annotations

import json
import shlex
import shutil
import string
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from scrapy.crawler import Crawler
from scrapy.settings import BaseSettings
from scrapy.utils.misc import load_object

Parse = Callable[[BaseSettings, str], Any]
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


class ConfigError(ValueError):
    """Settings a crawl cannot run with; ``errors`` has one line per mistake, each naming its setting."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


def duration(value: object, name: str = "duration") -> float:
    """Seconds from ``"30m"``, ``"48h"``, ``"7d"``, ``"2w"`` or a number of seconds; ValueError naming
    the setting otherwise."""
    text = str(value).strip().lower()
    try:
        seconds = float(text[:-1]) * _UNITS[text[-1]] if text and text[-1] in _UNITS else float(text)
    except ValueError:
        seconds = -1.0
    if not seconds >= 0:  # also NaN
        raise ValueError(f"{name} = {value!r} is not a duration (e.g. 30m, 48h, 7d, or seconds)")
    return seconds


# -- what a setting may be: each parser reads one setting and says what is wrong in words ----------


def boolean(settings: BaseSettings, name: str) -> bool:
    try:
        return settings.getbool(name)
    except ValueError:
        raise ValueError(f"{name} = {settings[name]!r} is not a boolean (True/False, 1/0)") from None


def integer(minimum: int = 0) -> Parse:
    def parse(settings: BaseSettings, name: str) -> int:
        try:
            value = settings.getint(name)
        except (TypeError, ValueError):
            raise ValueError(f"{name} = {settings[name]!r} is not a whole number") from None
        if value < minimum:
            raise ValueError(f"{name} = {value} is below {minimum}")
        return value

    return parse


def number(minimum: float = 0.0, above: bool = False, maximum: float | None = None) -> Parse:
    def parse(settings: BaseSettings, name: str) -> float:
        try:
            value = settings.getfloat(name)
        except (TypeError, ValueError):
            raise ValueError(f"{name} = {settings[name]!r} is not a number") from None
        if not (value > minimum if above else value >= minimum) or (maximum is not None and value > maximum):
            bound = f"above {minimum:g}" if above else f"at least {minimum:g}"
            raise ValueError(f"{name} = {value:g} must be {bound}" + (f" and at most {maximum:g}" if maximum is not None else ""))
        return value

    return parse


def seconds(settings: BaseSettings, name: str) -> float:
    return duration(settings[name], name)


def text(settings: BaseSettings, name: str) -> str:
    value = settings[name]
    if not isinstance(value, str):
        raise ValueError(f"{name} = {value!r} is not text")
    return value


def choice(*options: str) -> Parse:
    def parse(settings: BaseSettings, name: str) -> str:
        value = settings[name]
        if value not in options:
            raise ValueError(f"{name} = {value!r} is not one of {', '.join(options)}")
        return str(value)

    return parse


def template(*allowed: str, required: tuple[str, ...] = (), url: bool = False, empty: bool = False) -> Parse:
    """A ``str.format`` template using only ``allowed`` fields, with every ``required`` one; ``url``:
    an http(s) URL once filled; ``empty``: may be empty (the profile's or none)."""

    def parse(settings: BaseSettings, name: str) -> str:
        value = text(settings, name)
        if not value and empty:
            return value
        try:
            used = {field for _, field, _, _ in string.Formatter().parse(value) if field is not None}
        except ValueError as error:
            raise ValueError(f"{name} = {value!r} is not a template: {error}") from None
        unknown, missing = used - set(allowed), set(required) - used
        if unknown or missing:
            what = f"unknown field(s) {', '.join(sorted(unknown))}" if unknown else f"no {', '.join(sorted(missing))}"
            raise ValueError(f"{name} = {value!r}: {what} (fields: {', '.join(allowed) or 'none'})")
        if url and urlsplit(value).scheme not in ("http", "https"):
            raise ValueError(f"{name} = {value!r} is not an http(s) URL")
        return value

    return parse


def url(schemes: tuple[str, ...] = ("http", "https")) -> Parse:
    """A URL of one of ``schemes``, or empty (off)."""

    def parse(settings: BaseSettings, name: str) -> str:
        value = text(settings, name)
        parts = urlsplit(value)
        if value and (parts.scheme not in schemes or not parts.hostname):
            raise ValueError(f"{name} = {value!r} is not a {'/'.join(schemes)} URL")
        return value

    return parse


def text_list(settings: BaseSettings, name: str) -> tuple[str, ...]:
    values = settings.getlist(name)
    if not all(isinstance(v, str) and v for v in values):
        raise ValueError(f"{name} = {settings[name]!r} is not a list of names")
    return tuple(values)


def status_list(settings: BaseSettings, name: str) -> tuple[int, ...]:
    try:
        codes = tuple(int(v) for v in settings.getlist(name))
    except (TypeError, ValueError):
        codes = ()
    if not codes or not all(100 <= c <= 999 for c in codes):
        raise ValueError(f"{name} = {settings[name]!r} is not a list of HTTP status codes")
    return codes


def mapping(settings: BaseSettings, name: str) -> dict[str, Any]:
    try:
        return dict(settings.getdict(name))
    except (TypeError, ValueError):
        raise ValueError(f"{name} = {settings[name]!r} is not a mapping") from None


def shares(settings: BaseSettings, name: str) -> dict[str, float]:
    values = mapping(settings, name)
    try:
        result = {str(k): float(v) for k, v in values.items()}
    except (TypeError, ValueError):
        result = {"": -1.0}
    if not all(0 <= v <= 1 for v in result.values()):
        raise ValueError(f"{name} = {values!r}: every value must be a share between 0 and 1")
    return result


def dotted(settings: BaseSettings, name: str) -> str:
    value = text(settings, name)
    try:
        load_object(value)
    except (ImportError, NameError, ValueError, AttributeError) as error:
        raise ValueError(f"{name} = {value!r} cannot be loaded: {error}") from None
    return value


def dotted_list(settings: BaseSettings, name: str) -> tuple[str, ...]:
    values = text_list(settings, name) if settings.getlist(name) else ()
    for value in values:
        try:
            load_object(value)
        except (ImportError, NameError, ValueError, AttributeError) as error:
            raise ValueError(f"{name}: {value!r} cannot be loaded: {error}") from None
    return values


def channels(settings: BaseSettings, name: str) -> tuple[str, ...]:
    """Channel names or ids -> channel ids (``crawler.qq.feeds.channel_id``)."""
    from crawler.qq.feeds import channel_id  # noqa: PLC0415 (site knowledge, imported when checked)

    try:
        return tuple(channel_id(value) for value in text_list(settings, name))
    except ValueError as error:
        raise ValueError(f"{name}: {error}") from None


def command_argv(value: Any) -> list[str]:
    """A command setting as argv: a list as given (or as a JSON list, from ``-s``), any other string
    split as a shell would (no shell runs). ValueError when it is neither."""
    if isinstance(value, str) and value.lstrip().startswith("["):
        value = json.loads(value)  # a JSONDecodeError is a ValueError
        if not isinstance(value, list):
            raise ValueError("not a JSON list")
    elif isinstance(value, str):
        return shlex.split(value)
    return [str(part) for part in value or []]


def command(settings: BaseSettings, name: str) -> tuple[str, ...]:
    """A command to run (empty: none): its program found on PATH or as a path."""
    try:
        argv = command_argv(settings[name])
    except ValueError as error:
        raise ValueError(f"{name} = {settings[name]!r} cannot be split: {error}") from None
    if argv and shutil.which(argv[0]) is None:
        raise ValueError(f"{name}: {argv[0]!r} is not an executable (not found on PATH, or not a path to one)")
    return tuple(argv)


def _profiles() -> tuple[str, ...]:
    from crawler.render.profiles import PROFILES  # noqa: PLC0415 (render imports nothing of this)

    return tuple(PROFILES)


def profile_name(settings: BaseSettings, name: str) -> str:
    return choice(*_profiles())(settings, name)


def spec(parse: Parse) -> Any:
    """A Config field read by ``parse`` from the setting of the field's name in upper case."""
    return field(metadata={"parse": parse})


@dataclass(frozen=True)
class Config:
    """The project's own settings, typed (names: the setting's in lower case)."""

    stats_file: str = spec(text)
    summary_interval: float = spec(number())
    # the qq spider and discovery
    qq_fetch_url: str = spec(template("id", required=("id",), url=True))
    qq_article_url: str = spec(template("id", required=("id",), url=True))
    qq_channels: tuple[str, ...] = spec(channels)
    qq_feed_pages: int = spec(integer(1))
    qq_feed_url: str = spec(url())
    qq_feed_busy_retries: int = spec(integer())
    qq_feed_busy_delay: float = spec(number())
    qq_sitemap_url: str = spec(url())
    qq_videos: str = spec(choice("skip", "write"))
    clean_enabled: bool = spec(boolean)
    # rendering and paths
    markdown_front_matter: dict[str, Any] = spec(mapping)
    markdown_date_format: str = spec(text)
    markdown_summary_length: int = spec(integer(1))
    markdown_link_text: str = spec(text)
    markdown_image_alt: str = spec(text)
    markdown_videos: str = spec(choice("link", "embed"))
    output_profile: str = spec(profile_name)
    output_root: str = spec(text)
    output_path: str = spec(template("date", "year", "month", "day", "slug", "id", empty=True))
    output_slug_max_length: int = spec(integer(1))
    # thumbnails and images
    thumbnails_enabled: bool = spec(boolean)
    thumbnails_store: str = spec(text)
    thumbnails_path: str = spec(template("id", required=("id",)))
    thumbnails_body_path: str = spec(template("id", "n", required=("id", "n")))
    thumbnails_url_prefix: str = spec(text)
    thumbnails_front_matter: str = spec(choice("remote", "local"))
    thumbnails_body_images: bool = spec(boolean)
    thumbnails_maxsize: int = spec(integer(1))
    thumbnails_min_width: int = spec(integer())
    thumbnails_min_height: int = spec(integer())
    thumbnails_download_slot: str = spec(text)
    # the article store, dedup and updates
    store_backend: str = spec(choice("sqlite", "redis"))
    store_sqlite_path: str = spec(text)
    store_lock_timeout: float = spec(number(above=True))
    store_keepalive_interval: float = spec(number())
    dedup_enabled: bool = spec(boolean)
    dedup_refresh: bool = spec(boolean)
    dedup_retry_dropped: float = spec(seconds)
    update_window: float = spec(seconds)
    update_budget: int = spec(integer())
    update_recheck_after: float = spec(seconds)
    update_download_slot: str = spec(text)
    update_refetch_budget: int = spec(integer())
    update_stamp_misses: int = spec(integer())
    conditional_enabled: bool = spec(boolean)
    deleted_files: str = spec(choice("keep", "draft", "remove"))
    # throttling and the network
    throttle_enabled: bool = spec(boolean)
    throttle_http_codes: tuple[int, ...] = spec(status_list)
    throttle_backoff_base: float = spec(number(above=True))
    throttle_max_delay: float = spec(number(above=True))
    throttle_blocked_after: float = spec(number(above=True))
    network_failures: int = spec(integer())
    # limits and stopping (docs/limits.md)
    sizes_feed_maxsize: int = spec(integer(1))
    sizes_sitemap_maxsize: int = spec(integer(1))
    stop_grace: float = spec(number())
    # distributed mode
    redis_url: str = spec(url(("redis", "rediss", "unix")))
    redis_start_urls_key: str = spec(text)
    max_idle_time_before_close: float = spec(number())
    redis_lost_timeout: float = spec(number(above=True))
    redis_lease_seconds: float = spec(number(above=True))
    redis_retries: int = spec(integer())
    store_redis_url: str = spec(url(("redis", "rediss", "unix")))
    store_redis_prefix: str = spec(text)
    store_redis_claim_lease: float = spec(number(above=True))
    # monitors
    monitors_drift_max: float = spec(number(maximum=1.0))
    monitors_coverage_min_articles: int = spec(integer(1))
    monitors_coverage_missing_max: dict[str, float] = spec(shares)
    monitors_max_errors: int = spec(integer())
    monitors_refused_max: float = spec(number(maximum=1.0))
    monitors_reports_dir: str = spec(text)
    monitors_reports_keep: int = spec(integer(1))
    monitors_webhook_url: str = spec(url())
    monitors_webhook_timeout: float = spec(number(above=True))
    monitors_failed_actions: tuple[str, ...] = spec(dotted_list)
    # the URL policy
    urlpolicy_enabled: bool = spec(boolean)
    urlpolicy_resolver: str = spec(dotted)
    # telling the site (crawler.extensions.sitehook)
    sitehook_url: str = spec(url())
    sitehook_secret: str = spec(text)
    sitehook_command: tuple[str, ...] = spec(command)
    sitehook_timeout: float = spec(number(above=True))
    sitehook_retries: int = spec(integer())
    sitehook_retry_delay: float = spec(number())

    @property
    def output_root_path(self) -> Path:
        """``OUTPUT_ROOT`` as a Path, ``~`` expanded (``crawler.files.output_root``)."""
        return Path(self.output_root).expanduser()

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> Config:
        """Every setting read and checked: ConfigError with every mistake, one line each."""
        values: dict[str, Any] = {}
        errors: list[str] = []
        for item in fields(cls):
            try:
                values[item.name] = item.metadata["parse"](settings, item.name.upper())
            except ValueError as error:
                errors.append(str(error))
        if not errors:
            errors += cross_errors(settings, values)
        if errors:
            raise ConfigError(errors)
        return cls(**values)


def cross_errors(settings: BaseSettings, values: dict[str, Any]) -> list[str]:
    """Rules between settings, once each alone is right."""
    errors = []
    distributed = bool(values["redis_url"])
    claim = values["store_redis_claim_lease"] if distributed or values["store_backend"] == "redis" else 0.0
    if distributed and values["redis_lease_seconds"] * 2 / 3 <= claim:
        # A lapsed crawler's work must come back after its claims lapsed, or the article is lost.
        errors.append(
            f"REDIS_LEASE_SECONDS = {values['redis_lease_seconds']:g} must exceed 1.5 x STORE_REDIS_CLAIM_LEASE "
            f"({claim:g}): a lapsed crawler's work would come back while its claims still hold"
        )
    if values["sitehook_url"] and not values["sitehook_secret"]:
        errors.append("SITEHOOK_URL is set but SITEHOOK_SECRET is empty: set the secret the receiver checks the signature with")
    try:
        from crawler.render.profiles import profile_from_settings  # noqa: PLC0415

        profile_from_settings(settings)
    except ValueError as error:
        errors.append(str(error))
    return errors


def settings_errors(settings: BaseSettings) -> list[str]:
    """Every mistake in the settings, one line each naming the setting (empty: the crawl may run)."""
    try:
        Config.from_settings(settings)
    except ConfigError as error:
        return error.errors
    return []


_CONFIGS: weakref.WeakKeyDictionary[Crawler, Config] = weakref.WeakKeyDictionary()


def config_of(crawler: Crawler) -> Config:
    """The crawl's configuration, built on first use and kept for the crawl (ConfigError if bad)."""
    config = _CONFIGS.get(crawler)
    if config is None:
        config = _CONFIGS[crawler] = Config.from_settings(crawler.settings)
    return config
