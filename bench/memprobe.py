"""Memory probe: what grows with the number of articles, from tracemalloc, at two sizes.

    python -m bench.memprobe [--sizes 1000,4000] [--top 12] [--json result.json]

Runs the real crawl (``qq`` spider, feed-driven as in ``bench.scale``, thumbnails and the store on)
of each size in a fresh child process, in-process there under ``tracemalloc`` (slower than the real
crawl), and while it runs samples, every 0.5 s, the RSS (``/proc/self/status``) and the traced
Python heap: the peaks are taken DURING the crawl, not at close. At ``spider_closed`` (everything
the run keeps still alive) it takes a snapshot. Printed: peak RSS and heap of each size, the heap
growth per article between the two sizes ((heap_B - heap_A) / (B - A): what each extra article
costs in live Python memory), and the allocation sites that grew most between the two snapshots.

A crawl that lost an article or a thumbnail or logged an ERROR is refused (exit status 1). The
target, as ``bench.scale``'s: peak RSS at the larger size <= 1.2x the smaller (exit status 1 if not).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

from bench.common import RELAXED, feed_args, machine, table, verdict

TARGET_RSS_RATIO = 1.2


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def one(size: int, out: Path) -> int:
    """The crawl of ``size`` articles in this process: samples, snapshot, figures to ``out``."""
    from scrapy.utils.project import get_project_settings
    from scrapy.utils.reactor import install_reactor

    # Before anything imports twisted.internet.reactor (the mirror's handler does): the project's reactor.
    install_reactor(get_project_settings()["TWISTED_REACTOR"])
    from scrapy import signals
    from scrapy.crawler import CrawlerProcess

    from tests.mirror.handler import MIRROR_HANDLERS, MIRROR_RESOLVER
    from tests.mirror.synthetic import SyntheticSite

    tracemalloc.start(4)
    site = SyntheticSite(size)
    server, url = site.serve()
    work = Path(tempfile.mkdtemp(prefix="qq-bench-memprobe-"))
    (work / "out").mkdir()
    settings = get_project_settings()
    settings.set("QQ_MIRROR_URL", url)
    settings.set("DOWNLOAD_HANDLERS", MIRROR_HANDLERS)
    settings.set("URLPOLICY_RESOLVER", MIRROR_RESOLVER)
    settings.set("OUTPUT_ROOT", str(work / "out"))
    for name, value in RELAXED.items():
        settings.set(name, value)
    settings.set("DOWNLOAD_SLOTS", {})
    settings.set("LOG_LEVEL", "WARNING")
    process = CrawlerProcess(settings)
    from twisted.internet import task

    crawler = process.create_crawler("qq")
    samples: list[tuple[float, float, float, float]] = []  # seconds, items, RSS MB, traced heap MB
    start = time.perf_counter()

    def sample() -> None:
        assert crawler.stats is not None
        items = crawler.stats.get_value("write/written", 0)
        samples.append((time.perf_counter() - start, items, rss_mb(), tracemalloc.get_traced_memory()[0] / 2**20))

    sampler = task.LoopingCall(sample)

    def opened() -> None:  # named functions: signal receivers are weakly referenced
        sampler.start(0.5)

    def closed() -> None:
        sample()
        sampler.stop()
        tracemalloc.take_snapshot().dump(str(out.with_suffix(".snapshot")))

    crawler.signals.connect(opened, signals.spider_opened)
    crawler.signals.connect(closed, signals.spider_closed)
    try:
        process.crawl(crawler, **feed_args(size))
        process.start()
    finally:
        server.shutdown()
        server.server_close()
        shutil.rmtree(work, ignore_errors=True)
    assert crawler.stats is not None
    stats = crawler.stats.get_stats()
    during = samples[:-1] or samples  # the last one is at spider_closed
    payload = {
        "size": size, "written": stats.get("write/written", 0), "errors": stats.get("log_count/ERROR", 0),
        "thumbnails": sum(stats.get(f"thumbnails/{k}", 0) for k in ("downloaded", "uptodate", "none")),
        "peak_rss_during_mb": round(max(s[2] for s in during), 1), "peak_heap_during_mb": round(max(s[3] for s in during), 2),
        "heap_at_close_mb": round(samples[-1][3], 2), "samples": [[round(a, 1), b, round(c, 1), round(d, 2)] for a, b, c, d in samples],
    }  # fmt: skip
    out.write_text(json.dumps(payload) + "\n", encoding="utf-8")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,4000", help="two article counts")
    parser.add_argument("--top", type=int, default=12, help="allocation sites to print")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # the child's own crawl
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    if args.one:
        return one(args.one, args.out)
    small, large = sorted(int(size) for size in args.sizes.split(","))
    print(f"memprobe: {machine()}")
    work = Path(tempfile.mkdtemp(prefix="qq-bench-memprobe-"))
    results: dict[int, dict[str, Any]] = {}
    try:
        for size in (small, large):
            out = work / f"probe-{size}.json"
            print(f"  crawling {size} articles under tracemalloc ...", flush=True)
            child = subprocess.run([sys.executable, "-m", "bench.memprobe", "--one", str(size), "--out", str(out)],
                                   env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])})  # fmt: skip
            if child.returncode != 0 or not out.exists():
                print(f"REFUSED: the probe of {size} articles failed (exit {child.returncode})", file=sys.stderr)
                return 1
            result = json.loads(out.read_text(encoding="utf-8"))
            lost = [f"{result['written']} of {size} written"] if result["written"] != size else []
            lost += [f"{result['thumbnails']} of {size} thumbnails"] if result["thumbnails"] != size else []
            lost += [f"{result['errors']} ERROR lines"] if result["errors"] else []
            if lost:
                print(f"REFUSED: the probe of {size} articles: {'; '.join(lost)}", file=sys.stderr)
                return 1
            results[size] = result
        a, b = results[small], results[large]
        heap_per_article = (b["heap_at_close_mb"] - a["heap_at_close_mb"]) * 2**20 / (large - small)
        rss_per_article = (b["peak_rss_during_mb"] - a["peak_rss_during_mb"]) * 2**20 / (large - small)
        ratio = b["peak_rss_during_mb"] / a["peak_rss_during_mb"]
        print(table([("articles", "peak RSS during MB", "peak heap during MB", "heap at close MB", "samples")] + [
            (str(r["size"]), str(r["peak_rss_during_mb"]), str(r["peak_heap_during_mb"]), str(r["heap_at_close_mb"]),
             str(len(r["samples"]))) for r in (a, b)]))  # fmt: skip
        print(f"  live Python heap growth per article ({small} -> {large}): {heap_per_article:.0f} bytes; "
              f"RSS {rss_per_article:.0f} bytes per article")  # fmt: skip
        before = tracemalloc.Snapshot.load(str((work / f"probe-{small}.json").with_suffix(".snapshot")))
        after = tracemalloc.Snapshot.load(str((work / f"probe-{large}.json").with_suffix(".snapshot")))
        print(f"  what grew most from {small} to {large} articles (bytes per extra article, allocation site):")
        growth = []
        for stat in after.compare_to(before, "traceback")[: args.top]:
            per = stat.size_diff / (large - small)
            growth.append({"bytes_per_article": round(per, 1), "count_diff": stat.count_diff,
                           "traceback": stat.traceback.format()[-6:]})  # fmt: skip
            print(f"    {per:7.1f} B  ({stat.count_diff:+d} blocks)")
            for line in stat.traceback.format()[-4:]:
                print(f"        {line.strip()}")
        met = ratio <= TARGET_RSS_RATIO
        print(f"  peak RSS during the crawl at {large} / at {small}: {ratio:.2f} (target <= {TARGET_RSS_RATIO} at "
              f"these sizes: {verdict(met)}; the 100k target is bench.scale's)")  # fmt: skip
        if args.json:
            payload = {"machine": machine(), "sizes": [small, large], "results": [a, b], "heap_bytes_per_article":
                       round(heap_per_article), "rss_bytes_per_article": round(rss_per_article), "rss_ratio": round(ratio, 3),
                       "growth": growth, "target_met": met}  # fmt: skip
            args.json.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
