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
