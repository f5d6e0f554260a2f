"""Incremental: a second crawl of the same articles fetches no article page, and is quick.

    python -m bench.incremental [--articles 10000] [--json result.json]

Serves ``--articles`` synthetic articles (``bench/synthetic.py``) and runs the full crawl over all
of them twice, into the same output root (so with the same article store). The mirror counts the
article pages each run really fetched. Targets: the second run fetches zero article pages and
takes under 5% of the first run's time (wall time of the process, start-up included).

Both runs discover the articles through the real feed path (``scrapy crawl qq -a channels=tech
-a pages=<N/20 + 1>``), with the project's defaults: thumbnails, the article store and its dedup
middleware. The second run reads the first feed page again (feeds are news every time), finds
every entry already written in the store, and stops paging there: no article page, no image.

Politeness is relaxed for the benchmark only (see ``bench.common.RELAXED``); it says so.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.common import RELAXED_NOTE, dedup_enabled, feed_args, machine, refuse, run_crawl, table
from bench.synthetic import SyntheticSite

TARGET_TIME_SHARE = 0.05


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=10000)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()

    print(f"incremental: {machine()}")
    print(f"  {RELAXED_NOTE}")
    work = Path(tempfile.mkdtemp(prefix="qq-bench-incremental-"))
    site = SyntheticSite(args.articles)
    server, url = site.serve()
    runs: list[dict[str, Any]] = []
    try:
        for number in (1, 2):
            before = dict(site.counts)
            run = run_crawl(url, work / "output", work / f"crawl-{number}.log", feed_args(args.articles))
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
            })  # fmt: skip
    finally:
        server.shutdown()
        server.server_close()
        shutil.rmtree(work, ignore_errors=True)
    first, second = runs
    share = second["wall_s"] / first["wall_s"]
    met = second["article_pages_fetched"] == 0 and share < TARGET_TIME_SHARE and first["written"] == args.articles
    print(table([("run", "seconds (wall)", "article pages fetched", "feed pages", "images", "requests",
                   "files written", "skipped (written)")] + [
        (str(r["run"]), str(r["wall_s"]), str(r["article_pages_fetched"]), str(r["feed_pages_fetched"]),
         str(r["images_fetched"]), f"{r['requests']:.0f}", f"{r['written']:.0f}", f"{r['skipped_written']:.0f}")
        for r in runs]))  # fmt: skip
    print(f"  dedup middleware (article store): {'on' if all(r['dedup_middleware'] for r in runs) else 'OFF'}")
    print(f"  second run: {second['article_pages_fetched']} article pages, {share:.1%} of the first run's time "
          f"(target 0 pages and < {TARGET_TIME_SHARE:.0%}: {'met' if met else 'MISSED'})")  # fmt: skip
    if args.json:
        payload = {"machine": machine(), "articles": args.articles, "runs": runs, "time_share": round(share, 4),
                   "target_met": met}  # fmt: skip
        args.json.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
