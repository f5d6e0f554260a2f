"""Memory probe: the Python objects still alive when a crawl of N synthetic articles closes.

    python -m bench.memprobe 3000 > docs/profiles/scale-tracemalloc-3k.txt

Runs the real crawl (``qq`` spider, feed-driven as in ``bench.scale``, thumbnails and the store on)
in-process under tracemalloc (slower than the real crawl) and prints the largest allocation sites
at spider_closed. Used to explain ``bench.scale`` figures (docs/BENCHMARKS.md).
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import tracemalloc
from pathlib import Path

from scrapy import signals
from scrapy.crawler import CrawlerProcess
from scrapy.utils.project import get_project_settings

from bench.common import RELAXED, feed_args
from bench.synthetic import SyntheticSite
from tests.mirror.handler import MIRROR_HANDLERS, MIRROR_RESOLVER


def main() -> None:
    tracemalloc.start(3)
    size = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
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
    crawler = process.create_crawler("qq")
    snapshot: list[tracemalloc.Snapshot] = []

    def closed() -> None:  # a named function: signal receivers are weakly referenced
        snapshot.append(tracemalloc.take_snapshot())

    crawler.signals.connect(closed, signals.spider_closed)
    try:
        process.crawl(crawler, **feed_args(size))
        process.start()
        for stat in snapshot[0].statistics("traceback")[:15]:
            print(f"{stat.size / 1e6:.1f} MB {stat.count}")
            for line in stat.traceback.format()[-6:]:
                print("   ", line)
    finally:
        server.shutdown()
        server.server_close()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
