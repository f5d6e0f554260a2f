"""Writing: one file per article, atomic, inside the output root, never over another article."""

from __future__ import annotations

import asyncio

from pathlib import Path

import pytest
from scrapy.exceptions import DropItem
from scrapy.utils.test import get_crawler

from crawler import settings as project_settings
from crawler.items import Block, Span
from crawler.pipelines.write import WritePipeline, article_path, inside, root_problem, write_atomic
from tests.test_render import article


def pipeline(root: Path, **overrides: object) -> WritePipeline:
    values = {k: getattr(project_settings, k) for k in dir(project_settings) if k.isupper()}
    values.update({"OUTPUT_ROOT": str(root), **overrides})
    crawler = get_crawler(settings_dict=values)
    crawler.stats.open_spider()
    writer = WritePipeline.from_crawler(crawler)
    if root_problem(root) is None:
        asyncio.run(writer.open_spider())  # checks the root, opens the article store
    return writer


def test_default_path() -> None:
    assert article_path(article("DeepSeek点燃开源模型"), "content/posts/{date}-{slug}.md") == (
        "content/posts/2025-02-07-deepseek-dian-ran-kai-yuan-mo-xing.md"
    )


def test_empty_slug_falls_back_to_id() -> None:
    assert article_path(article("？！"), "posts/{slug}.md") == "posts/20250207a090j800.md"


def test_writes_once_and_rewrites_same_article(tmp_path: Path) -> None:
    writer = pipeline(tmp_path)
    item = writer.process_item(article("标题"))
    target = tmp_path / item.output_path
    assert target.read_text(encoding="utf-8").endswith("[qq](https://new.qq.com/rain/a/20250207A090J800)\n")
    writer.process_item(article("标题"))
    assert sorted(p.name for p in target.parent.iterdir()) == [target.name]
    assert writer.crawler.stats.get_value("qq/written") == 2
    assert writer.crawler.stats.get_value("qq/rewritten") == 1


def test_never_overwrites_another_article(tmp_path: Path) -> None:
    writer = pipeline(tmp_path)
    first = writer.process_item(article("同一个标题"))
    other = article("同一个标题", [Block("paragraph", [Span("另一篇文章的正文。")])])
    other.id, other.url = "20250207A0OTHE00", "https://new.qq.com/rain/a/20250207A0OTHE00"
    second = writer.process_item(other)
    assert first.output_path != second.output_path
    assert second.output_path.endswith("-20250207a0othe00.md")
    assert "20250207A090J800" in (tmp_path / first.output_path).read_text(encoding="utf-8")
    assert writer.crawler.stats.get_value("qq/renamed") == 1


def test_path_outside_root_is_refused(tmp_path: Path) -> None:
    (tmp_path / "root").mkdir()
    writer = pipeline(tmp_path / "root", OUTPUT_PATH="../{slug}.md")
    with pytest.raises(DropItem):
        writer.process_item(article("逃逸"))
    assert writer.crawler.stats.get_value("qq/dropped/bad_path") == 1
    assert not list(tmp_path.rglob("*.md"))
    with pytest.raises(ValueError):
        inside(tmp_path, "/etc/passwd")


def test_atomic_write_leaves_no_partial_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "a" / "file.md"
    write_atomic(target, "old\n")

    def crash(fd: int) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("os.fsync", crash)
    with pytest.raises(OSError):
        write_atomic(target, "new text that never lands\n")
    assert target.read_text() == "old\n"
    assert [p.name for p in target.parent.iterdir()] == ["file.md"]
