"""Cleaning: whitespace normalised, punctuation untouched, empty bodies dropped."""

from __future__ import annotations

import pytest
from scrapy.exceptions import DropItem
from scrapy.utils.test import get_crawler

from crawler.items import Block, Span
from crawler.pipelines.clean import CleanPipeline, clean_spans, clean_text
from tests.support.articles import article


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("\u3000\u3000段首全角缩进", "段首全角缩进"),
        ("不换行\u00a0空格", "不换行 空格"),
        ("零\u200b宽\u200c字\u200d符\ufeff", "零宽字符"),
        ("中文\n        换行", "中文换行"),
        ("English\n   words", "English words"),
        ("中文，\n   标点", "中文，标点"),
        ("many     spaces\t\there", "many spaces here"),
        ("“引号”、（括号）《书名》——破折号……省略号", "“引号”、（括号）《书名》——破折号……省略号"),
        ("  ", ""),
        ("line\u2028separator", "line separator"),
    ],
)
def test_clean_text(raw: str, clean: str) -> None:
    assert clean_text(raw) == clean


def test_whitespace_runs_across_spans() -> None:
    spans = clean_spans([Span("前面 "), Span("  粗体\n", bold=True), Span("\n后面")])
    assert [(s.text, s.bold) for s in spans] == [("前面 ", False), ("粗体", True), ("后面", False)]


def test_pipeline_drops_article_without_body() -> None:
    crawler = get_crawler(settings_dict={"CLEAN_ENABLED": True})
    crawler.stats.open_spider()
    pipeline = CleanPipeline.from_crawler(crawler)
    empty = article(blocks=[Block("paragraph", [Span("\u3000\u200b ")])])
    with pytest.raises(DropItem):
        pipeline.process_item(empty)
    assert crawler.stats.get_value("clean/dropped/empty_body") == 1
    kept = pipeline.process_item(article(title=" 标题\u3000"))
    assert kept.title == "标题"


def test_pipeline_can_be_switched_off() -> None:
    from scrapy.exceptions import NotConfigured

    with pytest.raises(NotConfigured):
        CleanPipeline.from_crawler(get_crawler(settings_dict={"CLEAN_ENABLED": False}))
