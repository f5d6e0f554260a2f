"""Checks made when the crawl opens, before any request: the output root and the spider arguments.

Each refuses by raising CloseSpider, which Scrapy (2.13+) turns into closing the crawl with that
reason before ``start()`` is read. ``test_scrapyd.py`` shows the same through a real Scrapyd job.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from scrapy.exceptions import CloseSpider
from scrapy.utils.test import get_crawler

from crawler import settings as project_settings
from crawler.files import root_problem
from crawler.spiders.qq import QqSpider
from crawler.store.extension import store_of
from tests.support.components import project_crawler


def test_writable_directory_passes(tmp_path: Path) -> None:
    assert root_problem(tmp_path) is None
    assert list(tmp_path.iterdir()) == []  # the check leaves nothing behind
    store_of(project_crawler(tmp_path)).spider_opened()


@pytest.mark.parametrize(
    ("root", "problem"),
    [
        ("missing", "does not exist"),
        ("file", "is not a directory"),
        ("/proc", "is not writable"),  # no file can be created in procfs, even by root
    ],
)
def test_unusable_root_closes_the_crawl(tmp_path: Path, root: str, problem: str, caplog) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "file").write_text("x")
    path = tmp_path / root
    assert (root_problem(path) or "").startswith(problem)
    crawler = project_crawler(path)
    with pytest.raises(CloseSpider) as closed:
        store_of(crawler).spider_opened()
    assert closed.value.reason == "bad_output_root"
    assert crawler.stats.get_value("store/bad_output_root") == 1
    assert f"OUTPUT_ROOT {path} {problem}" in caplog.text
    assert not (tmp_path / "missing").exists()  # never created


def spider(**arguments: str) -> QqSpider:
    settings = {k: getattr(project_settings, k) for k in dir(project_settings) if k.isupper()}
    crawler = get_crawler(QqSpider, settings)
    crawler.stats.open_spider()
    return QqSpider.from_crawler(crawler, **arguments)


def test_known_and_scrapyd_arguments_pass() -> None:
    job = "6487ec79947edab326d6db28a2d86511e8247444"
    qq = spider(ids="20250207A090J800", since="2026-08-09", _job=job, _version="1")
    qq.check_arguments()
    assert qq.args.inputs == ("20250207A090J800",)
    assert qq.args.channels == ()
    assert qq._job == job  # type: ignore[attr-defined]  # as Scrapy sets every argument
    assert not hasattr(qq, "ids") and not hasattr(qq, "since")  # parsed into qq.args, not left as strings
    assert qq.crawler.stats.get_value("qq/bad_arguments") is None


def test_unknown_arguments_close_the_crawl(caplog) -> None:  # type: ignore[no-untyped-def]
    qq = spider(ids="20250207A090J800", chanels="tech", url="https://new.qq.com/rain/a/20250207A090J800", _job="1")
    with pytest.raises(CloseSpider) as closed:
        qq.check_arguments()
    assert closed.value.reason == "bad_arguments"
    assert qq.crawler.stats.get_value("qq/bad_arguments") == 2
    message = re.search(r"Bad spider arguments, nothing crawled: (.*) \(accepted: (.*)\)", caplog.text)
    assert message, caplog.text
    assert message[1] == "unknown argument chanels='tech'; unknown argument url='https://new.qq.com/rain/a/20250207A090J800'"
    assert message[2] == "urls, ids, url_file, channels, pages, since, sitemap, refresh"


def test_every_bad_value_is_counted_in_one_error_line(caplog) -> None:  # type: ignore[no-untyped-def]
    qq = spider(urls="", channels="tech,nosuchchannel", pages="0")
    with pytest.raises(CloseSpider):
        qq.check_arguments()
    assert qq.crawler.stats.get_value("qq/bad_arguments") == 3
    errors = [r for r in caplog.records if r.levelname == "ERROR"]
    assert len(errors) == 1
    assert "urls='': empty" in errors[0].message
    assert "channels: unknown channel name 'nosuchchannel'" in errors[0].message
    assert "pages='0'" in errors[0].message
