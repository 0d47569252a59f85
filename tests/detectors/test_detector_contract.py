"""The contract every detector honours, run over every detector (River-style check suite)."""

from __future__ import annotations

import math
import random
from collections.abc import Callable

import pytest

from detectors import (
    CountSurgeDetector,
    Detector,
    EWMAZScoreDetector,
    LevelDetector,
    PoissonRateDetector,
    PriceShiftDetector,
    RateCusumDetector,
    RecordDetector,
    ViewerInflationDetector,
)

# name -> (factory, normal sample, shifted sample)
Sample = Callable[[random.Random], dict[str, float]]
CASES: dict[str, tuple[Callable[[], Detector], Sample, Sample]] = {
    "ewma_zscore": (
        lambda: EWMAZScoreDetector(feature="v"),
        lambda r: {"v": 100 + r.gauss(0, 5)},
        lambda r: {"v": 200 + r.gauss(0, 5)},
    ),
    "count_surge": (
        CountSurgeDetector,
        lambda r: {"count": float(r.choice([0, 1, 2])), "idle_windows": 0.0},
        lambda r: {"count": float(r.randint(20, 30)), "idle_windows": 0.0},
    ),
    "poisson_rate": (
        PoissonRateDetector,
        lambda r: {"count": float(r.choice([0, 0, 1])), "exposure": 1.0},
        lambda r: {"count": float(r.randint(20, 30)), "exposure": 1.0},
    ),
    "rate_cusum": (
        RateCusumDetector,
        lambda r: {"count": float(r.choice([1, 2, 2, 3])), "exposure": 4.0},
        lambda r: {"count": float(r.randint(20, 30)), "exposure": 4.0},
    ),
    "level": (
        LevelDetector,
        lambda r: {"value": 3.0 + r.gauss(0, 0.5)},
        lambda r: {"value": 12.0 + r.gauss(0, 0.5)},
    ),
    "record": (
        RecordDetector,
        lambda r: {"value": 3.0 + r.gauss(0, 0.5)},
        lambda r: {"value": 12.0 + r.gauss(0, 0.5)},
    ),
    "price_shift": (
        PriceShiftDetector,
        lambda r: {"log_price": 4.6 + r.gauss(0, 0.05), "log_reference": math.nan},
        lambda r: {"log_price": 1.8 + r.gauss(0, 0.05), "log_reference": math.nan},
    ),
    "viewer_inflation": (
        ViewerInflationDetector,
        lambda r: {"viewers": 800 * r.uniform(0.9, 1.1), "engagement": 200 * r.uniform(0.9, 1.1)},
        lambda r: {"viewers": 8000 * r.uniform(0.9, 1.1), "engagement": 200 * r.uniform(0.9, 1.1)},
    ),
}


@pytest.fixture(params=sorted(CASES))
def case(request: pytest.FixtureRequest) -> tuple[Callable[[], Detector], Sample, Sample]:
    return CASES[request.param]


def test_scores_before_learning_without_raising(case) -> None:
    make, normal, shifted = case
    det = make()
    rng = random.Random(0)
    assert det.score_one(normal(rng)) == 0.0
    assert isinstance(det.score_one(shifted(rng)), float)


def test_scores_are_floats_in_unit_interval(case) -> None:
    make, normal, shifted = case
    det, rng = make(), random.Random(1)
    for i in range(60):
        x = shifted(rng) if i % 17 == 16 else normal(rng)
        score = det.score_one(x)
        assert isinstance(score, float)
        assert 0.0 <= score <= 1.0 and not math.isnan(score)
        det.learn_one(x)


def test_same_seed_same_scores(case) -> None:
    make, normal, _ = case

    def run() -> list[float]:
        det, rng, out = make(), random.Random(42), []
        for _ in range(40):
            x = normal(rng)
            out.append(det.score_one(x))
            det.learn_one(x)
        return out

    assert run() == run()


def test_flags_an_injected_shift_and_not_normal_points(case) -> None:
    make, normal, shifted = case
    det, rng = make(), random.Random(7)
    for _ in range(30):
        det.learn_one(normal(rng))
    normal_scores = [det.score_one(normal(rng)) for _ in range(20)]
    assert max(normal_scores) < 0.5
    assert det.score_one(shifted(rng)) > 0.7


def test_state_round_trip_keeps_scores(case) -> None:
    make, normal, shifted = case
    det, rng = make(), random.Random(3)
    for _ in range(20):
        det.learn_one(normal(rng))
    state = det.state()
    assert all(isinstance(v, float | int) for v in state)
    restored = make()
    restored.load(list(state))
    probe = shifted(rng)
    assert restored.score_one(probe) == det.score_one(probe)
    assert restored.baseline() == det.baseline()


def test_learn_one_returns_none(case) -> None:
    make, normal, _ = case
    assert make().learn_one(normal(random.Random(0))) is None


def test_side_is_a_direction_or_none(case) -> None:
    """The engine asks ``side(x)`` of every detector (a signal's ``direction``)."""
    make, normal, shifted = case
    det, rng = make(), random.Random(5)
    for _ in range(30):
        det.learn_one(normal(rng))
    assert det.side(shifted(rng)) in (None, -1.0, 0.0, 1.0)


def test_zscore_direction_and_side() -> None:
    det, rng = EWMAZScoreDetector(feature="v", direction="down"), random.Random(2)
    for _ in range(30):
        det.learn_one({"v": 100 + rng.gauss(0, 5)})
    assert det.side({"v": 200.0}) == 1.0 and det.side({"v": 10.0}) == -1.0
    assert det.score_one({"v": 200.0}) == 0.0 < 0.7 < det.score_one({"v": 10.0})
    with pytest.raises(ValueError, match="direction"):
        EWMAZScoreDetector(direction="sideways")
