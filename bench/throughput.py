"""Throughput: the full crawl over the synthetic mirror, next to a bare Scrapy spider in the same run.

    python -m bench.throughput [--articles 2000] [--pairs 3] [--json result.json]

1. Serves ``--articles`` synthetic articles (``tests/mirror/synthetic.py``) on loopback.
2. Runs, ``--pairs`` times in alternating order (crawl first, then bare first, ...), so that both
   see the same load on a shared machine:
   * the real crawl (the project's settings and every default pipeline: extraction, cleaning,
     rendering, thumbnails, writing and the dedup store), discovering the articles itself through
     the real feed path (``scrapy crawl qq -a channels=tech -a pages=<N/20 + 1>``);
   * a bare Scrapy spider (``bench/bare.py``: Scrapy's defaults, the same relaxed politeness and the
     same mirror handler) fetching the same mix of URLs (feed pages, article pages, thumbnails) and
     doing nothing with them: what Scrapy itself does on this machine against this server.
3. Runs ``scrapy bench`` once for the crawl's duration (the older, weaker reference: it creates 20
   requests per page it parses) and reports that ratio too.

Target: the crawl's request rate >= 0.80 of the bare spider's (median of the pairs' ratios). A
figure is only reported from crawls that wrote every article and thumbnail and logged no ERROR;
the script exits non-zero when a crawl is refused or the target is missed.

Politeness is relaxed for the benchmark only (see ``bench.common.RELAXED``); it says so.
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from bench.common import (
    RELAXED,
    RELAXED_NOTE,
    CrawlRun,
    dedup_enabled,
    enabled_pipelines,
    feed_args,
    machine,
    refuse,
    run_command,
    run_crawl,
    table,
    verdict,
)
from tests.mirror.handler import mirror_settings
from tests.mirror.synthetic import SyntheticSite, cover_url, image_url

TARGET_RATIO = 0.80
BARE = Path(__file__).resolve().parent / "bare.py"


def bare_urls(site: SyntheticSite, path: Path) -> Path:
    """The URLs the crawl fetches, in the order it meets them: a feed page, its articles, their thumbnails."""
    pages = int(feed_args(site.size)["pages"])
    newest_first = site.ids()[::-1]
    with path.open("w", encoding="utf-8") as out:
        for page in range(pages):
            out.write(f"https://i.news.qq.com/web_feed/getPCList?page={page}\n")
            chunk = newest_first[page * site.feed_page_size : (page + 1) * site.feed_page_size]
            for ident in chunk:
                out.write(f"https://new.qq.com/rain/a/{ident}\n")
            for ident in chunk:
                if len(ident) == 16:
                    out.write(cover_url(ident) + "\n")
                elif site.content(ident)["images"]:
                    out.write(image_url(ident, 0) + "\n")
    return path


def run_bare(url: str, urls: Path, work: Path, number: int) -> CrawlRun:
    where = work / f"bare-{number}"  # no scrapy.cfg here: Scrapy's defaults, not the project's
    where.mkdir()
    command = [sys.executable, "-m", "scrapy", "runspider", str(BARE), "-a", f"urls={urls}", *mirror_settings(url)]
    for name, value in RELAXED.items():
        command += ["-s", f"{name}={value}"]
    return run_command(command, work / f"bare-{number}.log", cwd=where)


def rate(run: CrawlRun) -> float:
    return run.stat("downloader/request_count") / run.elapsed * 60


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--pairs", type=int, default=3, help="crawl + bare pairs, alternating order (>= 3)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--keep", action="store_true", help="keep the output and logs (printed)")
    parser.add_argument("-s", "--set", action="append", default=[], metavar="NAME=VALUE",
                        help="a setting for the crawl only (an experiment; printed), e.g. -s CONCURRENT_ITEMS=4")
    args = parser.parse_args()

    print(f"throughput: {machine()}")
    print(f"  {RELAXED_NOTE}")
    extra = dict(item.split("=", 1) for item in args.set)
    if extra:
        print(f"  EXPERIMENT: the crawl runs with {extra}")
    work = Path(tempfile.mkdtemp(prefix="qq-bench-throughput-"))
    site = SyntheticSite(args.articles)
    urls = bare_urls(site, work / "urls.txt")
    server, url = site.serve()
    pairs: list[dict[str, float | str]] = []
    crawls: list[CrawlRun] = []
    refused = False
    try:
        for number in range(args.pairs):
            runs: dict[str, CrawlRun] = {}
            for kind in ("crawl", "bare") if number % 2 == 0 else ("bare", "crawl"):
                if kind == "crawl":
                    output = work / f"output-{number}"
                    runs[kind] = run_crawl(url, output, work / f"crawl-{number}.log", feed_args(args.articles), extra)
                    shutil.rmtree(output, ignore_errors=True)
                else:
                    runs[kind] = run_bare(url, urls, work, number)
            crawl, bare = runs["crawl"], runs["bare"]
            if refuse(crawl, args.articles, f"crawl {number + 1}"):
                refused = True
                break
            if bare.returncode != 0 or bare.stat("log_count/ERROR") or not bare.stat("downloader/request_count"):
                print(bare.log[-3000:], file=sys.stderr)
                print(f"REFUSED: bare spider {number + 1} failed", file=sys.stderr)
                refused = True
                break
            crawls.append(crawl)
            pairs.append({
                "order": "crawl first" if number % 2 == 0 else "bare first",
                "crawl_rpm": round(rate(crawl)), "bare_rpm": round(rate(bare)), "ratio": round(rate(crawl) / rate(bare), 3),
                "crawl_requests": crawl.stat("downloader/request_count"), "bare_requests": bare.stat("downloader/request_count"),
                "crawl_s": round(crawl.elapsed, 2), "bare_s": round(bare.elapsed, 2),
                "crawl_cpu_s_per_article": round(crawl.cpu / args.articles, 5), "bare_cpu_s": round(bare.cpu, 2),
                "crawl_peak_rss_mb": round(crawl.peak_rss_mb, 1), "machine": machine(),
            })  # fmt: skip
            print(f"  pair {number + 1} ({pairs[-1]['order']}): crawl {rate(crawl):.0f} requests/min, "
                  f"bare {rate(bare):.0f}, ratio {pairs[-1]['ratio']:.2f} ({machine().split(', ')[-1]})", flush=True)  # fmt: skip
        if refused:
            return 1
        duration = max(1, math.ceil(statistics.median(c.elapsed for c in crawls)))
        bench_dir = work / "scrapy-bench"  # no scrapy.cfg here: `scrapy bench` runs with Scrapy's defaults
        bench_dir.mkdir()
        bench = run_command([sys.executable, "-m", "scrapy", "bench", "-s", f"CLOSESPIDER_TIMEOUT={duration}",
                             "-s", "LOGSTATS_INTERVAL=600"], work / "scrapy-bench.log", cwd=bench_dir)  # fmt: skip
    finally:
        server.shutdown()
        server.server_close()
    bench_rpm = bench.stat("downloader/request_count") / bench.elapsed * 60 if bench.elapsed else 0.0
    ratio = statistics.median(float(p["ratio"]) for p in pairs)
    crawl_rpm = statistics.median(float(p["crawl_rpm"]) for p in pairs)
    bare_rpm = statistics.median(float(p["bare_rpm"]) for p in pairs)
    met = ratio >= TARGET_RATIO and len(pairs) >= 3
    last = crawls[-1]
    result = {
        "machine": machine(), "articles": args.articles, "experiment_settings": extra, "pipelines": enabled_pipelines(last.log),
        "dedup_middleware": dedup_enabled(last.log), "pairs": pairs,
        "ratio_to_bare_median": round(ratio, 3), "crawl_rpm_median": crawl_rpm, "bare_rpm_median": bare_rpm,
        "scrapy_bench": {"requests": bench.stat("downloader/request_count"), "elapsed_s": round(bench.elapsed, 2),
                         "requests_per_min": round(bench_rpm)},
        "ratio_to_scrapy_bench": round(crawl_rpm / bench_rpm, 3) if bench_rpm else None,
        "target_ratio": TARGET_RATIO, "target_met": met,
    }  # fmt: skip
    print(f"  pipelines: {result['pipelines']}; dedup middleware (article store): "
          f"{'on' if result['dedup_middleware'] else 'OFF'}")  # fmt: skip
    print()
    print(table([("pair", "order", "crawl req/min", "bare req/min", "ratio", "crawl CPU s/article", "crawl peak RSS MB")] + [
        (str(i + 1), str(p["order"]), str(p["crawl_rpm"]), str(p["bare_rpm"]), f"{float(p['ratio']):.2f}",
         f"{float(p['crawl_cpu_s_per_article']):.4f}", str(p["crawl_peak_rss_mb"])) for i, p in enumerate(pairs)]))  # fmt: skip
    print()
    print(f"  every crawl wrote {args.articles} articles and accounted for every thumbnail, no ERROR logged")
    print(f"  scrapy bench (reference, {duration} s): {bench_rpm:.0f} requests/min; crawl / scrapy bench: "
          f"{result['ratio_to_scrapy_bench']}")  # fmt: skip
    print(f"  crawl / bare Scrapy spider, median of {len(pairs)} pairs: {ratio:.2f} "
          f"(target >= {TARGET_RATIO:.2f}: {verdict(met)})")  # fmt: skip
    if args.keep:
        print(f"  output and logs kept in {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
