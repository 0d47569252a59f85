"""The segment surge detector: evidence that builds over windows, and falls back."""

from __future__ import annotations

import random

import pytest

from detectors import RateCusumDetector


def _poisson(rng: random.Random, mu: float) -> float:
    n, t = 0, rng.expovariate(1.0)
    while t < mu:
        n, t = n + 1, t + rng.expovariate(1.0)
    return float(n)


def _learned(rng: random.Random, windows: int = 120) -> RateCusumDetector:
    det = RateCusumDetector(prior_rate=0.5, prior_exposure=20.0, half=6.0)
    for _ in range(windows):  # usual traffic: 1.2 reported streams per window
        x = {"count": _poisson(rng, 1.2), "exposure": 3.0}
        if det.score_one(x) < 0.3:
            det.learn_one(x)
    return det


def test_a_sustained_rise_opens_within_a_few_windows_and_falls_back_after() -> None:
    rng = random.Random(1)
    det = _learned(rng)
    scores = [det.score_one({"count": _poisson(rng, 4.0), "exposure": 3.0}) for _ in range(8)]
    first = next(i for i, s in enumerate(scores) if s >= 0.6)
    assert first <= 3, scores
    after = [det.score_one({"count": _poisson(rng, 1.2), "exposure": 3.0}) for _ in range(12)]
    assert after[-1] < 0.3, after


def test_usual_traffic_stays_quiet() -> None:
    rng = random.Random(2)
    det = _learned(rng)
    scores = [det.score_one({"count": _poisson(rng, 1.2), "exposure": 3.0})
              for _ in range(600)]
    assert max(scores) < 0.6


def test_one_stream_reported_every_window_is_set_aside() -> None:
    det = RateCusumDetector(prior_rate=0.1, prior_exposure=20.0, half=6.0)
    assert max(det.score_one({"count": 1.0, "exposure": 1.0}) for _ in range(30)) == 0.0
    # the same stream plus others: the others are the segment's rise
    assert max(det.score_one({"count": 4.0, "exposure": 1.0}) for _ in range(3)) > 0.6


def test_the_expected_count_follows_the_audience() -> None:
    det = RateCusumDetector(prior_rate=0.5, prior_exposure=20.0, half=6.0)
    # a big audience at the usual rate per viewer: 5 reported streams are no surge
    assert max(det.score_one({"count": 5.0, "exposure": 10.0}) for _ in range(10)) == 0.0


def test_extra_finds_a_small_segments_rise_sooner_than_a_ratio_does() -> None:
    # a nearly silent segment (0.1 reported streams a window) now shows 3 a window
    def windows_to_open(extra: float) -> int:
        det = RateCusumDetector(prior_rate=0.1, prior_exposure=1e9, half=6.0, extra=extra)
        return next(i for i in range(20)
                    if det.score_one({"count": 3.0, "exposure": 1.0}) >= 0.6)
    assert windows_to_open(1.0) < windows_to_open(0.0)


def test_extra_keeps_usual_small_counts_quiet() -> None:
    rng = random.Random(3)
    for mu in (0.1, 0.3, 1.0):
        det = RateCusumDetector(prior_rate=mu, prior_exposure=1e9, half=6.0, extra=1.0)
        scores = [det.score_one({"count": _poisson(rng, mu), "exposure": 1.0})
                  for _ in range(2000)]
        assert sum(s >= 0.6 for s in scores) <= 2, mu


@pytest.mark.parametrize(("field", "value"), [("shift", 1.0), ("forget", 1.0),
                                              ("extra", -1.0), ("min_expected", 0.0)])
def test_bad_parameters_are_refused(field: str, value: float) -> None:
    with pytest.raises(ValueError, match=field):
        RateCusumDetector(**{field: value})
