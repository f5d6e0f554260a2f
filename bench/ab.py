"""Whole crawls from two or more source trees, alternating: CPU per article, seconds, peak RSS.

    python -m bench.ab --articles 2000 --rounds 4 /path/to/tree-a /path/to/tree-b

Each tree is a checkout of this project (e.g. ``git archive main | tar -x -C /tmp/main``); the
crawl (``bench.common.run_crawl``'s command, the relaxed settings) runs from each tree's own
directory, so it imports that tree's ``crawler``, over one synthetic site, the trees' order rotated
every round so that all see the same load. Crawls that lost an article or logged an ERROR are
refused. Used for the A/B figures of docs/BENCHMARKS.md (issue 18).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from bench.common import RELAXED, feed_args, machine, problems, run_command, table
from tests.mirror.handler import mirror_settings
from tests.mirror.synthetic import SyntheticSite


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("trees", nargs="+", type=Path)
    args = parser.parse_args()
    print(f"ab: {machine()}")
    site = SyntheticSite(args.articles)
    server, url = site.serve()
    work = Path(tempfile.mkdtemp(prefix="qq-bench-ab-"))
    runs: dict[Path, list[tuple[float, float, float]]] = {tree: [] for tree in args.trees}
    try:
        for number in range(args.rounds):
            shift = number % len(args.trees)
            for tree in args.trees[shift:] + args.trees[:shift]:
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
                print(f"  {tree}: {runs[tree][-1][0]:.2f} ms CPU/article, {run.elapsed:.1f} s, "
                      f"{run.peak_rss_sampled_mb:.0f} MB ({machine().split(', ')[-3]})", flush=True)  # fmt: skip
    finally:
        server.shutdown()
        server.server_close()
        shutil.rmtree(work, ignore_errors=True)
    print(table([("tree", "median ms CPU/article", "median s", "median peak RSS MB")] + [
        (str(tree), f"{statistics.median(r[0] for r in v):.2f}", f"{statistics.median(r[1] for r in v):.1f}",
         f"{statistics.median(r[2] for r in v):.0f}") for tree, v in runs.items()]))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
