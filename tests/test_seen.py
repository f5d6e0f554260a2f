"""The spider's record of the articles a run has requested (``crawler.qq.seen``), off the Python heap.

The crawl-level fact (an article listed twice is fetched once) is in tests/test_discovery.py.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from crawler.qq.seen import SeenIds

IDS = st.lists(st.one_of(st.text(max_size=20), st.from_regex(r"20[0-9]{6}A[0-9A-Z]{5}00", fullmatch=True)), max_size=60)


@given(IDS)
def test_it_answers_as_a_set_would(idents: list[str]) -> None:
    seen, model = SeenIds(), set()
    for ident in idents:
        assert seen.add(ident) == (ident not in model)
        model.add(ident)
    assert not any(seen.add(ident) for ident in model)  # every one recorded
    assert seen.add("never-added") == ("never-added" not in model)
    seen.close()


def test_the_ids_are_not_python_objects() -> None:
    seen = SeenIds()
    for number in range(20_000):
        assert seen.add(f"20261201A{number:05d}00")
    assert not seen.add("20261201A0000000")
    assert seen._fallback is None  # all of them are in the database, none in a set
    assert seen._db.execute("SELECT count(*) FROM seen").fetchone() == (20_000,)
    seen.close()


def test_a_failing_database_goes_on_in_memory_and_says_so() -> None:
    fell_back: list[bool] = []
    seen = SeenIds(on_fallback=lambda: fell_back.append(True))
    assert seen.add("20261201A0000100")
    seen._db.close()  # what a full or unwritable temporary directory looks like from here: sqlite3.Error
    assert seen.add("20261201A0000200")
    assert not seen.add("20261201A0000200")
    assert fell_back == [True]  # counted once (the spider's qq/seen/in_memory)
    seen.close()
