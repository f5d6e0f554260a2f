"""What the benchmark scripts share: running the real crawl as a subprocess and measuring it.

``run_crawl`` runs ``scrapy crawl qq`` (the project's settings and every default pipeline and
middleware) in a child process against a mirror, and returns its wall time, CPU time and peak RSS (from
``os.wait4``, so the figures are the crawl process's own) and the stats Scrapy printed at the end.

Politeness is relaxed for benchmarks only (``RELAXED``), and every script says so when it runs:
qq.com itself is always crawled with the project's polite defaults.
"""

from __future__ import annotations

import os
import platform
import re
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from tests.mirror.handler import mirror_settings
from tests.mirror.synthetic import feed_args  # noqa: F401 (the scripts' one import of it)

ROOT = Path(__file__).resolve().parents[1]

# Benchmark only: no AutoThrottle, no delay (DOWNLOAD_SLOTS' per-host delays included), Scrapy's default concurrency (16) all on one host,
# as `scrapy bench` runs. The project's defaults (4 per host, 0.25 s delay, AutoThrottle) stay.
RELAXED = {
    "AUTOTHROTTLE_ENABLED": "False",
    "DOWNLOAD_DELAY": "0",
    "CONCURRENT_REQUESTS": "16",
    "CONCURRENT_REQUESTS_PER_DOMAIN": "16",
    "DOWNLOAD_SLOTS": "{}",  # no per-host delays either (e.g. for the image CDN)
    "LOG_LEVEL": "INFO",
    "LOGSTATS_INTERVAL": "600",
}
RELAXED_NOTE = (
    "politeness relaxed for this benchmark only: "
    + ", ".join(f"{k}={v}" for k, v in RELAXED.items() if k not in ("LOGSTATS_INTERVAL", "DOWNLOAD_SLOTS"))
    + ", no per-host DOWNLOAD_SLOTS"
)


@dataclass
class CrawlRun:
    """One crawl process, measured."""

    returncode: int
    wall: float  # seconds, process start to exit (includes Python and Scrapy start-up)
    cpu: float  # user + system seconds of the crawl process
    peak_rss_mb: float
    log: str
    stats: dict[str, float] = field(default_factory=dict)
    # (seconds since start, RSS MB) read from /proc every RSS_EVERY seconds while the process ran
    rss: list[tuple[float, float]] = field(default_factory=list)

    @property
    def peak_rss_sampled_mb(self) -> float:
        """The largest RSS sampled while the crawl ran (ru_maxrss, ``peak_rss_mb``, is the process's
        high-water mark, the close included)."""
        return max((mb for _, mb in self.rss), default=0.0)

    def stat(self, key: str) -> float:
        return self.stats.get(key, 0)

    @property
    def elapsed(self) -> float:
        """Scrapy's own ``elapsed_time_seconds`` (engine open to close), or the wall time."""
        return self.stats.get("elapsed_time_seconds") or self.wall


_STAT_RE = re.compile(r"'([^']+)': (\d+(?:\.\d+)?)[,}]")


def parse_stats(log: str) -> dict[str, float]:
    """The numeric stats of the last ``Dumping Scrapy stats`` block of a crawl log."""
    start = log.rfind("Dumping Scrapy stats")
    if start < 0:
        return {}
    block = log[start : log.find("}", start) + 1]
    return {key: float(value) for key, value in _STAT_RE.findall(block)}


RSS_EVERY = 0.5


def _sample_rss(pid: int, start: float, samples: list[tuple[float, float]], done: threading.Event) -> None:
    status = Path(f"/proc/{pid}/status")
    while not done.wait(RSS_EVERY):
        try:
            for line in status.read_text().splitlines():
                if line.startswith("VmRSS:"):
                    samples.append((time.perf_counter() - start, int(line.split()[1]) / 1024))
        except (OSError, ValueError, IndexError):  # the process is gone or going
            return


def run_command(command: list[str], log_path: Path, cwd: Path = ROOT) -> CrawlRun:
    """Run ``command`` with stdout+stderr to ``log_path``; measure it with ``os.wait4``, and sample
    its RSS from /proc while it runs."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    samples: list[tuple[float, float]] = []
    done = threading.Event()
    with log_path.open("w", encoding="utf-8") as log:
        start = time.perf_counter()
        process = subprocess.Popen(command, cwd=cwd, stdout=log, stderr=subprocess.STDOUT, env=env)
        sampler = threading.Thread(target=_sample_rss, args=(process.pid, start, samples, done), daemon=True)
        sampler.start()
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
        done.set()
        sampler.join()
    process.returncode = os.waitstatus_to_exitcode(status)
    text = log_path.read_text(encoding="utf-8", errors="replace")
    return CrawlRun(
        returncode=process.returncode,
        wall=wall,
        cpu=usage.ru_utime + usage.ru_stime,
        peak_rss_mb=usage.ru_maxrss / 1024,  # Linux reports KiB
        log=text,
        stats=parse_stats(text),
        rss=samples,
    )


def run_crawl(
    mirror_url: str, output: Path, log_path: Path, arguments: dict[str, str], settings: dict[str, str] | None = None
) -> CrawlRun:
    """The real ``scrapy crawl qq -a NAME=VALUE ...`` from the mirror into ``output``.

    ``arguments`` are the spider's (``feed_args()``, or ``{"url_file": PATH}``); every project
    default (pipelines, thumbnails, the article store and its dedup middleware) stays on.
    """
    output.mkdir(parents=True, exist_ok=True)  # the writer refuses a missing OUTPUT_ROOT
    command = [sys.executable, "-m", "scrapy", "crawl", "qq",
               *mirror_settings(mirror_url), "-s", f"OUTPUT_ROOT={output}"]  # fmt: skip
    for name, value in arguments.items():
        command += ["-a", f"{name}={value}"]
    for name, value in {**RELAXED, **(settings or {})}.items():
        command += ["-s", f"{name}={value}"]
    return run_command(command, log_path)


def problems(run: CrawlRun, articles: int) -> list[str]:
    """Why a crawl of ``articles`` synthetic articles may not be reported (empty: it may).

    A figure only counts from a crawl that exited 0, wrote every article, accounted for every
    thumbnail (downloaded, up to date, or none on the page) and logged no ERROR.
    """
    found = []
    if run.returncode != 0:
        found.append(f"exit status {run.returncode}")
    written = run.stat("write/written") + run.stat("write/unchanged")
    if written != articles:
        found.append(f"{written:.0f} of {articles} articles written")
    thumbnails = run.stat("thumbnails/downloaded") + run.stat("thumbnails/uptodate") + run.stat("thumbnails/none")
    if thumbnails != articles:
        failed = {k: v for k, v in run.stats.items() if k.startswith("thumbnails/failed/")}
        found.append(f"{thumbnails:.0f} of {articles} thumbnails accounted for (failed: {failed})")
    errors = run.stat("log_count/ERROR") + run.log.count("] ERROR: ") * (not run.stats)
    if errors:
        found.append(f"{errors:.0f} ERROR lines in the log")
    if not run.stats:
        found.append("no final stats in the log")
    return found


def refuse(run: CrawlRun, articles: int, what: str) -> bool:
    """Print why a crawl's figures are refused (and the log's tail); True if they are."""
    found = problems(run, articles)
    if found:
        print(run.log[-3000:], file=sys.stderr)
        print(f"REFUSED: {what}: {'; '.join(found)}: no figure reported from it", file=sys.stderr)
    return bool(found)


def verdict(met: bool) -> str:
    return "met" if met else "MISSED"


def write_ids(path: Path, ids: list[str]) -> Path:
    path.write_text("\n".join(ids) + "\n", encoding="utf-8")
    return path


def machine() -> str:
    """One line naming the machine and the moment, printed with every set of figures."""
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, {platform.node()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, load average {load}"
    )


def enabled_pipelines(log: str) -> str:
    match = re.search(r"Enabled item pipelines:\n(\[.*?\])", log, flags=re.S)
    return re.sub(r"\s+", " ", match.group(1)) if match else "?"


def dedup_enabled(log: str) -> bool:
    """Whether the crawl ran with the article store's dedup middleware (a project default)."""
    return "crawler.middlewares.dedup.DedupMiddleware" in log


def table(rows: list[tuple[str, ...]]) -> str:
    """A plain aligned table; the first row is the header."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)
