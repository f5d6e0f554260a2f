"""Regenerate the screenshots of the example sites in docs/screenshots/ (README, docs/profiles.md).

    python -m tests.support.screenshots [builder ...]     # default: every builder installed
    python -m tests.support.screenshots --prefix /news/ --out /tmp/shots [builder ...]

For each builder: a crawl of the local mirror with local images (``tests/support/sites.py``),
built with the real builder, served on 127.0.0.1 and photographed in Debian's Chromium (every
request off the machine aborted): ``<builder>-home.png`` and ``<builder>-article.png`` (the seed
article) of a crawl of the saved qq.com pages (no bad-input article), 1000 px wide, PNG with a palette so each stays under ~200 KB.
With ``--prefix``, each site is built and served under that sub-path (docs/profiles.md's recipe)
and the files are named ``<builder>-subpath-home.png`` and ``-article.png``; ``--out`` writes them
elsewhere than docs/screenshots/.
"""

from __future__ import annotations

import argparse
import tempfile
from io import BytesIO
from pathlib import Path

from PIL import Image

from tests.support.browser import chromium, new_page, open_page, serve
from tests.support.crawl import ROOT
from tests.support.sites import (
    BUILDERS,
    REAL_URLS,
    build_site,
    reader_mirror,
    tool_path,
)

OUT = ROOT / "docs" / "screenshots"
SEED_TITLE = "DeepSeek点燃开源模型"
WIDTH, HEIGHT = 1000, 1100
LIMIT = 200_000


def save(png: bytes, path: Path) -> int:
    """The screenshot as a 256-colour PNG (flat pictures and text lose nothing visible); its size."""
    with Image.open(BytesIO(png)) as image:
        image.convert("RGB").quantize(256, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)
    return path.stat().st_size


def main(builders: list[str], prefix: str = "/", out: Path = OUT) -> None:
    out.mkdir(parents=True, exist_ok=True)
    suffix = "" if prefix == "/" else "-subpath"
    mirror = reader_mirror()
    server, url = mirror.serve()
    try:
        with tempfile.TemporaryDirectory(prefix="qq-shots-") as work, chromium() as browser:
            for builder in builders:
                if not tool_path(builder):
                    print(f"{builder}: not installed, skipped")
                    continue
                site = build_site(builder, url, Path(work) / builder, prefix, urls=REAL_URLS)
                with serve(site.public, site.prefix) as served:
                    visit = new_page(browser, WIDTH, HEIGHT)
                    open_page(visit, served.url)
                    home = visit.page.screenshot()
                    visit.page.click(f".story h2 a:has-text('{SEED_TITLE}')")
                    visit.page.wait_for_load_state("load")
                    visit.page.evaluate("window.scrollTo(0, 0)")
                    article = visit.page.screenshot()
                    assert not visit.blocked and not served.failed(), (visit.blocked, served.failed())
                    visit.page.context.close()
                for name, png in (("home", home), ("article", article)):
                    path = out / f"{builder}{suffix}-{name}.png"
                    size = save(png, path)
                    print(f"{path}: {size // 1000} KB")
                    assert size < LIMIT, f"{path} is {size} bytes"
    finally:
        server.shutdown()
        server.server_close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m tests.support.screenshots")
    parser.add_argument("builders", nargs="*", help=f"default: {' '.join(BUILDERS)}")
    parser.add_argument("--prefix", default="/", help="the site's path, e.g. /news/ (default /)")
    parser.add_argument("--out", type=Path, default=OUT, help="the folder for the PNGs (default docs/screenshots)")
    arguments = parser.parse_args()
    main(arguments.builders or list(BUILDERS), arguments.prefix, arguments.out.resolve())
