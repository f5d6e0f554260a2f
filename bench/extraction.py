"""Extraction cost, cold: ms per page for extraction + cleaning + rendering, next to trafilatura.

    pip install -r bench/requirements.txt    # trafilatura: a benchmark dependency only
    python -m bench.extraction [--seconds 1.5] [--synthetic 280] [--json result.json]
    valgrind --tool=callgrind --callgrind-out-file=/dev/null python -m bench.extraction --synthetic 60 \
        --only ours|trafilatura|fast|floor|none   # instructions of one tool over the synthetic pages,
                                                  # minus those of "none" (start-up and page generation)

Four tools, in the same process and run, alternating call by call so that all see the same load:

* ours: the page's bytes -> ``HtmlResponse`` -> ``parse_article`` -> ``clean_article`` ->
  ``render_article`` (the project's settings), i.e. everything between the download and the write;
* trafilatura: the page's bytes -> ``HtmlResponse.text`` (decoded by the HTTP charset, as a Scrapy
  user would hand it over) -> ``trafilatura.extract(..., output_format="markdown",
  with_metadata=True, include_images=True)``; and the same with ``fast=True``;
* the floor: decode the bytes, ``lxml.html.fromstring``, ``json.loads`` of ``window.DATA`` (when
  the page has it): what any extractor of these pages must at least do.

Cold, as in a real crawl: before every call of ours, every cache of the crawler's own that holds
page-derived values is cleared (``crawler.render.frontmatter``'s entry cache, where it exists), so
no page profits from an earlier one. (trafilatura's own caches are left warm: that only favours it.)

On every real fixture page with a golden file (``tests/fixtures/pages/<case>.html``: the 2026,
2021 and 2016 pages and the spec's seed page), each tool runs for ``--seconds`` and the medians are
reported, with what each found checked against the golden file (title, date and time, body images).
Then on ``--synthetic`` distinct synthetic pages (``tests/mirror/synthetic.py``, >= 200), each page once
per tool: the totals.

Targets: ours >= 5x faster than trafilatura and >= 3x faster than ``fast=True`` on every real page
and over the synthetic pages, and within 2x of the floor; and correct. Exit status 1 when missed.
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

import lxml.html
import yaml
from scrapy.http import HtmlResponse
from scrapy.settings import Settings

from bench.common import machine, table, verdict
from crawler import settings as project_settings
from crawler.pipelines.clean import clean_article
from crawler.qq.pages import parse_article
from crawler.render import RenderOptions, frontmatter, render_article
from tests.mirror.synthetic import SyntheticSite

ROOT = Path(__file__).resolve().parents[1]
PAGES = ROOT / "tests" / "fixtures" / "pages"
EXPECTED = ROOT / "tests" / "fixtures" / "expected"
SITE = json.loads((ROOT / "tests" / "mirror" / "site.json").read_text(encoding="utf-8"))
CASES = ["current-rich-20260810A0BO7100", "omn-video-20210426003469", "old-gbk-20161014006270", "seed-20250207A090J800"]
TARGET_TRAFILATURA = 5.0
TARGET_FAST = 3.0
TARGET_FLOOR = 2.0
TOOLS = ("ours", "trafilatura", "fast", "floor")
_DATA_RE = re.compile(r"window\.DATA\s*=\s*")


def page_url(ident: str) -> str:
    if len(ident) == 14 and ident < "20190101":
        return f"https://tech.qq.com/a/{ident[:8]}/{ident[8:]}.htm"
    return f"https://news.qq.com/rain/a/{ident}"


def response(ident: str, body: bytes, charset: str = "utf-8") -> HtmlResponse:
    return HtmlResponse(url=page_url(ident), body=body, headers={"Content-Type": f"text/html; charset={charset}"})


def fixture(case: str) -> tuple[str, bytes, str]:
    ident = case.rsplit("-", 1)[1]
    return ident, (PAGES / f"{case}.html").read_bytes(), SITE["articles"].get(ident, {}).get("charset", "utf-8")


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


def cold() -> None:
    """Forget every page-derived value the crawler's own code keeps between pages."""
    entries = getattr(frontmatter, "_ENTRIES", None)
    if entries is not None:
        entries.clear()


def tools(trafilatura: Any) -> dict[str, Callable[[str, bytes, str], object]]:
    settings = Settings()
    settings.setmodule(project_settings)
    options = RenderOptions.from_settings(settings)
    link = settings.get("QQ_ARTICLE_URL")

    def ours(ident: str, body: bytes, charset: str) -> str:
        cold()
        return render_article(clean_article(parse_article(response(ident, body, charset), link)), options)

    def theirs(ident: str, body: bytes, charset: str, fast: bool = False) -> str:
        page = response(ident, body, charset)
        return trafilatura.extract(page.text, url=page.url, output_format="markdown", with_metadata=True,
                                   include_images=True, fast=fast) or ""  # fmt: skip

    def floor(ident: str, body: bytes, charset: str) -> object:
        text = body.decode("gb18030" if charset.lower().startswith("gb") else charset)  # GBK pages: the superset
        tree = lxml.html.fromstring(text)
        match = _DATA_RE.search(text)
        if match:
            json.JSONDecoder().raw_decode(text, match.end())
        return tree

    return {"ours": ours, "trafilatura": theirs, "fast": lambda *a: theirs(*a, fast=True), "floor": floor}


def medians_ms(work: dict[str, Callable[[], object]], seconds: float) -> tuple[dict[str, float], int]:
    """Median ms of each, run alternately (rotating the order) so that all see the same load."""
    times: dict[str, list[float]] = {name: [] for name in work}
    names = list(work)
    deadline = time.perf_counter() + len(work) * seconds
    rounds = 0
    while rounds < 5 or (time.perf_counter() < deadline and rounds < 2000):
        for name in names[rounds % len(names) :] + names[: rounds % len(names)]:
            start = time.perf_counter()
            work[name]()
            times[name].append(time.perf_counter() - start)
        rounds += 1
    return {name: statistics.median(values) * 1000 for name, values in times.items()}, rounds


def synthetic_pages(count: int) -> list[tuple[str, bytes, str]]:
    site = SyntheticSite(count)
    return [(ident, site.article_page(ident), "utf-8") for ident in site.ids()]


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
    parser.add_argument("--seconds", type=float, default=1.5, help="time spent per real page and tool")
    parser.add_argument("--synthetic", type=int, default=280, help="distinct synthetic pages (>= 200)")
    parser.add_argument("--only", choices=(*TOOLS, "none"),
                        help="run one tool over the synthetic pages once, print nothing else ('none': the fixed cost)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--profile", type=Path, help="write a pyinstrument profile of ours (synthetic pages) here")
    args = parser.parse_args()
    try:
        import trafilatura
    except ImportError as exc:
        print(f"trafilatura is a benchmark dependency: pip install -r bench/requirements.txt ({exc})")
        return 1
    run = tools(trafilatura)
    pages = synthetic_pages(args.synthetic)
    if args.only:
        for page in pages:
            if args.only != "none":
                run[args.only](*page)
        return 0

    print(f"extraction (cold): {machine()}; trafilatura {trafilatura.__version__}")
    rows = [("page", "KB", "ours ms", "floor ms", "traf. ms", "fast ms", "x traf.", "x fast", "ours/floor",
             "title ok (ours/traf.)", "date+time ok", "images (golden/ours/traf.)")]  # fmt: skip
    results = []
    for case in CASES:
        page = fixture(case)
        golden = found((EXPECTED / f"{case}.md").read_text(encoding="utf-8"))
        ms, rounds = medians_ms({name: (lambda f=f: f(*page)) for name, f in run.items()}, args.seconds)
        mine, other = found(str(run["ours"](*page))), found(str(run["trafilatura"](*page)))
        result = {"page": case, "bytes": len(page[1]), "runs": rounds, **{f"{k}_ms": round(v, 3) for k, v in ms.items()},
                  "x_trafilatura": round(ms["trafilatura"] / ms["ours"], 2), "x_fast": round(ms["fast"] / ms["ours"], 2),
                  "ours_over_floor": round(ms["ours"] / ms["floor"], 2), "golden": golden, "ours": mine, "trafilatura": other}  # fmt: skip
        results.append(result)
        rows.append((
            case, f"{len(page[1]) / 1024:.0f}", f"{ms['ours']:.2f}", f"{ms['floor']:.2f}", f"{ms['trafilatura']:.2f}",
            f"{ms['fast']:.2f}", f"{result['x_trafilatura']:.1f}x", f"{result['x_fast']:.1f}x", f"{result['ours_over_floor']:.2f}",
            f"{'yes' if mine[0] == golden[0] else 'NO'} / {'yes' if other[0] == golden[0] else 'no'}",
            f"{'yes' if mine[1] == golden[1] else 'NO'} / {'yes' if other[1] == golden[1] else 'no (' + other[1] + ')'}",
            f"{golden[2]} / {mine[2]} / {other[2]}",
        ))  # fmt: skip
    print(table(rows))
    print()
    totals = {name: 0.0 for name in TOOLS}
    for number, page in enumerate(pages):
        for name in TOOLS[number % 4 :] + TOOLS[: number % 4]:
            start = time.perf_counter()
            run[name](*page)
            totals[name] += time.perf_counter() - start
    synthetic = {f"{k}_ms_per_page": round(v * 1000 / len(pages), 3) for k, v in totals.items()}
    synthetic.update(pages=len(pages), KB_mean=round(sum(len(p[1]) for p in pages) / len(pages) / 1024, 1),
                     x_trafilatura=round(totals["trafilatura"] / totals["ours"], 2), x_fast=round(totals["fast"] / totals["ours"], 2),
                     ours_over_floor=round(totals["ours"] / totals["floor"], 2))  # fmt: skip
    print(f"  {len(pages)} distinct synthetic pages ({synthetic['KB_mean']} KB mean), each once per tool, ms per page: "
          f"ours {synthetic['ours_ms_per_page']}, floor {synthetic['floor_ms_per_page']}, trafilatura "
          f"{synthetic['trafilatura_ms_per_page']}, fast=True {synthetic['fast_ms_per_page']}: "
          f"{synthetic['x_trafilatura']}x trafilatura, {synthetic['x_fast']}x fast=True, {synthetic['ours_over_floor']}x the floor")  # fmt: skip
    for r in results:
        if r["trafilatura"][0] != r["golden"][0]:
            print(f"  {r['page']}: trafilatura's title {r['trafilatura'][0]!r}, the page's {r['golden'][0]!r}")
    correct = all(r["ours"] == r["golden"] for r in results)
    every = [*results, synthetic]
    met = {
        "trafilatura": all(r["x_trafilatura"] >= TARGET_TRAFILATURA for r in every),
        "fast": all(r["x_fast"] >= TARGET_FAST for r in every),
        "floor": all(r["ours_over_floor"] <= TARGET_FLOOR for r in every),
        "correct": correct,
    }
    print(f"  >= {TARGET_TRAFILATURA:.0f}x trafilatura on every real page and the synthetic set: {verdict(met['trafilatura'])} "
          f"(slowest {min(r['x_trafilatura'] for r in every):.1f}x)")  # fmt: skip
    print(f"  >= {TARGET_FAST:.0f}x trafilatura fast=True: {verdict(met['fast'])} (slowest {min(r['x_fast'] for r in every):.1f}x)")
    print(f"  within {TARGET_FLOOR:.0f}x of the decode+parse floor: {verdict(met['floor'])} "
          f"(worst {max(r['ours_over_floor'] for r in every):.2f}x)")  # fmt: skip
    print(f"  ours matches the golden title, date and images on every real page: {verdict(correct)}")
    if args.profile:
        profile(lambda: [run["ours"](*page) for page in pages[:50]], args.profile)
    if args.json:
        payload = {"machine": machine(), "trafilatura": trafilatura.__version__, "pages": results,
                   "synthetic": synthetic, "targets_met": met}  # fmt: skip
        args.json.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0 if all(met.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
