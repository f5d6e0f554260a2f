"""Every URL form of an article maps to one canonical id, and back to one link."""

import pytest

from crawler.qq.ids import article_id, canonical_url, fetch_url, is_video_id

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
        "",
    ],
)
def test_non_articles_give_none(form: str) -> None:
    assert article_id(form) is None


def test_link_back_is_built_from_the_id_alone() -> None:
    assert canonical_url("20250207A090J800") == "https://new.qq.com/rain/a/20250207A090J800"
    assert canonical_url("20250207A090J800", "https://example.org/{id}") == "https://example.org/20250207A090J800"


def test_fetch_url_per_generation() -> None:
    assert fetch_url("20250207A090J800") == "https://news.qq.com/rain/a/20250207A090J800"
    assert fetch_url("20210426003469") == "https://news.qq.com/rain/a/20210426003469"
    assert fetch_url("20161014006270") == "https://news.qq.com/a/20161014/006270.htm"


def test_video_ids() -> None:
    assert is_video_id("20260810V07PA300")
    assert not is_video_id("20250207A090J800")
