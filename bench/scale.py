"""Scale: peak RSS and time of the crawl at two sizes, and the article store's lookup time at 1M ids.

    python -m bench.scale [--sizes 1000,100000] [--store-ids 1000000] [--json result.json]

1. For each size N in ``--sizes``, serves N synthetic articles (``tests/mirror/synthetic.py``) and runs
   the full crawl (thumbnails and the article store on, the defaults) over all of them in a fresh
   child process; its peak RSS comes from ``os.wait4``. The crawl discovers the articles through
   the feed (``-a channels=tech -a pages=<N/20 + 1>``), or with ``--source url_file`` is given
   them in a file (``-a url_file=``). Target: peak RSS at the largest size within 1.2x of the
   smallest (memory flat in N), RSS sampled from /proc every 0.5 s while the crawl runs
   (and ``ru_maxrss`` beside it). 100,000 articles take ~20 minutes on 2 cores: pass smaller sizes
   to try it quickly, and say which sizes were run. The allocator's settings come from the
   environment (e.g. ``MALLOC_ARENA_MAX=2 python -m bench.scale``), printed with the figures.
2. Fills the article store (``crawler.store.open_store``, the project's default backend, in a
   temporary output root) with ``--store-ids`` records through its ``put``, then times ``get`` on
   10,000 known and 10,000 unknown ids. Target: a lookup under 100 us. Skipped, with the reason,
   while ``crawler/store`` is not merged.

Politeness is relaxed for the benchmark only (see ``bench.common.RELAXED``); it says so.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import (
    RELAXED_NOTE,
    feed_args,
    machine,
    refuse,
    run_crawl,
    table,
    verdict,
    write_ids,
)
from tests.mirror.synthetic import SyntheticSite, article_ident

TARGET_RSS_RATIO = 1.2
TARGET_LOOKUP_US = 100.0


def crawl_size(size: int, work: Path, source: str) -> dict[str, Any]:
    site = SyntheticSite(size)
    server, url = site.serve()
    try:
        if source == "feed":
            arguments = feed_args(size)
        else:
            arguments = {"url_file": str(write_ids(work / f"ids-{size}.txt", site.ids()))}
        run = run_crawl(url, work / f"output-{size}", work / f"crawl-{size}.log", arguments)
    finally:
        server.shutdown()
        server.server_close()
    if refuse(run, size, f"the crawl of {size} articles"):
        raise SystemExit(1)
    shutil.rmtree(work / f"output-{size}", ignore_errors=True)
    tenths = [run.rss[min(len(run.rss) - 1, len(run.rss) * k // 10)] for k in range(1, 11)] if run.rss else []
    return {
        "peak_rss_sampled_mb": round(run.peak_rss_sampled_mb, 1),
        "rss_over_time_mb": [[round(t), round(mb, 1)] for t, mb in tenths],
        "articles": size, "written": run.stat("write/written"), "wall_s": round(run.wall, 1),
        "elapsed_s": round(run.elapsed, 1), "articles_per_min": round(run.stat("write/written") / run.elapsed * 60),
        "peak_rss_mb": round(run.peak_rss_mb, 1), "cpu_s": round(run.cpu, 1),
        "memusage_max_mb": round(run.stat("memusage/max") / 2**20, 1),
        "thumbnails": run.stat("thumbnails/downloaded"), "feed_pages": run.stat("qq/feed/pages"),
    }  # fmt: skip


def store_lookups(count: int, work: Path, deadline_s: float) -> dict[str, Any]:
    """Fill the project's article store with ``count`` records and time ``get``."""
    try:
        from scrapy.settings import Settings

        from crawler import settings as project_settings
        from crawler.store import Record, open_store
    except ImportError as exc:
        return {"skipped": f"crawler/store is not merged yet ({exc}); nothing to measure"}
    settings = Settings()
    settings.setmodule(project_settings)
    settings.set("OUTPUT_ROOT", str(work / "store-root"))
    (work / "store-root").mkdir(exist_ok=True)
    store = open_store(settings)
    try:
        ids = [article_ident(i) for i in range(count)]
        start = time.perf_counter()
        filled = 0
        for ident in ids:
            store.put(Record(id=ident, path=f"content/posts/{ident}.md", fingerprint=hashlib.sha256(ident.encode()).hexdigest()))
            filled += 1
            if filled % 10000 == 0 and time.perf_counter() - start > deadline_s:
                break
        fill_s = time.perf_counter() - start
        rng = random.Random(1)
        known = rng.sample(ids[:filled], min(10000, filled))
        unknown = [article_ident(count + i) for i in range(10000)]
        timings: dict[str, list[float]] = {"known": [], "unknown": []}
        for kind, probe in (("known", known), ("unknown", unknown)):
            for ident in probe:
                begin = time.perf_counter_ns()
                record = store.get(ident)
                timings[kind].append((time.perf_counter_ns() - begin) / 1000)
                assert (record is not None) == (kind == "known"), (kind, ident)
    finally:
        store.close()
    result: dict[str, Any] = {"backend": settings.get("STORE_BACKEND", "sqlite"), "records": filled,
                              "fill_s": round(fill_s, 1), "puts_per_s": round(filled / fill_s)}  # fmt: skip
    for kind, values in timings.items():
        values.sort()
        result[kind] = {"mean_us": round(statistics.fmean(values), 1), "p50_us": round(values[len(values) // 2], 1),
                        "p99_us": round(values[int(len(values) * 0.99)], 1)}  # fmt: skip
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,100000", help="comma-separated article counts")
    parser.add_argument("--store-ids", type=int, default=1_000_000)
    parser.add_argument("--store-fill-limit", type=float, default=900, help="stop filling the store after this many s")
    parser.add_argument("--source", choices=("feed", "url_file"), default="feed", help="how the crawl finds the articles")
    parser.add_argument("--skip-crawl", action="store_true", help="only the store lookups")
    parser.add_argument("--skip-store", action="store_true", help="only the crawls")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    sizes = sorted(int(size) for size in args.sizes.split(","))

    print(f"scale: {machine()}")
    print(f"  {RELAXED_NOTE}")
    malloc = {k: v for k, v in os.environ.items() if k.startswith("MALLOC_")}
    print(f"  articles from: {args.source}; allocator environment: {malloc or 'glibc defaults'}")
    work = Path(tempfile.mkdtemp(prefix="qq-bench-scale-"))
    payload: dict[str, Any] = {"machine": machine(), "source": args.source, "malloc_env": malloc, "crawls": []}
    try:
        if not args.skip_crawl:
            for size in sizes:
                print(f"  crawling {size} articles ...", flush=True)
                payload["crawls"].append(crawl_size(size, work, args.source))
            crawls = payload["crawls"]
            print(table([("articles", "written", "thumbnails", "seconds", "articles/min", "peak RSS MB (sampled)",
                          "ru_maxrss MB", "CPU s")] + [
                (str(c["articles"]), f"{c['written']:.0f}", f"{c['thumbnails']:.0f}", str(c["elapsed_s"]),
                 str(c["articles_per_min"]), str(c["peak_rss_sampled_mb"]), str(c["peak_rss_mb"]), str(c["cpu_s"]))
                for c in crawls]))  # fmt: skip
            for c in crawls:
                print(f"  RSS over time at {c['articles']} (s, MB): {c['rss_over_time_mb']}")
            if len(crawls) > 1:
                ratio = crawls[-1]["peak_rss_sampled_mb"] / crawls[0]["peak_rss_sampled_mb"]
                payload["rss_ratio"] = round(ratio, 2)
                payload["rss_target_met"] = ratio <= TARGET_RSS_RATIO
                slope = (crawls[-1]["peak_rss_sampled_mb"] - crawls[0]["peak_rss_sampled_mb"]) * 2**20 / (
                    crawls[-1]["articles"] - crawls[0]["articles"]
                )
                payload["rss_kb_per_article"] = round(slope / 1024, 2)
                print(f"  peak RSS at {crawls[-1]['articles']} / at {crawls[0]['articles']}: {ratio:.2f}, "
                      f"{slope / 1024:.2f} KB per extra article "
                      f"(target <= {TARGET_RSS_RATIO}: {verdict(ratio <= TARGET_RSS_RATIO)})")  # fmt: skip
        if args.skip_store:
            store: dict[str, Any] = {"skipped": "--skip-store"}
        else:
            print(f"  article store: filling {args.store_ids} ids ...", flush=True)
            store = store_lookups(args.store_ids, work, args.store_fill_limit)
        payload["store"] = store
        if "skipped" in store:
            print(f"  store lookup: skipped: {store['skipped']}")
        else:
            worst = max(store["known"]["mean_us"], store["unknown"]["mean_us"])
            store["target_met"] = worst < TARGET_LOOKUP_US and store["records"] == args.store_ids
            print(f"  store ({store['backend']}): {store['records']} records filled in {store['fill_s']} s "
                  f"({store['puts_per_s']} puts/s)")  # fmt: skip
            for kind in ("known", "unknown"):
                print(f"    get() of {kind} ids: mean {store[kind]['mean_us']} us, p50 {store[kind]['p50_us']} us, "
                      f"p99 {store[kind]['p99_us']} us")  # fmt: skip
            print(f"    target < {TARGET_LOOKUP_US:.0f} us at {args.store_ids} ids: "
                  f"{'met' if store['target_met'] else 'MISSED'}")  # fmt: skip
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if args.json:
        args.json.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    missed = payload.get("rss_target_met") is False or payload["store"].get("target_met") is False
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
