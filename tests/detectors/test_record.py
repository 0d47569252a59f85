"""The range-based metric-series detector: scale from the series' own ranges."""

from __future__ import annotations

import math
import random

import pytest

from detectors.record import RecordDetector


def _fed(values: list[float], **params: float) -> RecordDetector:
    det = RecordDetector(**params)
    for v in values:
        det.learn_one({"value": v})
    return det


def _score(det: RecordDetector, v: float) -> float:
    return det.score_one({"value": v})


def test_beyond_the_range_scores_by_how_far_in_range_widths() -> None:
    det = _fed([float(i % 11) for i in range(200)])  # values 0..10, level near 5
    assert _score(det, 10.0) < 1e-3 and _score(det, 0.0) < 1e-3  # inside (ranges narrow a little)
    scores = [_score(det, 10.0 + k) for k in (1, 3, 7, 20)]
    assert scores == sorted(scores) and scores[0] < 0.05 and scores[-1] > 0.85
    assert _score(det, 10.0 + 7.0) == pytest.approx(0.5, abs=0.01)  # 0.7 widths: `half`
    assert _score(det, -7.0) == pytest.approx(0.5, abs=0.01)  # the same below


def test_one_configuration_judges_a_spiky_series_and_a_calm_one_by_their_own_ranges() -> None:
    rng = random.Random(5)
    calm = _fed([100.0 + rng.gauss(0, 1) for _ in range(500)])
    spiky = _fed([100.0 + rng.gauss(0, 1) + (rng.random() < 0.02) * rng.uniform(20, 40)
                  for _ in range(500)])
    assert _score(calm, 130.0) > 0.9  # far beyond anything the calm series did
    assert _score(spiky, 130.0) == 0.0  # the spiky one does that every 50 values
    assert _score(spiky, 220.0) > 0.6  # but not this


def test_a_jump_inside_the_range_is_caught_by_the_deviation_range() -> None:
    # a slow swing between 0 and 100: every value is inside the range, but each
    # step is small, so a jump from the trough to near the top is a new kind of move
    values = [50.0 + 50.0 * math.sin(i / 40.0) for i in range(1000)]
    trough = min(range(900, 1000), key=lambda i: values[i])
    det = _fed(values[: trough + 1])
    assert _score(det, values[trough] + 1.0) == 0.0
    assert _score(det, 90.0) > 0.7


def test_min_range_keeps_a_flat_history_from_making_every_change_an_alarm() -> None:
    flat = [1.22] * 20  # no purchases for 20 windows, on the Anscombe scale
    assert _score(_fed(flat), 2.35) == 1.0  # no floor: any change is infinitely far
    floored = _fed(flat, min_range=3.0)
    assert _score(floored, 2.35) < 0.3  # one purchase: below resolve_score, learned
    assert _score(floored, 11.0) > 0.9  # thirty


def test_ranges_narrow_so_an_old_spike_does_not_blind_the_detector_for_good() -> None:
    rng = random.Random(2)
    history = [10.0 + rng.random() for _ in range(100)] + [50.0] + [
        10.0 + rng.random() for _ in range(30_000)]
    kept = _fed(history, decay=0.0)
    narrowing = _fed(history, decay=1e-4)
    assert _score(kept, 45.0) == 0.0  # still inside the spike's range
    assert _score(narrowing, 45.0) > 0.9


def test_side_is_relative_to_the_recent_level() -> None:
    det = _fed([5.0, 6.0] * 50)
    assert det.side({"value": 9.0}) == 1.0 and det.side({"value": 1.0}) == -1.0


@pytest.mark.parametrize("params", [{"alpha": 0.0}, {"alpha": 1.5}, {"decay": 1.0},
                                    {"half": 0.0}, {"min_range": -1.0}])
def test_bad_parameters_are_refused(params: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        RecordDetector(**params)
