"""Every URL form of an article maps to one canonical id, and back to one link."""

import pytest

from crawler.qq.ids import (
    article_id,
    article_input,
    canonical_url,
    clean_url,
    fallback_url,
    fetch_url,
    is_video_id,
    not_article_form,
    same_article,
)
from crawler.settings import QQ_FETCH_URL as FETCH

FORMS = [
    ("https://news.qq.com/rain/a/20250207A090J800", "20250207A090J800"),
    ("https://new.qq.com/rain/a/20250207A090J800", "20250207A090J800"),
    ("http://new.qq.com/rain/a/20250207A090J800", "20250207A090J800"),
    ("https://new.qq.com/rain/a/20250207A090J800/", "20250207A090J800"),
    ("https://new.qq.com/rain/a/20250207A090J800?suid=&media_id=", "20250207A090J800"),
    ("https://new.qq.com/rain/a/20250207A090J800#comments", "20250207A090J800"),
    ("https://new.qq.com/omn/20250207/20250207A090J800.html", "20250207A090J800"),
    ("https://new.qq.com/omn/20250207A090J800", "20250207A090J800"),
    ("https://view.inews.qq.com/a/20250207A090J800", "20250207A090J800"),
    ("https://view.inews.qq.com/a/20250207A090J800?uid=1&chlid=news_news_top", "20250207A090J800"),
    ("//new.qq.com/rain/a/20250207A090J800", "20250207A090J800"),
    ("new.qq.com/rain/a/20250207A090J800", "20250207A090J800"),
    ("20250207A090J800", "20250207A090J800"),
    ("20250207a090j800", "20250207A090J800"),
    ("https://news.qq.com/rain/a/20260810V07PA300", "20260810V07PA300"),
    ("https://new.qq.com/rain/a/20210426003469", "20210426003469"),
    ("https://new.qq.com/omn/20210426/20210426003469.html", "20210426003469"),
    ("TWF2021042600346900", "20210426003469"),
    ("https://new.qq.com/rain/a/TWF2021042600346900", "20210426003469"),
    ("http://tech.qq.com/a/20161014/006270.htm", "20161014006270"),
    ("https://news.qq.com/a/20161014/006270.htm", "20161014006270"),
    ("http://tech.qq.com/a/20161014/006270.htm#p=1", "20161014006270"),
    ("https://new.qq.com/omn/20201130/20201130A0G1JJ00.html", "20201130A0G1JJ00"),
    # 14-character ids (2017-2020 article_id): one article with their 16-character cms id.
    ("https://new.qq.com/rain/a/20201130A0G1JJ", "20201130A0G1JJ00"),
    ("https://new.qq.com/omn/20201130/20201130A0G1JJ.html", "20201130A0G1JJ00"),
    ("20201130A0G1JJ", "20201130A0G1JJ00"),
    ("20201130a0g1jj", "20201130A0G1JJ00"),
    ("20171129V077OD", "20171129V077OD00"),
    # The real URL of a 2020 numeric-id page: /omn/<first 8 of the TWF id>/<TWF id>.html.
    ("https://new.qq.com/omn/TWF20200/TWF2020041300303000.html", "20200413003030"),
    ("https://new.qq.com/omn/20200413/20200413003030.html", "20200413003030"),
    ("https://xw.qq.com/cmsid/20190331A0E97900", "20190331A0E97900"),
    # 2019-2020 channel pages link numeric-id articles under /cmsn/<date>/ too (SITE.md §1f).
    ("https://new.qq.com/cmsn/20200413/20200413003030.html", "20200413003030"),
    ("http://new.qq.com/cmsn/20200413/20200413003030.html?pgv_ref=aio", "20200413003030"),
    # Forms the channel feed and the sitemaps give (link_info.url, share_url, <loc>).
    ("https://view.inews.qq.com/a/20260810V07PA300", "20260810V07PA300"),
    ("https://news.qq.com/rain/a/20260810A0BO7100?uid=&chlid=news_news_fx", "20260810A0BO7100"),
    ("https://new.qq.com/rain/a/20260810A08QTT00?suid=", "20260810A08QTT00"),
]


@pytest.mark.parametrize(("form", "expected"), FORMS)
def test_every_form_gives_one_id(form: str, expected: str) -> None:
    assert article_id(form) == expected


@pytest.mark.parametrize(
    "form",
    [
        "https://www.qq.com/",
        "https://www.qq.com/babygohome/?pgv_ref=apub",
        "https://example.com/rain/a/20250207A090J800",
        "https://news.qq.com/ch/tech",
        "not an id",
        "20250207X090J800",
        "20201130X0G1JJ",
        "20201130A0G1J",
        "20201130A0G1JJ0",
        "20201130A0G1JJ01",
        "https://new.qq.com/rain/a/20201130A0G1JJ/extra",
        "https://news.qq.com/omn/author/8QIf3n5c7IYcuDvY4ws%3D",
        "https://new.qq.com/omv/video/h0033y6yr5a",
        "https://new.qq.com/zt/template/?id=NEW2020041300001",
        "https://new.qq.com/omn/rose.htm?id=20200413003030",
        "https://new.qq.com/omn/author/20200413003030",
        "https://new.qq.com/cmsn/2020041/20200413003030.html",
        "",
    ],
)
def test_non_articles_give_none(form: str) -> None:
    assert article_id(form) is None


def test_link_back_is_built_from_the_id_alone() -> None:
    assert canonical_url("20250207A090J800") == "https://new.qq.com/rain/a/20250207A090J800"
    assert canonical_url("20250207A090J800", "https://example.org/{id}") == "https://example.org/20250207A090J800"


def test_fetch_url_per_generation() -> None:
    assert fetch_url("20250207A090J800", FETCH) == "https://news.qq.com/rain/a/20250207A090J800"
    assert fetch_url("20210426003469", FETCH) == "https://news.qq.com/rain/a/20210426003469"
    assert fetch_url("20161014006270", FETCH) == "https://news.qq.com/a/20161014/006270.htm"


def test_video_ids() -> None:
    assert is_video_id("20260810V07PA300")
    assert not is_video_id("20250207A090J800")


def test_an_input_gives_its_canonical_id_and_the_url_to_fetch() -> None:
    # A URL is fetched as given, normalised only: https, no fragment, no query.
    assert article_input("https://new.qq.com/omn/20200413/20200413003030.html", FETCH) == (
        "20200413003030", "https://new.qq.com/omn/20200413/20200413003030.html"
    )
    assert article_input("http://new.qq.com/rain/a/20201130A0G1JJ?suid=1#comments", FETCH) == (
        "20201130A0G1JJ00", "https://new.qq.com/rain/a/20201130A0G1JJ"
    )
    assert article_input("//view.inews.qq.com/a/20260810A0BO7100?uid=&chlid=news_news_fx", FETCH) == (
        "20260810A0BO7100", "https://view.inews.qq.com/a/20260810A0BO7100"
    )
    assert article_input("tech.qq.com/a/20161014/006270.htm", FETCH) == ("20161014006270", "https://tech.qq.com/a/20161014/006270.htm")
    # A bare id at the fetch template, as written (upper case); old numeric ids at their /a/ path.
    assert article_input(" 20201130a0g1jj ", FETCH) == ("20201130A0G1JJ00", "https://news.qq.com/rain/a/20201130A0G1JJ")
    assert article_input("20250207A090J800", "https://example.org/{id}") == ("20250207A090J800", "https://example.org/20250207A090J800")
    assert article_input("20161014006270", FETCH) == ("20161014006270", "https://news.qq.com/a/20161014/006270.htm")
    for bad in ("not an id", "https://example.com/rain/a/20250207A090J800", "https://news.qq.com/ch/tech", ""):
        assert article_input(bad, FETCH) is None


def test_clean_url_keeps_the_form() -> None:
    assert clean_url("HTTP://New.QQ.com/omn/TWF20200/TWF2020041300303000.html?x=1") == (
        "https://new.qq.com/omn/TWF20200/TWF2020041300303000.html"
    )
    assert clean_url("https://www.qq.com/babygohome/?pgv_ref=apub") is None


def test_fallback_is_the_canonical_current_url_unless_already_fetched() -> None:
    given = "https://view.inews.qq.com/a/20260810A0BO7100"
    assert fallback_url(given, "20260810A0BO7100", FETCH) == "https://news.qq.com/rain/a/20260810A0BO7100"
    assert fallback_url("https://news.qq.com/rain/a/20260810A0BO7100", "20260810A0BO7100", FETCH) is None
    assert fallback_url("https://news.qq.com/rain/a/20201130A0G1JJ", "20201130A0G1JJ00", FETCH) == (
        "https://news.qq.com/rain/a/20201130A0G1JJ00"
    )


def test_a_page_is_the_requested_article_under_any_of_its_forms() -> None:
    assert same_article("20201130A0G1JJ00", "20201130A0G1JJ")
    assert same_article("20201130A0G1JJ00", "20201130A0G1JJ00")
    assert same_article("20210426003469", "TWF2021042600346900")
    assert not same_article("20250207A0MIS100", "20250207A0BAD400")
    assert not same_article("20201130A0G1JJ00", "20201130A0G1JK00")
    assert not same_article("20250207A090J800", "")


@pytest.mark.parametrize(
    ("url", "form"),
    [
        ("https://new.qq.com/omv/video/h0033y6yr5a", "video_page"),
        ("new.qq.com/omv/video/20200413V0ABCD00", "video_page"),
        ("https://new.qq.com/zt/template/?id=NEW2020041300001", "topic_page"),
        ("https://new.qq.com/zt/template/index.html?id=NEW2020041300001", "topic_page"),
        ("https://new.qq.com/omn/rose.htm?id=20200413003030", "rose_page"),
        ("https://new.qq.com/omn/author/8QIf3n5c7IYcuDvY4ws%3D", "author_page"),
        ("https://new.qq.com/omn/author/20200413003030", "author_page"),
        # Articles and what is no qq.com URL at all are not such forms.
        ("https://new.qq.com/cmsn/20200413/20200413003030.html", None),
        ("https://new.qq.com/omn/20200413/20200413003030", None),
        ("https://example.com/omv/video/h0033y6yr5a", None),
        ("not a url", None),
    ],
)
def test_known_non_article_forms_are_named(url: str, form: str | None) -> None:
    assert not_article_form(url) == form
    if form is not None:
        assert article_input(url, FETCH) is None  # refused, never fetched as an article
