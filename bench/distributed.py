"""Distributed scaling: articles/s of 1, 2 and 4 crawlers on one Redis, on one machine.

    python -m bench.distributed [--articles 2000] [--crawlers 1,2,4] [--json result.json]

For each number of crawlers: a fresh ``redis-server`` (a subprocess on a free loopback port, as
the tests start it), a fresh output root, N real ``scrapy crawl qq`` processes in distributed mode
(``REDIS_URL``, every project default on: the Redis article store, dedup, thumbnails) against the
synthetic site (``tests/mirror/synthetic.py``). Once every crawler has registered in Redis, the
article ids are pushed to the start-URLs list, as an operator would; the clock runs from the push
to the last file written (the crawlers' idle close, ``MAX_IDLE_TIME_BEFORE_CLOSE``, is not counted).
Checks that every article is written once, and prints articles/s and each crawler's share.

All crawlers and the synthetic site share this machine's cores: the figures say how the shared
queue, the leases and the shared store scale on one machine, not what N machines would do.
Politeness is relaxed for the benchmark only (see ``bench.common.RELAXED``); it says so.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import RELAXED, RELAXED_NOTE, ROOT, machine, parse_stats, table
from tests.mirror.handler import mirror_settings
from tests.mirror.synthetic import SyntheticSite
from tests.redis_server import RedisServer


def crawler_command(url: str, output: Path, redis_url: str) -> list[str]:
    command = [sys.executable, "-m", "scrapy", "crawl", "qq", *mirror_settings(url), "-s", f"OUTPUT_ROOT={output}",
               "-s", f"REDIS_URL={redis_url}", "-s", "MAX_IDLE_TIME_BEFORE_CLOSE=1"]  # fmt: skip
    for name, value in RELAXED.items():
        command += ["-s", f"{name}={value}"]
    return command


def run(site: SyntheticSite, url: str, crawlers: int, work: Path) -> dict[str, object]:
    """N crawlers on a fresh Redis over every article of ``site``; their figures."""
    output = work / f"output-{crawlers}"
    output.mkdir(parents=True)
    redis = RedisServer(work / f"redis-{crawlers}").start()
    client = redis.client()
    logs = [work / f"crawler-{crawlers}-{n}.log" for n in range(crawlers)]
    processes = []
    try:
        for log in logs:
            with log.open("w", encoding="utf-8") as handle:
                processes.append(subprocess.Popen(crawler_command(url, output, redis.url), cwd=ROOT,
                                                  stdout=handle, stderr=subprocess.STDOUT))  # fmt: skip
        deadline = time.monotonic() + 120
        while client.zcard("qq:crawlers") < crawlers:
            if time.monotonic() > deadline or any(p.poll() is not None for p in processes):
                raise RuntimeError(f"crawlers did not start; see {work}")
            time.sleep(0.05)
        ids = site.ids()
        pushed = time.time()
        client.rpush("qq:start_urls", *ids)
        for process in processes:
            process.wait(timeout=3600)
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
        client.close()
        redis.kill()
    files = list(output.rglob("*.md"))
    seconds = max(p.stat().st_mtime for p in files) - pushed if files else float("nan")
    stats = [parse_stats(log.read_text(encoding="utf-8", errors="replace")) for log in logs]
    written = [int(s.get("write/written", 0)) for s in stats]
    return {
        "crawlers": crawlers,
        "articles": len(ids),
        "files": len(files),
        "written": written,
        "exit_codes": [p.returncode for p in processes],
        "seconds": round(seconds, 2),
        "articles_per_s": round(len(files) / seconds, 1) if files else 0.0,
        "returned_leases": sum(int(s.get("redis/returned", 0)) for s in stats),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--crawlers", default="1,2,4", help="comma-separated numbers of crawlers")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--keep", action="store_true", help="keep the output and logs (printed)")
    args = parser.parse_args()

    print(f"distributed: {machine()}")
    print(f"  {RELAXED_NOTE}")
    work = Path(tempfile.mkdtemp(prefix="qq-bench-distributed-"))
    site = SyntheticSite(args.articles)
    server, url = site.serve()
    results = []
    try:
        for crawlers in (int(n) for n in args.crawlers.split(",")):
            results.append(run(site, url, crawlers, work))
            print(f"  {crawlers} crawler(s): {results[-1]}", flush=True)
    finally:
        server.shutdown()
        server.server_close()
    base = results[0]["articles_per_s"] or 1.0
    print()
    print(table([
        ("crawlers", "articles", "files", "seconds", "articles/s", f"vs {results[0]['crawlers']}", "written by each"),
        *((str(r["crawlers"]), str(r["articles"]), str(r["files"]), f"{r['seconds']:.1f}", f"{r['articles_per_s']:.1f}",
           f"{r['articles_per_s'] / base:.2f}x", " / ".join(map(str, r["written"]))) for r in results),
    ]))  # fmt: skip
    ok = all(r["files"] == r["articles"] == sum(r["written"]) and not any(r["exit_codes"]) for r in results)  # type: ignore[arg-type]
    print(f"\n  every article written once by each set of crawlers: {'yes' if ok else 'NO'}")
    if args.keep:
        print(f"  output and logs kept in {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)
    if args.json:
        args.json.write_text(json.dumps({"machine": machine(), "results": results}, indent=2) + "\n", encoding="utf-8")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
