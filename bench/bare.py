"""The reference for ``bench.throughput``: a bare Scrapy spider that fetches what the crawl fetches.

    scrapy runspider bench/bare.py -a urls=FILE -s ...

Run by ``bench.throughput`` outside the project (Scrapy's defaults, the benchmark's relaxed
politeness and the mirror's download handler, as the crawl), it requests every URL of ``FILE``
(one a line: the synthetic site's feed pages, article pages and thumbnails, the same mix the crawl
requests) and does nothing with the responses: what Scrapy itself does on this machine against this
server, with no extraction, no pipelines and no store.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import scrapy
from scrapy.http import Response


class BareSpider(scrapy.Spider):
    name = "bare"

    def __init__(self, urls: str = "", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.urls = urls

    async def start(self) -> AsyncIterator[scrapy.Request]:
        with Path(self.urls).open(encoding="utf-8") as lines:
            for line in lines:
                yield scrapy.Request(line.strip(), callback=self.parse)

    def parse(self, response: Response) -> None:
        return None
