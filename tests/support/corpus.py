"""The inputs of the golden crawl (tests/test_crawl.py) and the articles it writes, shared by the crawl tests."""

from __future__ import annotations

INPUTS = [
    "https://new.qq.com/rain/a/20250207A090J800",
    "https://view.inews.qq.com/a/20250207A090J800?uid=1",  # same article, another form
    "https://news.qq.com/rain/a/20260810A0BO7100",
    "https://new.qq.com/omn/20210426/20210426003469.html",
    "http://tech.qq.com/a/20161014/006270.htm",
    "20250207A0BAD100",  # truncated window.DATA
    "20250207A0BAD200",  # access-denied page, no data
    "20250207A0BAD300",  # empty body
    "20250207A0BAD400",  # hostile title and text
    "20220121A074NC00",  # deleted: 302 to babygohome
    "20250207A0NONE00",  # 404
    "not-an-article",
]


WRITTEN = ["20250207A090J800", "20260810A0BO7100", "20210426003469", "20161014006270", "20250207A0BAD400"]
