"""Output profiles as pure functions: choice and precedence, front matter per builder's rules.

Zola cannot be built here (a binary that no registry this machine reaches ships; see the README),
so its output is checked against Zola's documented front matter rules; Hexo's is checked against
its rules here and built by the real Hexo in ``tests/test_builders.py``.
"""

from __future__ import annotations

import tomllib
from datetime import datetime

import pytest
import yaml
from scrapy.settings import Settings

from crawler import settings as project_settings
from crawler.items import Block, Span
from crawler.paths import markdown_path
from crawler.render import RenderOptions, render_article
from crawler.render.markdown import inline, render_block
from crawler.render.profiles import PROFILES, profile_from_settings
from tests.conftest import EXPECTED
from tests.support.articles import article
from tests.support.builders import ZOLA_PAGE_KEYS
from tests.support.components import Writer
from tests.support.crawl import ROOT

HOSTILE_TITLES = [
    'He said "hi"',
    "key: value # not a comment",
    "line one\nline two",
    "{{< shortcode >}} {{% md %}} {% raw %} {# c #} {: .x}",
    "+++ toml fence +++",
    "--- yaml fence ---",
    "'single' [a, b] = c",
    "yes",
    "\\back\\slash\ttab",
    "\x7f control \u2028 separator",
]


def settings_for(profile: str | None = None, **overrides: object) -> Settings:
    result = Settings()
    result.setmodule(project_settings)
    if profile:
        result.set("OUTPUT_PROFILE", profile, priority="cmdline")
    for name, value in overrides.items():
        result.set(name, value, priority="cmdline")
    return result


def split(text: str) -> tuple[str, str, str]:
    """(fence, front matter, body) of a rendered file."""
    fence = text.split("\n", 1)[0]
    _, front, body = text.split(fence + "\n", 2)
    return fence, front, body


def front_matter(profile: str, title: str = "标题") -> dict:  # type: ignore[type-arg]
    text = render_article(article(title), RenderOptions.from_settings(settings_for(profile)))
    fence, front, body = split(text)
    assert body.startswith("\n") and body.endswith("[qq](https://new.qq.com/rain/a/20250207A090J800)\n")
    return tomllib.loads(front) if fence == "+++" else yaml.safe_load(front)


def test_default_profile_is_the_spec_byte_for_byte() -> None:
    seed = (EXPECTED / "seed-20250207A090J800.md").read_text(encoding="utf-8")
    assert profile_from_settings(settings_for()).name == "hugo"
    # settings.py's MARKDOWN_* / OUTPUT_PATH defaults are empty: the profile decides.
    assert not (project_settings.MARKDOWN_FRONT_MATTER or project_settings.MARKDOWN_DATE_FORMAT)
    assert not project_settings.OUTPUT_PATH
    front = yaml.safe_load(split(seed)[1])
    assert list(front) == list(PROFILES["hugo"].front_matter)


def test_unknown_profile_is_refused_with_the_known_ones() -> None:
    with pytest.raises(ValueError, match="'wordpress' is not one of hugo, hugo-bundle, jekyll"):
        profile_from_settings(settings_for("wordpress"))


def test_explicit_settings_beat_the_profile() -> None:
    profile = profile_from_settings(settings_for("jekyll", MARKDOWN_DATE_FORMAT="iso", OUTPUT_PATH="x/{slug}.md"))
    assert (profile.date_format, profile.path) == ("iso", "x/{slug}.md")
    assert profile.front_matter == PROFILES["jekyll"].front_matter  # not set: the profile's
    # A value set in settings.py (project priority) is the user's too.
    edited = settings_for("eleventy")
    edited.set("MARKDOWN_FRONT_MATTER", {"title": "{title}"}, priority="project")
    assert profile_from_settings(edited).front_matter == {"title": "{title}"}
    # Empty project defaults do not leak the hugo values into other profiles.
    assert profile_from_settings(settings_for("eleventy")).date_format == "iso"


def test_hugo_offset_setting() -> None:
    front = split(render_article(article(), RenderOptions.from_settings(settings_for(MARKDOWN_DATE_FORMAT="iso"))))[1]
    assert 'date: "2025-02-07T21:54:12+08:00"\n' in front


@pytest.mark.parametrize("profile", sorted(PROFILES))
@pytest.mark.parametrize("title", HOSTILE_TITLES)
def test_hostile_titles_round_trip_in_every_profile(profile: str, title: str) -> None:
    front = front_matter(profile, title)
    assert front["title"] == title


@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_body_is_the_same_safe_markdown_in_every_profile(profile: str) -> None:
    hostile = article(blocks=[Block("paragraph", [Span("{{< x >}} {{% y %}} {% if %} {# c #} {: .k} <b>")])])
    body = split(render_article(hostile, RenderOptions.from_settings(settings_for(profile))))[2]
    assert "{{" not in body and "{%" not in body and "{#" not in body and "{:" not in body and "<b>" not in body
    assert body.startswith("\n&#123;&#123;&lt; x \\>}} &#123;&#123;% y %}} &#123;% if %} &#123;# c #} &#123;: .k} &lt;b\\>\n")


def test_template_delimiters_in_code_spans_and_urls_are_neutralised() -> None:
    line = inline([Span("a{{ b }}", code=True), Span(" "), Span("`x`", code=True), Span(" {% l %}", href="https://e.com/{{x}}")])
    assert line == "a&#123;&#123; b }} `` `x` ``[&#123;% l %}](https://e.com/%7B%7Bx%7D%7D)"
    assert render_block(Block("image", src="https://e.com/{%p%}.jpg"), project_settings.MARKDOWN_IMAGE_ALT) == "![图片](https://e.com/%7B%p%%7D.jpg)"


def test_jekyll_front_matter_and_path() -> None:
    front = front_matter("jekyll")
    assert front["layout"] == "post"
    assert front["date"] == "2025-02-07 21:54:12 +0800"  # Jekyll's documented format, with offset
    assert markdown_path(article(), PROFILES["jekyll"].path, project_settings.OUTPUT_SLUG_MAX_LENGTH) == "_posts/2025-02-07-biao-ti.md"


def test_zola_front_matter_follows_zolas_rules() -> None:
    text = render_article(article("a\"b\n{{ c }}"), RenderOptions.from_settings(settings_for("zola")))
    assert text.startswith("+++\n") and "\n+++\n\n" in text
    front = tomllib.loads(split(text)[1])
    # Zola rejects unknown top-level keys; everything else lives under [extra].
    assert set(front) <= ZOLA_PAGE_KEYS
    assert front["date"] == datetime.fromisoformat("2025-02-07T21:54:12+08:00")  # native TOML offset datetime
    assert front["date"].utcoffset().total_seconds() == 8 * 3600
    assert front["taxonomies"] == {"categories": ["qq"], "tags": ["qq"]}
    assert front["extra"]["thumbnail"] == "https://inews.gtimg.com/x/0"
    assert front["title"] == "a\"b\n{{ c }}"
    assert markdown_path(article(), PROFILES["zola"].path, project_settings.OUTPUT_SLUG_MAX_LENGTH) == "content/posts/2025-02-07-biao-ti.md"
    # Zola refuses a page whose taxonomy the site does not declare.
    config = tomllib.loads((ROOT / "examples" / "zola" / "config.toml").read_text(encoding="utf-8"))
    assert set(front["taxonomies"]) <= {t["name"] for t in config["taxonomies"]}
    assert (ROOT / "examples" / "zola" / "content" / "posts" / "_index.md").is_file()  # posts/ is a section


def test_hexo_front_matter_follows_hexos_rules() -> None:
    front = front_matter("hexo")
    assert isinstance(front["lang"], str) and front["lang"] == "zh-CN"  # Hexo: one string
    assert front["categories"] == ["qq"] and front["tags"] == ["qq"]
    assert datetime.strptime(front["date"], "%Y-%m-%d %H:%M:%S")  # Hexo's default date_format
    assert front["disableNunjucks"] is True
    assert markdown_path(article(), PROFILES["hexo"].path, project_settings.OUTPUT_SLUG_MAX_LENGTH) == "source/_posts/biao-ti.md"


def test_eleventy_date_is_iso_with_offset() -> None:
    front = front_matter("eleventy")
    assert front["date"] == "2025-02-07T21:54:12+08:00"
    assert datetime.fromisoformat(front["date"]).utcoffset().total_seconds() == 8 * 3600


def test_hugo_bundle_is_an_index_in_its_own_folder() -> None:
    profile = PROFILES["hugo-bundle"]
    assert markdown_path(article(), profile.path, project_settings.OUTPUT_SLUG_MAX_LENGTH) == "content/posts/2025-02-07-biao-ti/index.md"
    assert profile.image_dir == "." and profile.front_matter == PROFILES["hugo"].front_matter
    assert markdown_path(article(), profile.path, project_settings.OUTPUT_SLUG_MAX_LENGTH, suffix="-x") == "content/posts/2025-02-07-biao-ti-x/index.md"


def test_bundle_collision_renames_the_folder(tmp_path) -> None:  # type: ignore[no-untyped-def]
    writer = Writer(tmp_path, OUTPUT_PROFILE="hugo-bundle")
    first = writer.process_item(article("同一个标题"))
    other = article("同一个标题")
    other.id, other.url = "20250207A0OTHE00", "https://new.qq.com/rain/a/20250207A0OTHE00"
    other.blocks = [Block("paragraph", [Span("另一篇文章，同一个标题。")])]  # same body would be a duplicate
    second = writer.process_item(other)
    assert first.paths.markdown == "content/posts/2025-02-07-tong-yi-ge-biao-ti/index.md"
    assert second.paths.markdown == "content/posts/2025-02-07-tong-yi-ge-biao-ti-20250207a0othe00/index.md"
    assert "20250207A090J800" in (tmp_path / first.paths.markdown).read_text(encoding="utf-8")
    assert writer.stat("plan/renamed") == 1
    # Each article's images are planned in its own folder, linked relatively.
    assert second.paths.thumbnail.file == "content/posts/2025-02-07-tong-yi-ge-biao-ti-20250207a0othe00/20250207A0OTHE00"
    assert second.paths.thumbnail.link == "20250207A0OTHE00"
    assert first.paths.thumbnail.file == "content/posts/2025-02-07-tong-yi-ge-biao-ti/20250207A090J800"


def test_a_zola_article_goes_through_the_writer(tmp_path) -> None:  # type: ignore[no-untyped-def]
    writer = Writer(tmp_path, OUTPUT_PROFILE="zola")
    item = writer.process_item(article("标题"))
    text = (tmp_path / item.paths.markdown).read_text(encoding="utf-8")
    assert text.startswith("+++\n") and tomllib.loads(split(text)[1])["title"] == "标题"
    assert writer.stat("write/written") == 1
    assert writer.store.get(item.id).path == item.paths.markdown


@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_summary_never_lands_where_themes_print_html(profile: str) -> None:
    # Jekyll and Hexo themes print a front matter `excerpt` as HTML, unescaped.
    assert "excerpt" not in front_matter(profile)


@pytest.mark.parametrize("profile", ["jekyll", "zola", "hexo", "eleventy"])
def test_description_is_plain_text_where_themes_print_it_as_text(profile: str) -> None:
    text = "AI*粗*_下划线_ [链接](x) <b> {{ x }} 1. 2--3...end"
    blocks = [Block("paragraph", [Span(text)])]
    rendered = render_article(article("标题", blocks), RenderOptions.from_settings(settings_for(profile)))
    front = split(rendered)[1]
    values = tomllib.loads(front) if profile == "zola" else yaml.safe_load(front)
    assert values["description"] == text[:50]  # as written on the page: no backslash, no entity
    hugo = yaml.safe_load(split(render_article(article("标题", blocks), RenderOptions.from_settings(settings_for("hugo"))))[1])
    assert hugo["summary"] != text and "\\*" in hugo["summary"]  # Hugo renders its summary: escaped Markdown


def test_a_long_description_is_cut_with_the_ellipsis() -> None:
    blocks = [Block("paragraph", [Span("字" * 60)])]
    values = yaml.safe_load(split(render_article(article("标题", blocks), RenderOptions.from_settings(settings_for("jekyll"))))[1])
    assert values["description"] == "字" * 50 + "..."


@pytest.mark.parametrize(
    ("profile", "store"), [("hugo", "static"), ("zola", "static"), ("eleventy", "static"), ("jekyll", "."), ("hexo", "source")]
)
def test_images_are_stored_where_each_builder_publishes_them(profile: str, store: str) -> None:
    from crawler.paths import Layout, plan_paths

    settings = settings_for(profile)
    paths = plan_paths(article(), Layout.from_settings(settings, profile_from_settings(settings)))
    assert paths.thumbnail.file == (f"{store}/" if store != "." else "") + "images/qq/20250207A090J800"
    assert paths.thumbnail.link == "/images/qq/20250207A090J800"
    # THUMBNAILS_STORE, when set, beats the profile's
    settings = settings_for(profile, THUMBNAILS_STORE="assets")
    paths = plan_paths(article(), Layout.from_settings(settings, profile_from_settings(settings)))
    assert paths.thumbnail.file == "assets/images/qq/20250207A090J800"


@pytest.mark.parametrize("profile", ["hugo", "hugo-bundle", "jekyll", "hexo", "eleventy"])
def test_a_thumbnail_that_is_a_body_image_is_linked_as_the_body_links_it(profile: str) -> None:
    """A template that hides a thumbnail the body already shows must be able to see it is the same."""
    first = "https://inews.gtimg.com/om_bt/first/641"
    blocks = [Block("image", src=first), Block("paragraph", [Span("正文。")])]
    item = article("标题", blocks)
    item.share_image = ""  # the thumbnail falls back to the first body image
    item.thumbnail_path, item.image_paths = "/images/qq/20250207A090J800.jpg", {first: "/images/qq/20250207A090J800-1.jpg"}
    key = {"jekyll": "image"}.get(profile, "thumbnail")
    for local, body in ((False, first), (True, "/images/qq/20250207A090J800-1.jpg")):
        options = RenderOptions.from_settings(
            settings_for(profile, THUMBNAILS_FRONT_MATTER="local" if local else "remote", THUMBNAILS_BODY_IMAGES=local)
        )
        _, front, text = split(render_article(item, options))
        assert yaml.safe_load(front)[key] == body and f"]({body})" in text
    # A share image of its own keeps its own copy.
    item.share_image = "https://inews.gtimg.com/om_ls/share/0"
    options = RenderOptions.from_settings(settings_for(profile, THUMBNAILS_FRONT_MATTER="local", THUMBNAILS_BODY_IMAGES=True))
    assert yaml.safe_load(split(render_article(item, options))[1])[key] == "/images/qq/20250207A090J800.jpg"
