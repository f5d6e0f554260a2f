"""Planning and writing: one file per article, atomic, inside the output root, never over another article."""

from __future__ import annotations

import asyncio
import sys
import types
from pathlib import Path

import pytest
from scrapy.exceptions import DropItem

from crawler import settings as project_settings
from crawler.files import inside, write_atomic
from crawler.items import Block, Span
from crawler.paths import article_slug, markdown_path
from tests.support.articles import article
from tests.support.components import Writer


def test_default_path() -> None:
    assert markdown_path(article("DeepSeek点燃开源模型"), "content/posts/{date}-{slug}.md", project_settings.OUTPUT_SLUG_MAX_LENGTH) == (
        "content/posts/2025-02-07-deepseek-dian-ran-kai-yuan-mo-xing.md"
    )


def test_empty_slug_falls_back_to_id() -> None:
    assert markdown_path(article("？！"), "posts/{slug}.md", project_settings.OUTPUT_SLUG_MAX_LENGTH) == "posts/20250207a090j800.md"


def test_writes_once_and_rewrites_same_article(tmp_path: Path) -> None:
    writer = Writer(tmp_path)
    item = writer.process_item(article("标题"))
    target = tmp_path / item.paths.markdown
    assert target.read_text(encoding="utf-8").endswith("[qq](https://new.qq.com/rain/a/20250207A090J800)\n")
    mtime = target.stat().st_mtime_ns
    writer.process_item(article("标题"))  # the same bytes: not touched
    assert target.stat().st_mtime_ns == mtime
    writer.process_item(article("标题", [Block("paragraph", [Span("改过的正文。")])]))
    assert sorted(p.name for p in target.parent.iterdir()) == [target.name]
    assert "改过的正文。" in target.read_text(encoding="utf-8")
    assert writer.stat("write/written") == 2
    assert writer.stat("write/rewritten") == 1
    assert writer.stat("write/unchanged") == 1


def test_never_overwrites_another_article(tmp_path: Path) -> None:
    writer = Writer(tmp_path)
    first = writer.process_item(article("同一个标题"))
    other = article("同一个标题", [Block("paragraph", [Span("另一篇文章的正文。")])])
    other.id, other.url = "20250207A0OTHE00", "https://new.qq.com/rain/a/20250207A0OTHE00"
    second = writer.process_item(other)
    assert first.paths.markdown != second.paths.markdown
    assert second.paths.markdown.endswith("-20250207a0othe00.md")
    assert "20250207A090J800" in (tmp_path / first.paths.markdown).read_text(encoding="utf-8")
    assert writer.stat("plan/renamed") == 1


def test_path_outside_root_is_refused(tmp_path: Path) -> None:
    (tmp_path / "root").mkdir()
    writer = Writer(tmp_path / "root", OUTPUT_PATH="../{slug}.md")
    with pytest.raises(DropItem):
        writer.process_item(article("逃逸"))
    assert writer.stat("plan/dropped/bad_path") == 1
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


def test_a_failed_write_removes_the_images_stored_for_a_new_article(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    writer = Writer(tmp_path)
    item = writer.plan.process_item(article("标题"))
    image = tmp_path / (item.paths.thumbnail.file + ".jpg")
    image.parent.mkdir(parents=True)
    image.write_bytes(b"jpeg")
    item.image_files.append(item.paths.thumbnail.file + ".jpg")

    def full(target: Path, data: bytes) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("crawler.pipelines.write.write_atomic", full)
    with pytest.raises(DropItem):
        asyncio.run(writer.write.process_item(item))
    assert writer.stat("write/dropped/error") == 1
    assert not image.exists()


def test_slugs_do_not_depend_on_what_else_is_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    """python-slugify's "auto" backend would take Unidecode wherever another package installed it."""
    title = "DeepSeek点燃开源模型“星星之火”，百模大战走向何方"
    expected = "deepseek-dian-ran-kai-yuan-mo-xing-xing-xing-zhi-huo-bai-mo-da-zhan-zou-xiang-he"  # the spec's file name
    assert article_slug(title, project_settings.OUTPUT_SLUG_MAX_LENGTH) == expected
    other = types.ModuleType("unidecode")
    other.unidecode = lambda text: "another transliteration"  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "unidecode", other)
    assert article_slug(title, project_settings.OUTPUT_SLUG_MAX_LENGTH) == expected
