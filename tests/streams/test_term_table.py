"""A window's bounded term counters: junk used once cannot crowd out a word used again."""

from __future__ import annotations

import subprocess
import sys

import pytest

from streams.term_table import TermTable


def _use_all(table: TermTable, words: list[str]) -> None:
    for word in words:
        counter = table.get(word)
        if counter is None:
            counter = table.admit(word, list)
        if counter is not None:
            counter.append(word)


def _counts(table: TermTable) -> dict[str, int]:
    return {key: len(uses) for key, uses in table.items()}


def test_below_capacity_every_use_is_counted_exactly() -> None:
    table = TermTable(capacity=3, uses=len)
    _use_all(table, ["a", "b", "a", "c", "a"])
    assert _counts(table) == {"a": 3, "b": 1, "c": 1}
    assert table.uncounted == 0


def test_a_word_used_again_after_a_flood_takes_a_one_use_counter() -> None:
    table = TermTable(capacity=100, uses=len)
    junk = [f"junk{i}" for i in range(1_000)]
    _use_all(table, junk + ["code"] * 4)
    counts = _counts(table)
    assert len(table) == 100
    assert counts["code"] == 3  # its first use came while the table was full
    assert "junk0" not in counts  # the oldest one-use counter was given away
    assert table.uncounted == (len(junk) - 100) + 1 + 1  # the sketched junk, code once, junk0


def test_a_word_used_twice_keeps_its_counter_through_any_flood() -> None:
    table = TermTable(capacity=50, uses=len)
    _use_all(table, ["usual", "usual"] + [f"w{i}" for i in range(48)])
    for round_ in range(20):  # junk used twice in turn, each taking a counter
        _use_all(table, [f"junk{round_}-{i}" for i in range(200) for _ in range(2)])
    assert _counts(table)["usual"] == 2
    assert len(table) == 50


def test_a_word_used_again_once_the_table_is_full_keeps_its_counter() -> None:
    table = TermTable(capacity=3, uses=len)
    _use_all(table, ["a", "b", "c", "junk0"])  # full: a, b and c hold one use each
    _use_all(table, ["a"])  # a's second use: it is no longer one to give away
    _use_all(table, [w for i in range(1, 4) for w in (f"junk{i}",) * 2])
    assert _counts(table) == {"a": 2, "junk2": 1, "junk3": 1}


def test_a_counter_removed_by_the_caller_is_not_given_away() -> None:
    table = TermTable(capacity=2, uses=len)
    _use_all(table, ["a", "b", "junk"])  # full: a and b are queued to be given away
    del table["a"]
    _use_all(table, ["c"])  # takes the room a left
    _use_all(table, ["code", "code"])
    assert _counts(table) == {"c": 1, "code": 1}  # a, still queued, was passed over for b


def test_when_every_counter_holds_two_uses_new_words_are_only_sketched() -> None:
    table = TermTable(capacity=2, uses=len)
    _use_all(table, ["a", "a", "b", "b", "c", "c", "c"])
    assert _counts(table) == {"a": 2, "b": 2}
    assert table.uncounted == 3


def test_admit_uses_sets_how_often_a_word_must_be_used_to_take_a_counter() -> None:
    table = TermTable(capacity=2, uses=len, admit_uses=3)
    _use_all(table, ["x", "y", "code", "code"])
    assert "code" not in _counts(table)
    _use_all(table, ["code"])
    assert _counts(table) == {"y": 1, "code": 1}


@pytest.mark.parametrize(("capacity", "admit_uses"), [(0, 2), (5, 0)])
def test_a_table_that_could_count_nothing_is_refused(capacity: int, admit_uses: int) -> None:
    with pytest.raises(ValueError, match="capacity and admit_uses"):
        TermTable(capacity=capacity, uses=len, admit_uses=admit_uses)


def test_the_sketch_gives_the_same_counters_in_another_process() -> None:
    # a replay must count as the live worker did: the sketch's hash may not depend on
    # the process (Python's own str hash does, through PYTHONHASHSEED)
    script = (
        "from streams.term_table import TermTable\n"
        "t = TermTable(capacity=500, uses=len)\n"
        "for i in range(20_000):\n"
        "    w = f'w{(i * 7919) % 6000}'\n"
        "    c = t.get(w) or t.admit(w, list)\n"
        "    if c is not None: c.append(w)\n"
        "print(sorted((k, len(v)) for k, v in t.items()))\n")
    runs = {subprocess.run([sys.executable, "-c", script], check=True, capture_output=True,
                           text=True, env={"PYTHONHASHSEED": seed}).stdout
            for seed in ("1", "2")}
    assert len(runs) == 1
