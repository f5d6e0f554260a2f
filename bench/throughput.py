"""Throughput: the full crawl over the synthetic mirror, next to ``scrapy bench`` in the same run.

    python -m bench.throughput [--articles 2000] [--json result.json]

1. Serves ``--articles`` synthetic articles (``bench/synthetic.py``) on loopback and runs the real
   crawl (the project's settings and every enabled pipeline: extraction, cleaning, rendering,
   thumbnails, writing and the dedup store: the project's defaults) over all of them, in a child
   process. The crawl discovers the articles itself, through the real feed path:
   ``scrapy crawl qq -a channels=tech -a pages=<N/20 + 1>`` POSTs getPCList page after page.
2. Runs ``scrapy bench`` (Scrapy's own ceiling: trivial pages from its own local server) for the
   same duration, outside the project so it runs with Scrapy's defaults.
3. Prints articles/min, requests/min and CPU seconds per article of the crawl, requests/min of
   ``scrapy bench``, and the ratio of the two request rates. Target: ratio >= 0.60.

Politeness is relaxed for the benchmark only (see ``bench.common.RELAXED``); it says so.
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import shutil
import sys
import tempfile
from pathlib import Path

from bench.common import RELAXED_NOTE, dedup_enabled, enabled_pipelines, feed_args, machine, run_command, run_crawl, table
from bench.synthetic import SyntheticSite

TARGET_RATIO = 0.60


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--bench-seconds", type=int, default=0, help="scrapy bench duration (default: the crawl's)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--keep", action="store_true", help="keep the output and logs (printed)")
    args = parser.parse_args()

    print(f"throughput: {machine()}")
    print(f"  {RELAXED_NOTE}")
    work = Path(tempfile.mkdtemp(prefix="qq-bench-throughput-"))
    site = SyntheticSite(args.articles)
    server, url = site.serve()
    try:
        server_cpu_before = resource.getrusage(resource.RUSAGE_SELF)
        crawl = run_crawl(url, work / "output", work / "crawl.log", feed_args(args.articles))
        server_cpu_after = resource.getrusage(resource.RUSAGE_SELF)
    finally:
        server.shutdown()
        server.server_close()
    if crawl.returncode != 0:
        print(crawl.log[-3000:], file=sys.stderr)
        return 1
    written = crawl.stat("write/written")
    thumbnails = crawl.stat("thumbnails/downloaded")
    files = sum(1 for _ in (work / "output").rglob("*.md"))
    requests = crawl.stat("downloader/request_count")
    duration = args.bench_seconds or max(1, math.ceil(crawl.elapsed))
    bench_dir = work / "scrapy-bench"  # no scrapy.cfg here: `scrapy bench` runs with Scrapy's defaults
    bench_dir.mkdir()
    bench = run_command([sys.executable, "-m", "scrapy", "bench", "-s", f"CLOSESPIDER_TIMEOUT={duration}",
                         "-s", "LOGSTATS_INTERVAL=600"], work / "scrapy-bench.log", cwd=bench_dir)  # fmt: skip
    bench_requests = bench.stat("downloader/request_count")
    server_cpu = (server_cpu_after.ru_utime + server_cpu_after.ru_stime) - (
        server_cpu_before.ru_utime + server_cpu_before.ru_stime
    )

    crawl_rpm = requests / crawl.elapsed * 60
    bench_rpm = bench_requests / bench.elapsed * 60 if bench.elapsed else 0.0
    ratio = crawl_rpm / bench_rpm if bench_rpm else 0.0
    result = {
        "machine": machine(),
        "articles": args.articles,
        "written": written,
        "files": files,
        "pipelines": enabled_pipelines(crawl.log),
        "dedup_middleware": dedup_enabled(crawl.log),
        "feed_pages": crawl.stat("qq/feed/pages"),
        "thumbnails_downloaded": thumbnails,
        "crawl": {
            "requests": requests, "elapsed_s": round(crawl.elapsed, 2), "wall_s": round(crawl.wall, 2),
            "articles_per_min": round(written / crawl.elapsed * 60), "requests_per_min": round(crawl_rpm),
            "cpu_s_per_article": round(crawl.cpu / max(written, 1), 5), "cpu_s": round(crawl.cpu, 2),
            "peak_rss_mb": round(crawl.peak_rss_mb, 1), "mirror_server_cpu_s": round(server_cpu, 2),
            "pages_served": dict(site.counts),
        },
        "scrapy_bench": {
            "requests": bench_requests, "elapsed_s": round(bench.elapsed, 2), "requests_per_min": round(bench_rpm),
            "cpu_s": round(bench.cpu, 2),
        },
        "ratio": round(ratio, 3),
        "target_ratio": TARGET_RATIO,
        "target_met": ratio >= TARGET_RATIO and written == args.articles and thumbnails > 0,
    }  # fmt: skip
    print(f"  pipelines: {result['pipelines']}; dedup middleware (article store): "
          f"{'on' if result['dedup_middleware'] else 'OFF'}")  # fmt: skip
    print(f"  pages served by the mirror: {dict(site.counts)}")
    print()
    print(table([
        ("", "requests", "seconds", "requests/min", "articles/min", "CPU s/article", "peak RSS MB"),
        ("crawl (this project)", f"{requests:.0f}", f"{crawl.elapsed:.1f}", f"{crawl_rpm:.0f}",
         f"{written / crawl.elapsed * 60:.0f}", f"{crawl.cpu / max(written, 1):.4f}", f"{crawl.peak_rss_mb:.0f}"),
        ("scrapy bench (reference)", f"{bench_requests:.0f}", f"{bench.elapsed:.1f}", f"{bench_rpm:.0f}", "-", "-", f"{bench.peak_rss_mb:.0f}"),
    ]))  # fmt: skip
    print()
    print(f"  articles written: {written:.0f} of {args.articles} ({files} files), discovered from "
          f"{crawl.stat('qq/feed/pages'):.0f} feed pages; thumbnails downloaded: {thumbnails:.0f} "
          f"(thumbnails/downloaded; none: {crawl.stat('thumbnails/none'):.0f})")  # fmt: skip
    print(f"  request-rate ratio crawl / scrapy bench: {ratio:.2f} (target >= {TARGET_RATIO:.2f}: "
          f"{'met' if result['target_met'] else 'MISSED'})")  # fmt: skip
    if args.keep:
        print(f"  output and logs kept in {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
