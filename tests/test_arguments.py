"""The spider's arguments (crawler.qq.arguments): a pure function, tested without a crawler."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from scrapy.settings import Settings

from crawler import settings as project_settings
from crawler.config import Config, ConfigError
from crawler.qq.arguments import ARGUMENTS, Arguments, parse_arguments, parse_since
from crawler.times import BEIJING

ID = "20250207A090J800"
DEFAULT_CHANNELS = ("news_news_top", "news_news_tech", "news_news_finance", "news_news_world")


def settings(**overrides: object) -> Config:
    """The crawl's checked configuration: the project's settings with ``overrides``."""
    values = Settings()
    values.setmodule(project_settings)
    values.update(overrides)
    return Config.from_settings(values)


def parse(**given: str) -> tuple[Arguments, list[str]]:
    return parse_arguments(given, settings())


def test_no_arguments_read_the_default_channels() -> None:
    args, errors = parse()
    assert errors == []
    assert args == Arguments(
        inputs=(), channels=DEFAULT_CHANNELS, pages=5, since=None, sitemap=False, refresh=False, videos="skip"
    )


def test_refresh_is_the_argument_or_the_setting() -> None:
    """One place says whether this crawl refreshes: the spider's ``refresh``, read by dedup and the listings."""
    assert not parse()[0].refresh
    assert parse(refresh="1")[0].refresh
    assert parse_arguments({}, settings(DEDUP_REFRESH=True))[0].refresh
    assert parse_arguments({"refresh": "0"}, settings(DEDUP_REFRESH=True))[0].refresh  # the setting still holds


def test_every_argument_parsed() -> None:
    args, errors = parse(
        urls=f"https://new.qq.com/rain/a/{ID}, news.qq.com/rain/a/20260810A0TP0100",
        ids="20260810A0TP0200,",
        channels="tech, news_news_xyz,TECH",
        pages="2",
        since="2026-08-09 18:00",
        sitemap="yes",
        refresh="1",
        _job="6487ec79947edab326d6db28a2d86511e8247444",
        _version="1",
    )
    assert errors == []
    assert args.inputs == (f"https://new.qq.com/rain/a/{ID}", "news.qq.com/rain/a/20260810A0TP0100", "20260810A0TP0200")
    assert args.channels == ("news_news_tech", "news_news_xyz")  # each once; a raw id as given
    assert (args.pages, args.sitemap, args.refresh) == (2, True, True)
    assert args.since == datetime(2026, 8, 9, 18, tzinfo=BEIJING)


def test_named_articles_read_no_default_channel(tmp_path: Path) -> None:
    url_file = tmp_path / "urls.txt"
    url_file.write_text(f"\ufeff# a comment\n\n  {ID}  \nnew.qq.com/rain/a/20260810A0TP0100\n", encoding="utf-8")
    for given in [{"ids": ID}, {"urls": ID}, {"url_file": str(url_file)}]:
        args, errors = parse(**given)
        assert errors == [] and args.channels == ()
    args, _ = parse(url_file=str(url_file), channels="fx")
    assert args.inputs == (ID, "new.qq.com/rain/a/20260810A0TP0100")
    assert args.channels == ("news_news_fx",)


def test_channels_none_and_distributed_mode_read_no_channel() -> None:
    assert parse(channels="None")[0].channels == ()
    args, errors = parse_arguments({}, settings(REDIS_URL="redis://127.0.0.1:6379/0"))
    assert errors == [] and args.channels == ()
    args, errors = parse_arguments({"channels": "tech"}, settings(REDIS_URL="redis://127.0.0.1:6379/0"))
    assert errors == [] and args.channels == ("news_news_tech",)


def test_settings_give_the_defaults() -> None:
    args, errors = parse_arguments({}, settings(QQ_CHANNELS=["ent", "news_news_abc"], QQ_FEED_PAGES=7, QQ_VIDEOS="write"))
    assert errors == []
    assert (args.channels, args.pages, args.videos) == (("news_news_ent", "news_news_abc"), 7, "write")
    assert parse(pages="3")[0].pages == 3


@pytest.mark.parametrize(
    ("given", "error"),
    [
        ({"chanels": "tech"}, "unknown argument chanels='tech'"),
        ({"urls": ""}, "urls='': empty; give comma-separated article URLs, or leave urls out"),
        ({"ids": " , "}, "ids=' , ': empty; give comma-separated article ids, or leave ids out"),
        ({"url_file": ""}, "url_file='': empty; give the path of a file of article URLs or ids, or leave url_file out"),
        ({"url_file": "/nonexistent/urls.txt"}, "url_file='/nonexistent/urls.txt': cannot be read ("),
        ({"channels": ""}, "channels='': empty; give channel names or ids, or none for no feed"),
        ({"channels": "nosuchchannel"}, "channels: unknown channel name 'nosuchchannel' (known: top, tech, finance"),
        ({"channels": "tech;rm"}, "channels: not a channel name or id: 'tech;rm'"),
        ({"channels": "none,tech"}, "channels='none,tech': none cannot be given with channels"),
        ({"pages": "0"}, "pages='0': expected a whole number of at least 1"),
        ({"pages": "two"}, "pages='two': expected a whole number of at least 1"),
        ({"since": "yesterday"}, "since='yesterday': expected YYYY-MM-DD or 'YYYY-MM-DD HH:MM' (Beijing time)"),
        ({"sitemap": "maybe"}, "sitemap='maybe': expected 1 or 0 (or true/false, yes/no, on/off)"),
        ({"refresh": "always"}, "refresh='always': expected 1 or 0 (or true/false, yes/no, on/off)"),
    ],
)
def test_each_bad_argument_is_named_with_what_is_accepted(given: dict[str, str], error: str) -> None:
    _, errors = parse(**given)
    assert len(errors) == 1
    assert errors[0].startswith(error), errors[0]


def test_an_url_file_that_names_nothing_is_an_error(tmp_path: Path) -> None:
    url_file = tmp_path / "urls.txt"
    url_file.write_text("# nothing yet\n\n", encoding="utf-8")
    _, errors = parse(url_file=str(url_file))
    assert errors == [f"url_file={str(url_file)!r}: no article URL or id in it (one a line; blank lines and # comments are ignored)"]


def test_the_settings_they_fall_back_to_are_checked_with_the_settings() -> None:
    with pytest.raises(ConfigError) as bad:
        settings(QQ_VIDEOS="maybe", QQ_CHANNELS=["tech", "nosuch"])
    assert [e.split(" (")[0] for e in bad.value.errors] == [
        "QQ_CHANNELS: unknown channel name 'nosuch'",
        "QQ_VIDEOS = 'maybe' is not one of skip, write",
    ]


def test_every_error_is_collected_at_once() -> None:
    _, errors = parse(urls="", ids=ID, channels="tech,nosuch,foo", pages="-1", since="soon", sitemap="x", verbose="1")
    assert [e.split(":")[0] for e in errors] == [
        "unknown argument verbose='1'", "urls=''", "channels", "channels", "pages='-1'", "since='soon'", "sitemap='x'",
    ]  # fmt: skip


def test_empty_since_and_pages_are_the_defaults() -> None:
    args, errors = parse(since="", pages=" ", sitemap="", refresh="0")
    assert errors == []
    assert (args.since, args.pages, args.sitemap, args.refresh) == (None, 5, False, False)


def test_accepted_arguments() -> None:
    assert ARGUMENTS == ("urls", "ids", "url_file", "channels", "pages", "since", "sitemap", "refresh")


def test_since_forms() -> None:
    assert parse_since("2026-08-09") == datetime(2026, 8, 9, tzinfo=BEIJING)
    assert parse_since("2026-08-09 12:30") == datetime(2026, 8, 9, 12, 30, tzinfo=BEIJING)
    for bad in ["yesterday", "2026-13-01", "09/08/2026", "2026-08-09T12:30+08:00x"]:
        with pytest.raises(ValueError, match="expected YYYY-MM-DD"):
            parse_since(bad)
