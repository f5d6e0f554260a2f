"""Hourly: a day of hourly crawls on a real-shaped, restamped feed; article pages fetched per new or changed article.

    python -m bench.hourly [--hours 24] [--new 0.03] [--corrections 2] [--json result.json]

The synthetic site (``tests/mirror/synthetic.py``) serves four channels (the default ``QQ_CHANNELS``),
each read five pages of 20 deep (``QQ_FEED_PAGES``): 400 listed articles, in the real item shape
(``bench/fixtures/getPCList-item.json``). Run 0 writes them all. Then, for each of ``--hours``
hourly runs, as the real ``getPCList`` answer behaves (docs/updates.md, "The change signal"):

* ``--new`` of the listed count are new articles, on top of their channels (``--new 0.03``: 12);
* every item is restamped with the hour's refresh time (all of an answer share one ``update_time``);
* ``--corrections`` recent articles (already listed, on their channel's first two pages: about the
  last half day) get a corrected paragraph and their own, newer ``update_time``; every sixth hour
  one more article's title changes, its stamp the shared one.

Corrections are placed where the feed's paging sees them: it reads on while a page holds something
new or changed, so page 1 is read every hour (page 0 always has new articles) and a correction
deeper than the first settled page is not seen by the feed that run (``UPDATE_WINDOW`` rechecks
are the net for those: docs/updates.md).

The mirror counts every article page it serves. Target: over the day, article pages fetched
<= 1.2 x (new + changed articles), every new article written and every change rewritten within its
hour. The naive cost is the articles whose ``update_time`` moved (every one listed, every hour).

Politeness is relaxed for the benchmark only (see ``bench.common.RELAXED``); it says so.
"""

from __future__ import annotations

import argparse
import copy
import json
import random
import shutil
import sys
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from bench.common import RELAXED_NOTE, machine, run_crawl, table
from crawler.times import BEIJING
from tests.mirror.synthetic import SyntheticSite, article_ident, cover_url, index_of

CHANNELS = ("top", "tech", "finance", "world")
PAGES, PAGE_SIZE = 5, 20
TARGET = 1.2
CORRECTION = "更正：本文第一段已于发布后修改。"
RETITLE_EVERY = 6
CORRECTED_PAGES = 2  # corrections happen to recent articles: those of a channel's first two pages


def beijing(moment: datetime) -> str:
    return moment.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S")


class HourlySite(SyntheticSite):
    """Channels of the synthetic site that grow and are restamped every hour (see above)."""

    def __init__(self, listed: int, new_per_hour: int, hours: int) -> None:
        super().__init__(listed + new_per_hour * hours + len(CHANNELS))
        self.live = listed
        self.new_per_hour = new_per_hour
        self.refresh = beijing(datetime.now(timezone.utc))
        self.own: dict[str, str] = {}
        self.corrected: set[str] = set()
        self.retitled: set[str] = set()
        self.rng = random.Random(29)

    def channel_of(self, index: int) -> int:
        return index % len(CHANNELS)

    def listed(self, channel: int) -> list[int]:
        """The channel's articles as its feed lists them, newest first, as deep as the crawl reads."""
        found = range(self.live - 1 - ((self.live - 1 - channel) % len(CHANNELS)), -1, -len(CHANNELS))
        return list(found)[: PAGES * PAGE_SIZE]

    def hour(self, corrections: int, retitle: bool) -> tuple[int, set[str]]:
        """The next hour: new articles, every stamp moved, some real changes. Returns (new, changed ids)."""
        listed_before = {i for channel in range(len(CHANNELS)) for i in self.listed(channel)}
        self.live += self.new_per_hour
        now = datetime.now(timezone.utc)
        self.refresh = beijing(now)
        self.own.clear()
        # Changes among the recent articles already listed (the first CORRECTED_PAGES pages of a channel).
        recent = {i for c in range(len(CHANNELS)) for i in self.listed(c)[: CORRECTED_PAGES * PAGE_SIZE]}
        done = {index_of(ident) for ident in self.corrected | self.retitled}
        still = sorted((listed_before & recent) - done)  # each article changes once in the day
        changed = set()
        for n, index in enumerate(self.rng.sample(still, corrections)):
            ident = article_ident(index)
            self.corrected.add(ident)
            self.own[ident] = beijing(now + timedelta(seconds=2 + n))
            changed.add(ident)
        if retitle:
            ident = article_ident(self.rng.choice([i for i in still if article_ident(i) not in changed]))
            self.retitled.add(ident)
            changed.add(ident)
        return self.new_per_hour, changed

    def content(self, ident: str) -> dict[str, Any]:
        article = super().content(ident)
        if ident in self.corrected:
            article["paragraphs"] = [("p", CORRECTION), *article["paragraphs"]]
        if ident in self.retitled:
            article["title"] += "（标题已更新）"
        return article

    def channel_page(self, channel: str, page: int) -> bytes:
        number = CHANNELS.index(channel.removeprefix("news_news_")) if channel.removeprefix("news_news_") in CHANNELS else -1
        chosen = self.listed(number)[page * PAGE_SIZE : (page + 1) * PAGE_SIZE] if number >= 0 else []
        items = []
        for index in chosen:
            ident = article_ident(index)
            article = self.content(ident)
            item = copy.deepcopy(self.feed_item)
            url = f"https://new.qq.com/rain/a/{ident}"
            item.update(id=ident, title=article["title"], publish_time=article["pubtime"],
                        update_time=self.own.get(ident, self.refresh), desc=article["title"])  # fmt: skip
            item["link_info"] = {"share_url": url, "url": url, "short_url": url, "org_url": url}
            cover = cover_url(ident)
            item["pic_info"].update(big_img=[cover], small_img=[cover], three_img=[cover], share_img=cover)
            items.append(item)
        answer = {"data": items, "code": 0, "message": "", "timestamp": ""}
        return json.dumps(answer, ensure_ascii=False).encode("utf-8")

    def handle(self, path: str, body: bytes) -> tuple[int, str, bytes]:
        if path.split("?", 1)[0] != "/i.news.qq.com/web_feed/getPCList":
            index = index_of(path.rsplit("/", 1)[-1]) if "/rain/a/" in path else None
            if index is not None and index >= self.live:
                self._count("missing")
                return 404, "text/html", b"<html><body>404</body></html>"
            return super().handle(path, body)
        self._count("feed")
        try:
            asked = json.loads(body)
            channel, page = str(asked["channel_id"]), int(asked["page"])
        except (ValueError, KeyError, TypeError):
            return 400, "application/json", b'{"code":1,"message":"bad request"}'
        return 200, "application/json; charset=utf-8", self.channel_page(channel, page)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hours", type=int, default=24)
    parser.add_argument("--new", type=float, default=0.03, help="share of the listed articles new each hour")
    parser.add_argument("--corrections", type=int, default=2, help="articles corrected (own stamp) each hour")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()

    listed = len(CHANNELS) * PAGES * PAGE_SIZE
    new_per_hour = max(1, round(listed * args.new))
    print(f"hourly: {machine()}")
    print(f"  {RELAXED_NOTE}")
    work = Path(tempfile.mkdtemp(prefix="qq-bench-hourly-"))
    site = HourlySite(listed, new_per_hour, args.hours)
    server, url = site.serve()
    crawl_args = {"channels": ",".join(CHANNELS), "pages": str(PAGES)}
    rows: list[dict[str, Any]] = []
    failed = ""
    try:
        for hour in range(args.hours + 1):
            new, changed = (listed, set()) if hour == 0 else site.hour(args.corrections, hour % RETITLE_EVERY == 0)
            before = dict(site.counts)
            run = run_crawl(url, work / "output", work / f"crawl-{hour}.log", crawl_args)
            fetched = site.counts["article"] - before.get("article", 0)
            written, rewritten = int(run.stat("write/written")), int(run.stat("write/rewritten"))
            row = {"hour": hour, "new": new, "changed": len(changed), "article_pages": fetched,
                   "feed_pages": site.counts["feed"] - before.get("feed", 0), "written_new": written - rewritten,
                   "rewritten": rewritten, "unchanged": int(run.stat("write/unchanged")),
                   "held": int(run.stat("qq/refetch/held")), "wall_s": round(run.wall, 2)}  # fmt: skip
            rows.append(row)
            if run.returncode != 0 or run.stat("log_count/ERROR") or not run.stats:
                failed = f"hour {hour}: exit {run.returncode}, {run.stat('log_count/ERROR'):.0f} ERROR lines"
                print(run.log[-3000:], file=sys.stderr)
                break
            if row["written_new"] != new or rewritten != len(changed):
                failed = f"hour {hour}: wrote {row['written_new']} new of {new}, rewrote {rewritten} of {len(changed)} changed"
                break
    finally:
        server.shutdown()
        server.server_close()
        shutil.rmtree(work, ignore_errors=True)
    day = rows[1:]
    pages = sum(r["article_pages"] for r in day)
    found = sum(r["new"] + r["changed"] for r in day)
    ratio = pages / found if found else float("inf")
    naive = sum(listed for _ in day)  # every listed item's update_time moved, every hour
    met = not failed and len(day) == args.hours and ratio <= TARGET
    print(table([("hour", "new", "changed", "article pages", "feed pages", "written new", "rewritten", "unchanged",
                  "held back", "seconds")] + [
        tuple(str(r[k]) for k in ("hour", "new", "changed", "article_pages", "feed_pages", "written_new", "rewritten",
                                  "unchanged", "held", "wall_s")) for r in rows]))  # fmt: skip
    print(f"  {len(day)} hourly runs: {pages} article pages fetched for {found} new or changed articles: "
          f"{ratio:.3f} per article (target <= {TARGET}: {'met' if met else 'MISSED'})")
    print(f"  items whose update_time moved (followed as changes before issue 29): {naive} over the day")
    if failed:
        print(f"REFUSED: {failed}", file=sys.stderr)
    if args.json:
        payload = {"machine": machine(), "hours": len(day), "new_per_hour": new_per_hour, "corrections": args.corrections,
                   "article_pages": pages, "new_or_changed": found, "per_article": round(ratio, 4),
                   "stamps_moved": naive, "runs": rows, "target_met": met}  # fmt: skip
        args.json.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
