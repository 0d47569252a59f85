import pytest

from detectors import PoissonRateDetector


def test_prior_judges_a_new_entity() -> None:
    det = PoissonRateDetector(prior_rate=0.5, prior_exposure=5.0)
    # a brand-new stream with 2k viewers: 1 report expected, 15 is far out
    assert det.score_one({"count": 15, "exposure": 2.0}) > 0.8
    assert det.score_one({"count": 2, "exposure": 2.0}) == 0.0  # below min_count


def test_own_history_raises_the_baseline() -> None:
    noisy = PoissonRateDetector(prior_rate=0.5, prior_exposure=5.0)
    for _ in range(40):
        noisy.learn_one({"count": 6, "exposure": 1.0})
    fresh = PoissonRateDetector(prior_rate=0.5, prior_exposure=5.0)
    x = {"count": 8, "exposure": 1.0}
    assert noisy.score_one(x) < 0.1 < fresh.score_one(x)


def test_exposure_scales_expectation() -> None:
    det = PoissonRateDetector()
    assert det.score_one({"count": 10, "exposure": 20.0}) < det.score_one(
        {"count": 10, "exposure": 1.0})


def test_a_state_saved_with_its_window_count_still_loads() -> None:
    # states on the state topic from before the count was dropped: counts, exposure, n
    det = PoissonRateDetector()
    for n in (0, 1, 0, 2):
        det.learn_one({"count": float(n), "exposure": 1.0})
    restored = PoissonRateDetector()
    restored.load([*det.state(), 4.0])
    assert restored.rate == det.rate and len(restored.state()) == 2


def test_an_established_account_is_judged_by_its_own_prior() -> None:
    det = PoissonRateDetector(prior_rate=0.05, prior_exposure=20.0, min_count=4,
                              established_prior_rate=1.0)
    young, aged = {"count": 6, "exposure": 1.0}, {"count": 6, "exposure": 1.0, "established": 1}
    assert det.score_one(young) > 0.6 > 0.3 > det.score_one(aged)
    assert det.baseline()["prior_rate"] == 1.0  # the evidence names the prior used
    assert det.score_one({**aged, "count": 12}) > 0.6  # a dozen at once is still a burst
    plain = PoissonRateDetector(prior_rate=0.05, prior_exposure=20.0, min_count=4)
    assert plain.score_one(aged) == plain.score_one(young)  # no such prior: one judgement


def test_learning_uses_the_prior_of_the_window_learned() -> None:
    # an established seller's first window is capped at a plausible count for its
    # prior (1 a window), not for a young account's (0.05): it learns all 3 listings
    det = PoissonRateDetector(prior_rate=0.05, prior_exposure=20.0, decay=0.0,
                              established_prior_rate=1.0)
    det.learn_one({"count": 3, "exposure": 1.0, "established": 1})
    assert det.state() == [3.0, 1.0]


def test_a_negative_prior_is_refused() -> None:
    with pytest.raises(ValueError, match="established_prior_rate"):
        PoissonRateDetector(established_prior_rate=-1.0)
