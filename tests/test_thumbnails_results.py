"""The thumbnails pipeline keeps only its recent per-URL results (a crawl's thumbnail URLs rarely repeat)."""

from __future__ import annotations

from pathlib import Path

from scrapy import Spider

from crawler.pipelines.thumbnails import RecentResults, ThumbnailsPipeline
from tests.support.components import project_crawler


def test_recent_results_keep_the_last_ones_in_order() -> None:
    results = RecentResults(3)
    for number in range(5):
        results[f"fp{number}".encode()] = {"path": str(number)}
    assert list(results) == [b"fp2", b"fp3", b"fp4"]
    results[b"fp3"] = {"path": "again"}  # a key set again does not push another out
    assert list(results) == [b"fp2", b"fp3", b"fp4"]


def test_the_pipeline_caches_results_in_a_bounded_dict(tmp_path: Path) -> None:
    crawler = project_crawler(tmp_path)
    crawler.spider = Spider("qq")
    pipeline = ThumbnailsPipeline.from_crawler(crawler)
    pipeline.open_spider()
    assert isinstance(pipeline.spiderinfo.downloaded, RecentResults)
    assert pipeline.spiderinfo.downloaded.size == ThumbnailsPipeline.RESULTS_KEPT
