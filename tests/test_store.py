"""The SQLite article store, the rebuild command, and the writer's use of the store."""

from __future__ import annotations

import multiprocessing
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from scrapy.exceptions import DropItem

from crawler.items import Block, Span
from crawler.settings import STORE_LOCK_TIMEOUT
from crawler.store import Record, StoreError, content_fingerprint
from crawler.store.__main__ import rebuild
from crawler.store.sqlite import DEFAULT_NAME, SqliteStore
from tests.support.articles import article
from tests.support.components import Writer

ROOT = Path(__file__).resolve().parents[1]


def test_put_get_find_and_upsert(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "s.sqlite3", STORE_LOCK_TIMEOUT)
    assert store.get("A") is None
    store.put(Record("A", "posts/a.md", "f1"))
    store.put(Record("B", "posts/b.md", "f2"))
    store.put(Record("A", "posts/a.md", "f3"))  # the article changed
    assert store.get("A") == Record("A", "posts/a.md", "f3")
    assert store.find_fingerprint("f2") == Record("B", "posts/b.md", "f2")
    assert store.find_fingerprint("f1") is None
    store.close()
    reopened = SqliteStore(tmp_path / "s.sqlite3", STORE_LOCK_TIMEOUT)
    assert [r.id for r in reopened.records()] == ["A", "B"]
    reopened.close()


@pytest.mark.parametrize("content", [b"this is not a database at all" * 100, b"SQLite format 3\x00" + b"\xff" * 4000])
def test_corrupt_file_is_a_clear_error_never_a_fresh_start(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / DEFAULT_NAME
    path.write_bytes(content)
    with pytest.raises(StoreError) as error:
        SqliteStore(path, STORE_LOCK_TIMEOUT)
    message = str(error.value)
    assert str(path) in message
    assert f"python -m crawler.store rebuild --root {tmp_path}" in message
    assert path.read_bytes() == content  # left as it was, for the user to look at


def _count_under_lock(path: str, rounds: int) -> None:
    store = SqliteStore(Path(path), STORE_LOCK_TIMEOUT)
    for _ in range(rounds):
        with store.lock("write"):
            # A read-modify-write that loses updates unless the lock excludes the other process.
            record = store.get("counter")
            store.put(Record("counter", "x", str(int(record.fingerprint) + 1 if record else 1)))
    store.close()


def test_lock_excludes_other_processes(tmp_path: Path) -> None:
    path = str(tmp_path / DEFAULT_NAME)
    SqliteStore(Path(path), STORE_LOCK_TIMEOUT).close()
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_count_under_lock, args=(path, 150)) for _ in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
        assert worker.exitcode == 0
    store = SqliteStore(Path(path), STORE_LOCK_TIMEOUT)
    assert store.get("counter") == Record("counter", "x", "450")
    store.close()


def test_lock_wait_is_bounded(tmp_path: Path) -> None:
    first = SqliteStore(tmp_path / DEFAULT_NAME, STORE_LOCK_TIMEOUT)
    second = SqliteStore(tmp_path / DEFAULT_NAME, 0.2)
    with first.lock("write"), pytest.raises(StoreError, match="held by another crawl"), second.lock("write"):
        pass
    with second.lock("other key"):
        pass
    first.close()
    second.close()


def test_writer_rewrites_a_changed_article_in_its_own_file(tmp_path: Path) -> None:
    writer = Writer(tmp_path)
    first = writer.process_item(article("旧标题"))
    changed = writer.process_item(article("新标题", [Block("paragraph", [Span("改过的正文。")])]))
    assert changed.paths.markdown == first.paths.markdown
    assert [p.name for p in (tmp_path / "content/posts").iterdir()] == [Path(first.paths.markdown).name]
    assert "新标题" in (tmp_path / first.paths.markdown).read_text(encoding="utf-8")
    assert writer.store.get("20250207A090J800").path == first.paths.markdown


def test_same_content_under_another_id_is_one_file(tmp_path: Path) -> None:
    writer = Writer(tmp_path)
    writer.process_item(article("同一篇"))
    copy = article("同一篇")
    copy.id, copy.url = "20250207A0COPY00", "https://new.qq.com/rain/a/20250207A0COPY00"
    with pytest.raises(DropItem, match="same content as 20250207A090J800"):
        writer.process_item(copy)
    assert len(list(tmp_path.rglob("*.md"))) == 1
    assert writer.stat("plan/duplicate") == 1
    assert writer.store.get("20250207A0COPY00") is None


def test_file_without_record_is_rewritten_not_doubled(tmp_path: Path) -> None:
    writer = Writer(tmp_path)
    item = writer.process_item(article("标题"))
    writer.close()
    # The store was lost: the file is there, its record is not.
    for store_file in tmp_path.glob(DEFAULT_NAME + "*"):
        if store_file.is_file():
            store_file.unlink()
    again = Writer(tmp_path)
    assert again.process_item(article("标题")).paths.markdown == item.paths.markdown
    assert len(list(tmp_path.rglob("*.md"))) == 1
    assert again.stat("write/unchanged") == 1  # same bytes: the file is not even touched
    assert again.store.get("20250207A090J800").path == item.paths.markdown


def test_rebuild_from_the_markdown_files(tmp_path: Path) -> None:
    writer = Writer(tmp_path)
    written = [writer.process_item(article("第一篇"))]
    other = article("第二篇", [Block("paragraph", [Span("第二篇的正文。")])])
    other.id, other.url = "20250207A0OTHE00", "https://new.qq.com/rain/a/20250207A0OTHE00"
    written.append(writer.process_item(other))
    writer.close()
    before = {r.id: (r.path, "") for r in SqliteStore(tmp_path / DEFAULT_NAME, STORE_LOCK_TIMEOUT).records()}
    (tmp_path / "content/posts/notes.md").write_text("no front matter\n", encoding="utf-8")
    (tmp_path / DEFAULT_NAME).write_bytes(b"garbage" * 1000)
    for side in tmp_path.glob(DEFAULT_NAME + "-*"):
        side.unlink()
    result = subprocess.run(
        [sys.executable, "-m", "crawler.store", "rebuild", "--root", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "2 articles recorded, 1 files skipped" in result.stdout
    assert "notes.md" in result.stderr
    after = {r.id: (r.path, r.fingerprint) for r in SqliteStore(tmp_path / DEFAULT_NAME, STORE_LOCK_TIMEOUT).records()}
    assert after == before  # same ids and paths as the writer recorded; no fingerprint (not in a file)
    # The corrupt store was moved aside, named with the time, not destroyed; the command says where.
    (aside,) = tmp_path.glob(DEFAULT_NAME + ".*.old")
    assert aside.read_bytes() == b"garbage" * 1000
    assert f"The old store was moved to {aside}" in result.stdout
    records, skipped, again = rebuild(tmp_path, tmp_path / DEFAULT_NAME)
    assert (records, skipped) == (2, 1)
    assert again is not None and again != aside and again.exists() and aside.exists()


def test_fingerprint_is_title_and_text_only() -> None:
    text = [Block("paragraph", [Span("第一段。")]), Block("image", src="https://inews.gtimg.com/a.jpg")]
    other_image = [text[0], Block("image", src="https://inews.gtimg.com/b.jpg")]
    assert content_fingerprint("T", text) == content_fingerprint("T", other_image) == content_fingerprint(" T ", text[:1])
    assert content_fingerprint("T", text) != content_fingerprint("T2", text)
    assert content_fingerprint("T", text) != content_fingerprint("T", [Block("paragraph", [Span("第二段。")])])


def test_store_failure_drops_the_item_for_the_next_run(tmp_path: Path) -> None:
    writer = Writer(tmp_path, STORE_LOCK_TIMEOUT=0.1)
    other = SqliteStore(tmp_path / DEFAULT_NAME, STORE_LOCK_TIMEOUT)
    with other.lock(writer.plan.LOCK_KEY), pytest.raises(DropItem, match="held by another crawl"):
        writer.process_item(article("标题"))
    other.close()
    assert writer.stat("plan/dropped/store") == 1
    assert not list(tmp_path.rglob("*.md"))
    assert writer.store.get("20250207A090J800") is None


def _open_at_once(path: str, barrier: Any, answers: Any) -> None:
    barrier.wait()
    try:
        SqliteStore(Path(path), STORE_LOCK_TIMEOUT).close()
        answers.put("ok")
    except StoreError as error:
        answers.put(str(error))


def test_crawls_opening_a_new_store_at_the_same_moment_all_open_it(tmp_path: Path) -> None:
    """Two or three crawls started together on a fresh root: SQLite's deadlock avoidance answers
    "database is locked" at once to one of them; it must wait like any other lock, not be told the
    store is corrupt (it was, about one open in fifteen, before)."""
    context = multiprocessing.get_context("fork")
    answers: list[str] = []
    for round_ in range(25):
        path = tmp_path / f"round-{round_}" / DEFAULT_NAME
        path.parent.mkdir()
        barrier, queue = context.Barrier(3), context.Queue()
        processes = [context.Process(target=_open_at_once, args=(str(path), barrier, queue)) for _ in range(3)]
        for process in processes:
            process.start()
        for process in processes:
            process.join(60)
        answers += [queue.get(timeout=5) for _ in processes]
    assert answers == ["ok"] * len(answers), [a for a in answers if a != "ok"][:3]


def test_the_wal_is_checkpointed_by_the_stores_thread(tmp_path: Path) -> None:
    """A crawl's writes reach the database file within seconds, not when SQLite's own checkpoint
    (CHECKPOINT_BACKSTOP pages) comes in the middle of a write; the thread ends with the store."""
    import shutil
    import sqlite3
    import time

    store = SqliteStore(tmp_path / DEFAULT_NAME, STORE_LOCK_TIMEOUT)
    for n in range(50):
        store.put(Record(f"A{n}", f"posts/{n}.md", f"f{n}"))
    assert store.claim("A0")
    copy = tmp_path / "copy.sqlite3"  # the database file alone, without its WAL
    deadline = time.monotonic() + 20 * SqliteStore.CHECKPOINT_INTERVAL
    rows = None
    while rows != (50, 1) and time.monotonic() < deadline:
        time.sleep(SqliteStore.CHECKPOINT_INTERVAL / 4)
        shutil.copyfile(tmp_path / DEFAULT_NAME, copy)
        try:
            db = sqlite3.connect(copy)
            try:
                rows = db.execute("SELECT (SELECT COUNT(*) FROM articles), (SELECT COUNT(*) FROM claims)").fetchone()
            finally:
                db.close()
        except sqlite3.DatabaseError:
            continue  # copied before the first checkpoint, or in the middle of one
    assert rows == (50, 1)
    thread = store._checkpoints
    store.close()
    assert thread is not None and not thread.is_alive()
    reopened = SqliteStore(tmp_path / DEFAULT_NAME, STORE_LOCK_TIMEOUT)
    assert [r.id for r in reopened.records()] == sorted(f"A{n}" for n in range(50))
    reopened.close()
