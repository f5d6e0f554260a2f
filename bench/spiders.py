"""Benchmark-only spider: the ``qq`` spider reading its ids from a file.

``scrapy crawl qq-idfile -a id_file=PATH`` is ``scrapy crawl qq -a ids=...`` with the ids one per
line in a file, because 100,000 ids do not fit in one command-line argument (Linux caps one
argument at 128 KiB). Everything else (requests, parsing, stats, pipelines) is the ``qq`` spider's.
It is loaded only by the benchmarks (``-s SPIDER_MODULES=crawler.spiders,bench.spiders``) and is
not packaged for Scrapyd. Once discovery lands, the benchmarks crawl the feeds instead.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from crawler.spiders.qq import QqSpider


class IdFileSpider(QqSpider):
    name = "qq-idfile"

    def __init__(self, id_file: str = "", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if id_file:
            self.inputs += Path(id_file).read_text(encoding="utf-8").split()
