"""The front matter's direct YAML writer writes exactly what PyYAML writes, entry by entry."""

from __future__ import annotations

import random

import pytest

from crawler.render.frontmatter import _dump, _entry, to_yaml

# Characters around every boundary of what PyYAML writes verbatim in a double-quoted scalar.
_TRICKY = "\t\n\r\x00\x1f \"#'\\:-[]{}\x7f\x80\x85\x9f\xa0\u00e9\u4e2d\u2027\u2028\u2029\u202a\ud7ff\ue000\ufefe\ufeff\uff00\ufffd\U0001f600"


@pytest.mark.parametrize("key", ["title", "draft", "on", "yes", "null", "No", "1x", "a-b", "x y", "_k", "tags"])
@pytest.mark.parametrize(
    "value",
    ["", "中文标题", "a \"quote\"", "back\\slash", " lead", "trail ", "line\nbreak", "tab\tx", True, False,
     ["a", "b"], [], ["中", "x\u2028y"], None, 3, 2.5, {"a": "b"}, "2025-02-07 21:54:12", "yes", "null", "#x"],
)  # fmt: skip
def test_entry_is_what_pyyaml_writes(key: str, value: object) -> None:
    assert _entry(key, value) == _dump({key: value})


def test_random_strings_are_written_as_pyyaml_writes_them() -> None:
    rng = random.Random(18)
    for _ in range(3000):
        text = "".join(rng.choice(_TRICKY) for _ in range(rng.randint(0, 6)))
        assert _entry("title", text) == _dump({"title": text}), repr(text)
        assert _entry("tags", [text, "x"]) == _dump({"tags": [text, "x"]}), repr(text)


def test_the_usual_shapes_do_not_go_through_pyyaml(monkeypatch: pytest.MonkeyPatch) -> None:
    expected = _dump(values := {"title": "标题 “引号” A&B", "draft": False, "tags": ["科技", "AI"], "menu": ""})

    def refuse(values: dict[str, object]) -> str:
        raise AssertionError(f"went through PyYAML: {values}")

    monkeypatch.setattr("crawler.render.frontmatter._dump", refuse)
    assert to_yaml(values) == expected


def test_a_whole_front_matter_is_what_pyyaml_writes() -> None:
    values = {"title": "标题", "date": "2025-02-07 21:54:12", "draft": False, "tags": ["科技"], "toc": True,
              "meta": {"a": "b"}, "on": "x"}  # fmt: skip
    assert to_yaml(values) == _dump(values)
