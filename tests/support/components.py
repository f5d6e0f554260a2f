"""The project's components built as a crawl builds them, run without a reactor."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from scrapy import Spider
from scrapy.crawler import Crawler
from scrapy.settings import Settings
from scrapy.utils.test import get_crawler

from crawler import settings as project_settings
from crawler.items import Article
from crawler.pipelines.plan import PlanPipeline
from crawler.pipelines.write import WritePipeline
from crawler.store import ArticleStore
from crawler.store.extension import StoreExtension, store_of


def project_values(**overrides: Any) -> dict[str, Any]:
    """The project's settings (crawler/settings.py) with ``overrides``."""
    return {**{k: getattr(project_settings, k) for k in dir(project_settings) if k.isupper()}, **overrides}


def project_settings_with(**overrides: Any) -> Settings:
    """The project's settings with ``overrides``, as a Scrapy ``Settings``."""
    return Settings(project_values(**overrides))


def project_crawler(root: Path | None = None, spidercls: type[Spider] | None = None, **overrides: Any) -> Crawler:
    """A crawler with the project's settings (``OUTPUT_ROOT`` = ``root``) and its stats open."""
    values = project_values(**overrides)
    if root is not None and "OUTPUT_ROOT" not in overrides:
        values["OUTPUT_ROOT"] = str(root)
    crawler = get_crawler(spidercls, settings_dict=values)
    assert crawler.stats is not None
    crawler.stats.open_spider()
    return crawler


def opened_store(crawler: Crawler) -> StoreExtension:
    """The crawl's store extension, opened as when the spider opens (CloseSpider if it refuses)."""
    extension = store_of(crawler)
    extension.spider_opened()
    return extension


class Writer:
    """The plan and write pipelines of one crawl on its store, as the engine runs them for an item."""

    def __init__(self, root: Path, **overrides: Any) -> None:
        self.crawler = project_crawler(root, **overrides)
        self.extension = opened_store(self.crawler)
        self.plan = PlanPipeline.from_crawler(self.crawler)
        self.write = WritePipeline.from_crawler(self.crawler)

    @property
    def store(self) -> ArticleStore:
        return self.extension.store

    def process_item(self, item: Article) -> Article:
        done: Article = asyncio.run(self.write.process_item(self.plan.process_item(item)))
        self.extension.item_done(done)
        return done

    def stat(self, key: str) -> Any:
        assert self.crawler.stats is not None
        return self.crawler.stats.get_value(key)

    def close(self) -> None:
        self.extension.spider_closed()
