"""Incremental: a second crawl of the same articles fetches no article page, and is quick.

    python -m bench.incremental [--articles 10000] [--json result.json]

Serves ``--articles`` synthetic articles (``bench/synthetic.py``) and runs the full crawl over all
of them twice, into the same output root (so with the same article store). The mirror counts the
article pages each run really fetched. Targets: the second run fetches zero article pages and
takes under 5% of the first run's time (wall time of the process, start-up included).

The skipping is the dedup store's job (``crawler/store`` and its middleware): while that is not
merged this prints that it is skipped and why. For now the crawl is given the ids
(``qq-idfile`` spider); it switches to the getPCList feeds once discovery is merged, when the
second run will fetch the feed pages again but no article page.

Politeness is relaxed for the benchmark only (see ``bench.common.RELAXED``); it says so.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.common import RELAXED_NOTE, machine, run_crawl, table, write_ids
from bench.synthetic import SyntheticSite

TARGET_TIME_SHARE = 0.05


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=10000)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()

    print(f"incremental: {machine()}")
    print(f"  {RELAXED_NOTE}")
    if importlib.util.find_spec("crawler.store") is None:
        print("  skipped: crawler/store (the dedup store) is not merged yet, so a second run has nothing "
              "to skip articles with; run this again once it is.")  # fmt: skip
        return 0
    work = Path(tempfile.mkdtemp(prefix="qq-bench-incremental-"))
    site = SyntheticSite(args.articles)
    server, url = site.serve()
    runs: list[dict[str, Any]] = []
    try:
        ids = write_ids(work / "ids.txt", site.ids())
        for number in (1, 2):
            before = site.counts["article"]
            run = run_crawl(url, work / "output", ids, work / f"crawl-{number}.log")
            if run.returncode != 0:
                print(run.log[-3000:], file=sys.stderr)
                return 1
            runs.append({
                "run": number, "wall_s": round(run.wall, 2), "elapsed_s": round(run.elapsed, 2),
                "article_pages_fetched": site.counts["article"] - before,
                "requests": run.stat("downloader/request_count"), "written": run.stat("qq/written"),
            })  # fmt: skip
    finally:
        server.shutdown()
        server.server_close()
        shutil.rmtree(work, ignore_errors=True)
    first, second = runs
    share = second["wall_s"] / first["wall_s"]
    met = second["article_pages_fetched"] == 0 and share < TARGET_TIME_SHARE
    print(table([("run", "seconds (wall)", "article pages fetched", "requests", "files written")] + [
        (str(r["run"]), str(r["wall_s"]), str(r["article_pages_fetched"]), f"{r['requests']:.0f}", f"{r['written']:.0f}")
        for r in runs]))  # fmt: skip
    print(f"  second run: {second['article_pages_fetched']} article pages, {share:.1%} of the first run's time "
          f"(target 0 pages and < {TARGET_TIME_SHARE:.0%}: {'met' if met else 'MISSED'})")  # fmt: skip
    if args.json:
        payload = {"machine": machine(), "articles": args.articles, "runs": runs, "time_share": round(share, 4),
                   "target_met": met}  # fmt: skip
        args.json.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
