"""Whole crawls from two or more source trees, alternating: CPU per article, seconds, peak RSS.

    python -m bench.ab --articles 2000 --rounds 4 [--bare] /path/to/tree-a /path/to/tree-b

Each tree is a checkout of this project (e.g. ``git archive main | tar -x -C /tmp/main``); the
crawl (``bench.common.run_crawl``'s command, the relaxed settings) runs from each tree's own
directory, so it imports that tree's ``crawler``, over one synthetic site, the trees' order rotated
every round so that all see the same load. Crawls that lost an article or logged an ERROR are
refused. ``--bare`` also runs ``bench.throughput``'s bare Scrapy spider in each round (its place
rotated too) and gives each crawl's request rate over the bare spider's of the same round: the
ratio of ``bench.throughput``, for several trees side by side. Used for the A/B figures of
docs/BENCHMARKS.md (issues 18 and 26).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from bench.common import RELAXED, feed_args, machine, problems, run_command, table
from bench.throughput import bare_urls, rate, run_bare
from tests.mirror.handler import mirror_settings
from tests.mirror.synthetic import SyntheticSite


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--bare", action="store_true", help="also the bare Scrapy spider, each round: rate ratios")
    parser.add_argument("trees", nargs="+", type=Path)
    args = parser.parse_args()
    print(f"ab: {machine()}")
    site = SyntheticSite(args.articles)
    server, url = site.serve()
    work = Path(tempfile.mkdtemp(prefix="qq-bench-ab-"))
    runs: dict[Path, list[tuple[float, float, float]]] = {tree: [] for tree in args.trees}
    ratios: dict[Path, list[float]] = {tree: [] for tree in args.trees}
    urls = bare_urls(site, work / "urls.txt") if args.bare else None
    try:
        for number in range(args.rounds):
            kinds: list[Path | None] = [*args.trees, None] if urls else list(args.trees)  # None: the bare spider
            shift = number % len(kinds)
            rates: dict[Path, float] = {}
            bare_rate = 0.0
            for tree in kinds[shift:] + kinds[:shift]:
                if tree is None:
                    assert urls is not None
                    bare = run_bare(url, urls, work, number)
                    failed = bare.returncode != 0 or bare.stat("log_count/ERROR")
                    if failed or not bare.stat("downloader/request_count"):
                        print(f"REFUSED: bare spider {number + 1} failed", file=sys.stderr)
                        return 1
                    bare_rate = rate(bare)
                    print(f"  bare spider: {bare_rate:.0f} requests/min ({machine().split(', ')[-3]})", flush=True)
                    continue
                output = work / "output"
                output.mkdir()
                command = [sys.executable, "-m", "scrapy", "crawl", "qq", *mirror_settings(url), "-s", f"OUTPUT_ROOT={output}"]
                command += [part for name, value in feed_args(args.articles).items() for part in ("-a", f"{name}={value}")]
                command += [part for name, value in RELAXED.items() for part in ("-s", f"{name}={value}")]
                run = run_command(command, work / "crawl.log", cwd=tree.resolve())  # python -m: the tree comes first on sys.path
                shutil.rmtree(output)
                found = problems(run, args.articles)
                if found:
                    print(f"REFUSED: {tree}: {'; '.join(found)}", file=sys.stderr)
                    return 1
                runs[tree].append((run.cpu / args.articles * 1000, run.elapsed, run.peak_rss_sampled_mb))
                rates[tree] = rate(run)
                print(f"  {tree}: {runs[tree][-1][0]:.2f} ms CPU/article, {run.elapsed:.1f} s, "
                      f"{run.peak_rss_sampled_mb:.0f} MB ({machine().split(', ')[-3]})", flush=True)  # fmt: skip
            for tree, crawl_rate in rates.items():
                if bare_rate:
                    ratios[tree].append(crawl_rate / bare_rate)
            if bare_rate:
                said = ", ".join(f"{tree} {crawl_rate / bare_rate:.2f}" for tree, crawl_rate in rates.items())
                print(f"  round {number + 1}, ratio to the bare spider: {said}", flush=True)
    finally:
        server.shutdown()
        server.server_close()
        shutil.rmtree(work, ignore_errors=True)
    print(table([("tree", "median ms CPU/article", "median s", "median peak RSS MB", "ratios to bare", "median ratio")] + [
        (str(tree), f"{statistics.median(r[0] for r in v):.2f}", f"{statistics.median(r[1] for r in v):.1f}",
         f"{statistics.median(r[2] for r in v):.0f}", ", ".join(f"{x:.2f}" for x in ratios[tree]) or "-",
         f"{statistics.median(ratios[tree]):.2f}" if ratios[tree] else "-") for tree, v in runs.items()]))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
