"""The NAB scorer on cases small enough to work out by hand."""

from __future__ import annotations

import math

import pytest

from streams.bench.nab_score import (
    MAX_TP,
    corpus_scores,
    counts_at,
    prepare_rows,
    scaled_sigmoid,
    sweep,
    total_at,
)

STANDARD = {"tpWeight": 1.0, "fpWeight": 0.11, "fnWeight": 1.0}
LOW_FN = {"tpWeight": 1.0, "fpWeight": 0.11, "fnWeight": 2.0}


def one_hot(n: int, *rows: int) -> list[float]:
    return [1.0 if i in rows else 0.0 for i in range(n)]


def test_detection_at_a_windows_left_edge_earns_the_whole_tp_weight() -> None:
    rows = prepare_rows(100, [(40, 49)], probation=0)
    assert total_at(one_hot(100, 40), rows, STANDARD, 0.5) == pytest.approx(1.0)


def test_later_detection_in_the_window_earns_less_and_only_the_best_counts() -> None:
    rows = prepare_rows(100, [(40, 49)], probation=0)
    # row 45: position -(49 - 45 + 1) / 10 = -0.5
    late = scaled_sigmoid(-0.5) / MAX_TP
    assert total_at(one_hot(100, 45), rows, STANDARD, 0.5) == pytest.approx(late)
    assert total_at(one_hot(100, 40, 45, 49), rows, STANDARD, 0.5) == pytest.approx(1.0)


def test_missed_window_costs_fn_weight() -> None:
    rows = prepare_rows(100, [(40, 49)], probation=0)
    assert total_at([0.0] * 100, rows, STANDARD, 0.5) == -1.0
    assert total_at([0.0] * 100, rows, LOW_FN, 0.5) == -2.0


def test_false_positive_after_a_window_is_discounted_by_distance() -> None:
    rows = prepare_rows(100, [(40, 49)], probation=0)
    # row 52: 3 rows past the right edge, window width 10 -> position 3 / 9
    expected = -1.0 + 0.11 * scaled_sigmoid(3 / 9)
    assert total_at(one_hot(100, 52), rows, STANDARD, 0.5) == pytest.approx(expected)
    # far past the window (position >= 3), or before any window: the whole fp weight
    assert total_at(one_hot(100, 90), rows, STANDARD, 0.5) == pytest.approx(-1.0 - 0.11)
    assert total_at(one_hot(100, 20), rows, STANDARD, 0.5) == pytest.approx(-1.0 - 0.11)


def test_probationary_rows_are_not_scored() -> None:
    rows = prepare_rows(100, [(40, 49)], probation=30)
    assert total_at(one_hot(100, 10), rows, STANDARD, 0.5) == -1.0  # no fp charged
    # a window wholly inside the probationary period does not count at all
    early = prepare_rows(100, [(5, 9)], probation=30)
    assert early.windows == 0
    assert total_at([0.0] * 100, early, STANDARD, 0.5) == 0.0


def test_sweep_finds_the_best_threshold_over_the_corpus() -> None:
    rows = prepare_rows(100, [(40, 49)], probation=0)
    scores = [0.0] * 100
    scores[40] = 0.9  # a true detection
    scores[80] = 0.7  # a weaker false positive
    best, threshold = sweep([(scores, rows)], STANDARD)
    assert best == pytest.approx(1.0) and threshold == 0.9


def test_normalisation_null_is_zero_perfect_is_hundred() -> None:
    rows = prepare_rows(100, [(40, 49)], probation=0)
    perfect = corpus_scores([(one_hot(100, 40), rows)], STANDARD)
    null = corpus_scores([([0.5] * 100, rows)], STANDARD)
    assert perfect["score"] == pytest.approx(100.0)
    assert null["score"] == pytest.approx(0.0)
    assert math.isfinite(corpus_scores([(one_hot(100, 90), rows)], STANDARD)["score"])


def test_counts_at_a_threshold_windows_found_and_false_positives() -> None:
    two = prepare_rows(100, [(40, 49), (70, 79)], probation=30)
    early = prepare_rows(100, [(5, 9), (60, 64)], probation=30)  # the first not scored
    scores = [0.0] * 100
    scores[10] = 0.9  # probationary: neither found nor false
    scores[41] = scores[45] = 0.8  # one window, found twice
    scores[55] = 0.6  # false, unless the threshold is above it
    other = [0.0] * 100
    other[7] = other[62] = other[99] = 0.9  # probationary, found, false
    files = [(scores, two), (other, early)]
    assert counts_at(files, 0.5) == (2, 3, 2)
    assert counts_at(files, 0.7) == (2, 3, 1)
    assert counts_at(files, 0.95) == (0, 3, 0)


def test_corpus_scores_at_a_threshold_given() -> None:
    rows = prepare_rows(100, [(40, 49)], probation=0)
    scores = [0.0] * 100
    scores[40], scores[90] = 0.9, 0.7  # found at the left edge; a false positive far off
    assert corpus_scores([(scores, rows)], STANDARD)["threshold"] == 0.9
    assert corpus_scores([(scores, rows)], STANDARD, threshold=0.8)["score"] == \
        pytest.approx(100.0)
    # raw 1 - 0.11 between null -1 and perfect 1
    assert corpus_scores([(scores, rows)], STANDARD, threshold=0.5)["score"] == \
        pytest.approx(100 * (1.89 / 2))
    assert corpus_scores([(scores, rows)], STANDARD, threshold=0.95)["score"] == \
        pytest.approx(0.0)
