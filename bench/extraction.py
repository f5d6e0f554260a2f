"""Extraction cost: ms per page for extraction + cleaning + rendering, next to trafilatura.

    pip install -r bench/requirements.txt    # trafilatura: a benchmark dependency only
    python -m bench.extraction [--seconds 1.5] [--json result.json]

For every fixture page with a golden file (``tests/fixtures/pages/<case>.html`` and
``tests/fixtures/expected/<case>.md``: the real 2026, 2021 and 2016 pages and the spec's seed page),
in the same process and run:

* ours: the page's bytes -> ``HtmlResponse`` -> ``parse_article`` -> ``clean_article`` ->
  ``render_article`` (the project's settings), i.e. everything between the download and the write;
* trafilatura: the page's bytes -> ``HtmlResponse.text`` (decoded by the HTTP charset, as a Scrapy
  user would hand it over; given raw bytes trafilatura guesses the 2016 GBK page wrong) ->
  ``trafilatura.extract(..., output_format="markdown", with_metadata=True, include_images=True)``.

Both run alternately for ``2 x --seconds`` per page (so both see the same load on a shared
machine) and the medians are reported. Then what each found is
checked against the golden file (read by hand against its page): the title, the publication date
and time, and the number of body images. Target: ours >= 3x faster per page, and correct.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from scrapy.http import HtmlResponse
from scrapy.settings import Settings

from bench.common import machine, table
from crawler import settings as project_settings
from crawler.pipelines.clean import clean_article
from crawler.qq.pages import parse_article
from crawler.render import RenderOptions, render_article

ROOT = Path(__file__).resolve().parents[1]
PAGES = ROOT / "tests" / "fixtures" / "pages"
EXPECTED = ROOT / "tests" / "fixtures" / "expected"
SITE = json.loads((ROOT / "tests" / "mirror" / "site.json").read_text(encoding="utf-8"))
CASES = ["current-rich-20260810A0BO7100", "omn-video-20210426003469", "old-gbk-20161014006270", "seed-20250207A090J800"]
TARGET_SPEEDUP = 3.0


def page_url(ident: str) -> str:
    if len(ident) == 14 and ident < "20190101":
        return f"https://tech.qq.com/a/{ident[:8]}/{ident[8:]}.htm"
    return f"https://news.qq.com/rain/a/{ident}"


def response(case: str, body: bytes) -> HtmlResponse:
    ident = case.rsplit("-", 1)[1]
    charset = SITE["articles"].get(ident, {}).get("charset", "utf-8")
    return HtmlResponse(url=page_url(ident), body=body, headers={"Content-Type": f"text/html; charset={charset}"})


def front_matter(markdown: str) -> dict[str, Any]:
    if not markdown.startswith("---\n"):
        return {}
    loaded = yaml.safe_load(markdown.split("---\n", 2)[1])
    return loaded if isinstance(loaded, dict) else {}


def found(markdown: str) -> tuple[str, str, int]:
    """Title, date and body image count of a Markdown file with front matter."""
    meta = front_matter(markdown)
    body = markdown.split("---\n", 2)[2] if meta else markdown
    return str(meta.get("title", "")), str(meta.get("date", "")), len(re.findall(r"!\[[^\]]*\]\(", body))


def paired_median_ms(first: Callable[[], object], second: Callable[[], object], seconds: float) -> tuple[float, float, int]:
    """Median ms of each, run alternately so that both see the same load on a shared machine."""
    times: tuple[list[float], list[float]] = ([], [])
    deadline = time.perf_counter() + 2 * seconds
    while len(times[0]) < 5 or (time.perf_counter() < deadline and len(times[0]) < 2000):
        for work, bucket in ((first, times[0]), (second, times[1])):
            start = time.perf_counter()
            work()
            bucket.append(time.perf_counter() - start)
    return statistics.median(times[0]) * 1000, statistics.median(times[1]) * 1000, len(times[0])


def profile(work: Callable[[], object], path: Path, seconds: float = 5.0) -> None:
    """A pyinstrument profile (text) of ``work`` repeated for ``seconds``."""
    from pyinstrument import Profiler

    profiler = Profiler(interval=0.0005)
    deadline = time.perf_counter() + seconds
    with profiler:
        while time.perf_counter() < deadline:
            work()
    path.write_text(profiler.output_text(unicode=True, show_all=False), encoding="utf-8")
    print(f"  profile of ours written to {path}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=1.5, help="time spent per page and tool")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--profile", type=Path, help="write a pyinstrument profile of ours (all pages) here")
    args = parser.parse_args()
    try:
        import trafilatura
    except ImportError as exc:
        print(f"trafilatura is a benchmark dependency: pip install -r bench/requirements.txt ({exc})")
        return 1

    settings = Settings()
    settings.setmodule(project_settings)
    options = RenderOptions.from_settings(settings)
    link = settings.get("QQ_ARTICLE_URL")

    def ours(case: str, body: bytes) -> str:
        return render_article(clean_article(parse_article(response(case, body), link)), options)

    def theirs(case: str, body: bytes) -> str:
        page = response(case, body)
        return trafilatura.extract(page.text, url=page.url, output_format="markdown", with_metadata=True,
                                   include_images=True) or ""  # fmt: skip

    print(f"extraction: {machine()}; trafilatura {trafilatura.__version__}")
    rows = [("page", "KB", "ours ms", "trafilatura ms", "speed-up", "title ok (ours/traf.)",
             "date+time ok", "images found (golden/ours/traf.)")]  # fmt: skip
    results = []
    for case in CASES:
        body = (PAGES / f"{case}.html").read_bytes()
        golden = found((EXPECTED / f"{case}.md").read_text(encoding="utf-8"))
        our_ms, their_ms, runs = paired_median_ms(lambda: ours(case, body), lambda: theirs(case, body), args.seconds)
        mine, other = found(ours(case, body)), found(theirs(case, body))
        result = {
            "page": case, "bytes": len(body), "ours_ms": round(our_ms, 3), "trafilatura_ms": round(their_ms, 3),
            "runs": runs, "speedup": round(their_ms / our_ms, 2),
            "golden": golden, "ours": mine, "trafilatura": other,
        }  # fmt: skip
        results.append(result)
        rows.append((
            case, f"{len(body) / 1024:.0f}", f"{our_ms:.2f}", f"{their_ms:.2f}", f"{their_ms / our_ms:.1f}x",
            f"{'yes' if mine[0] == golden[0] else 'NO'} / {'yes' if other[0] == golden[0] else 'no'}",
            f"{'yes' if mine[1] == golden[1] else 'NO'} / {'yes' if other[1] == golden[1] else 'no (' + other[1] + ')'}",
            f"{golden[2]} / {mine[2]} / {other[2]}",
        ))  # fmt: skip
    total_ours = sum(r["ours_ms"] for r in results)
    total_theirs = sum(r["trafilatura_ms"] for r in results)
    speedup = total_theirs / total_ours
    slowest = min(r["speedup"] for r in results)
    print(table(rows))
    print()
    for r in results:
        if r["trafilatura"][0] != r["golden"][0]:
            print(f"  {r['page']}: trafilatura's title {r['trafilatura'][0]!r}, the page's {r['golden'][0]!r}")
    correct = all(r["ours"] == r["golden"] for r in results)
    met = slowest >= TARGET_SPEEDUP and correct
    print(f"  all pages: ours {total_ours:.2f} ms, trafilatura {total_theirs:.2f} ms: {speedup:.1f}x "
          f"(slowest page {slowest:.1f}x; target >= {TARGET_SPEEDUP:.0f}x on every page and correct: "
          f"{'met' if met else 'MISSED'})")  # fmt: skip
    if args.profile:
        profile(lambda: [ours(case, (PAGES / f"{case}.html").read_bytes()) for case in CASES], args.profile)
    if args.json:
        payload = {"machine": machine(), "trafilatura": trafilatura.__version__, "pages": results,
                   "speedup_all": round(speedup, 2), "speedup_slowest_page": slowest, "target_met": met}  # fmt: skip
        args.json.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
