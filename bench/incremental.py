"""Incremental: a second crawl of the same articles fetches no article page but the updated ones, and is quick.

    python -m bench.incremental [--articles 10000] [--updates 0.05] [--json result.json]

Serves ``--articles`` synthetic articles (``tests/mirror/synthetic.py``) and runs the full crawl over all
of them twice, into the same output root (so with the same article store). The mirror counts the
article pages each run really fetched. Targets: the second run fetches zero article pages and
takes under 5% of the first run's time (wall time of the process, start-up included).

Both runs discover the articles through the real feed path (``scrapy crawl qq -a channels=tech
-a pages=<N/20 + 1>``), with the project's defaults: thumbnails, the article store and its dedup
middleware. The second run reads the first feed page again (feeds are news every time), finds
every entry already written in the store, and stops paging there: no article page, no image.

With ``--updates`` (a share, default 0: none), that share of the articles changes between the
runs (issue 17, ``docs/updates.md``): their feed ``update_time`` moves to a stamp of its own (a
stamp most of a page shares is a refresh stamp, no signal: issue 29), and half of them get a
corrected first paragraph (the other half keep their text). The second run's feed lists them
first, newest update first, as a feed ordered by last change would: the crawl fetches exactly
those, rewrites the corrected ones (with ``lastmod``) and leaves the others' files untouched,
pages on while a page lists an update and stops at the first page of settled entries
(``UPDATE_REFETCH_BUDGET`` is set to the number of updates: they are all real here). Targets
then: the second run fetches exactly the updated articles' pages, rewrites exactly the corrected
ones, and takes under ``updates * 1.5`` of the first run's time (plus the 5% of a run without
updates).

Politeness is relaxed for the benchmark only (see ``bench.common.RELAXED``); it says so.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from bench.common import (
    RELAXED_NOTE,
    dedup_enabled,
    feed_args,
    machine,
    refuse,
    run_crawl,
    table,
)
from crawler.times import BEIJING
from tests.mirror.synthetic import SyntheticSite, article_ident, cover_url, index_of

TARGET_TIME_SHARE = 0.05
CORRECTION = "更正：本文第一段已于发布后修改。"


def beijing(moment: datetime) -> str:
    return moment.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S")


class UpdatingSite(SyntheticSite):
    """The synthetic site, where ``update()`` makes a share of the articles change (see above)."""

    def __init__(self, articles: int) -> None:
        super().__init__(articles)
        self.updated: list[int] = []  # indexes, newest update first
        self.stamps: dict[int, str] = {}  # their own update_time
        self.corrected: set[int] = set()

    def update(self, share: float) -> None:
        if share <= 0:
            return
        step = max(1, round(1 / share))
        self.updated = list(range(self.size - 1, -1, -step))
        self.corrected = set(self.updated[::2])
        # Each its own stamp, after the first run's fetches: a stamp most items of a page share is
        # the answer's refresh time, no signal (docs/updates.md, "The change signal").
        now = datetime.now(timezone.utc) + timedelta(seconds=2)
        self.stamps = {index: beijing(now + timedelta(seconds=n % 60)) for n, index in enumerate(self.updated)}

    def content(self, ident: str) -> dict[str, Any]:
        article = super().content(ident)
        if index_of(ident) in self.corrected:
            article["paragraphs"] = [("p", CORRECTION), *article["paragraphs"]]
        return article

    def feed_page(self, page: int) -> bytes:
        if not self.updated:
            return super().feed_page(page)
        updated = set(self.updated)
        order = self.updated + [i for i in range(self.size - 1, -1, -1) if i not in updated]
        chosen = order[page * self.feed_page_size : (page + 1) * self.feed_page_size]
        answer = json.loads(super().feed_page(0))
        template = answer["data"][0]
        items = []
        for index in chosen:
            ident = article_ident(index)
            article = self.content(ident)
            url = f"https://new.qq.com/rain/a/{ident}"
            item = {**template, "id": ident, "title": article["title"], "publish_time": article["pubtime"],
                    "update_time": self.stamps[index] if index in updated else article["pubtime"], "desc": article["title"],
                    "link_info": {**template["link_info"], "url": url, "org_url": url}}  # fmt: skip
            cover = cover_url(ident)  # its own image, as in the first run's feed (the listing is evidence)
            item["pic_info"] = {**template["pic_info"], "big_img": [cover], "small_img": [cover], "three_img": [cover],
                                "share_img": cover}  # fmt: skip
            items.append(item)
        answer["data"] = items
        return json.dumps(answer, ensure_ascii=False).encode("utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=10000)
    parser.add_argument("--updates", type=float, default=0.0, help="share of the articles updated before run 2")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()

    print(f"incremental: {machine()}")
    print(f"  {RELAXED_NOTE}")
    work = Path(tempfile.mkdtemp(prefix="qq-bench-incremental-"))
    site = UpdatingSite(args.articles)
    server, url = site.serve()
    runs: list[dict[str, Any]] = []
    try:
        for number in (1, 2):
            if number == 2:
                site.update(args.updates)
            before = dict(site.counts)
            # Every update is a real one here: the refetch budget is set to take them all in one run.
            budget = {"UPDATE_REFETCH_BUDGET": str(max(1, len(site.updated)))}
            run = run_crawl(url, work / "output", work / f"crawl-{number}.log", feed_args(args.articles), budget)
            # The first run must write every article; the second must write none, and neither may log an ERROR.
            if number == 1 and refuse(run, args.articles, "the first run"):
                return 1
            if number == 2 and (run.returncode != 0 or run.stat("log_count/ERROR") or not run.stats):
                print(run.log[-3000:], file=sys.stderr)
                print(f"REFUSED: the second run failed or logged an ERROR (exit {run.returncode})", file=sys.stderr)
                return 1
            runs.append({
                "run": number, "wall_s": round(run.wall, 2), "elapsed_s": round(run.elapsed, 2),
                "article_pages_fetched": site.counts["article"] - before.get("article", 0),
                "feed_pages_fetched": site.counts["feed"] - before.get("feed", 0),
                "images_fetched": site.counts["image"] - before.get("image", 0),
                "requests": run.stat("downloader/request_count"), "written": run.stat("write/written"),
                "skipped_written": run.stat("dedup/skipped"), "dedup_middleware": dedup_enabled(run.log),
                "updated": run.stat("dedup/updated"), "rewritten": run.stat("write/rewritten"),
                "unchanged": run.stat("write/unchanged"), "cpu_s": round(run.cpu, 2),
            })  # fmt: skip
    finally:
        server.shutdown()
        server.server_close()
        shutil.rmtree(work, ignore_errors=True)
    first, second = runs
    share = second["wall_s"] / first["wall_s"]
    updates, corrected = len(site.updated), len(site.corrected)
    target = TARGET_TIME_SHARE + 1.5 * args.updates
    met = (
        second["article_pages_fetched"] == updates and second["rewritten"] == corrected
        and second["unchanged"] == updates - corrected and share < target and first["written"] == args.articles
    )  # fmt: skip
    print(table([("run", "seconds (wall)", "cpu s", "article pages fetched", "feed pages", "images", "requests",
                   "files written", "rewritten", "unchanged", "skipped (settled)")] + [
        (str(r["run"]), str(r["wall_s"]), str(r["cpu_s"]), str(r["article_pages_fetched"]), str(r["feed_pages_fetched"]),
         str(r["images_fetched"]), f"{r['requests']:.0f}", f"{r['written']:.0f}", f"{r['rewritten']:.0f}",
         f"{r['unchanged']:.0f}", f"{r['skipped_written']:.0f}")
        for r in runs]))  # fmt: skip
    print(f"  updates before run 2: {updates} articles ({args.updates:.0%}), {corrected} of them with corrected text")
    print(f"  dedup middleware (article store): {'on' if all(r['dedup_middleware'] for r in runs) else 'OFF'}")
    print(f"  second run: {second['article_pages_fetched']} article pages, {share:.1%} of the first run's time "
          f"(target {updates} pages, {corrected} rewritten, < {target:.1%}: {'met' if met else 'MISSED'})")  # fmt: skip
    if args.json:
        payload = {"machine": machine(), "articles": args.articles, "updates": updates, "corrected": corrected,
                   "runs": runs, "time_share": round(share, 4), "target_met": met}  # fmt: skip
        args.json.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
