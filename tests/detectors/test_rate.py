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


def _shop(**kw: float) -> PoissonRateDetector:
    return PoissonRateDetector(prior_rate=0.05, prior_exposure=20.0, min_count=4,
                               established_prior_rate=1.0, habit_half_life=10080, **kw)


def _upload(count: float, idle: float = 0.0, established: float = 1.0) -> dict[str, float]:
    return {"count": count, "exposure": 1.0, "established": established, "idle_windows": idle}


DAY = 1439.0  # idle windows between two uploads a day apart


def test_an_established_shops_daily_upload_opens_only_the_first_time() -> None:
    det = _shop()
    first = det.score_one(_upload(20))
    det.remember_one(_upload(20))  # learned though it opened (learn_one would not be called)
    assert first > 0.9
    assert det.score_one(_upload(22, idle=DAY)) < 0.3  # the next day's, a little larger
    assert det.baseline()["habit"] > 18.0  # what it expected at least, faded a day
    assert det.score_one(_upload(45, idle=DAY)) > 0.6  # more than twice the habit
    fresh = _shop()
    assert fresh.score_one(_upload(22, idle=DAY)) > 0.9  # without the habit it would open


def test_a_burst_that_goes_on_within_its_session_is_judged_as_before() -> None:
    # the habit applies from the next session (after habit_gap, 60 windows, of none):
    # a burst of 20 a minute that goes on stays flagged, and its episode open
    det = _shop()
    for _ in range(5):
        assert det.score_one(_upload(20)) > 0.9
        det.remember_one(_upload(20))
    assert det.score_one(_upload(20, idle=58.0)) > 0.9  # back within the hour: same session
    det.remember_one(_upload(20, idle=58.0))
    assert det.score_one(_upload(20, idle=60.0)) < 0.3  # an hour later: a new session


def test_a_young_sellers_uploads_teach_no_habit() -> None:
    det = _shop()
    det.remember_one(_upload(20, established=0.0))
    assert det.state() == [0.0, 0.0]
    assert det.score_one(_upload(20, idle=DAY)) > 0.9
    # nor does an established window below habit_min, nor is the habit used for a young one
    det.remember_one(_upload(9))
    assert det.state() == [0.0, 0.0]
    det.remember_one(_upload(20))
    assert det.score_one(_upload(20, idle=DAY, established=0.0)) > 0.9


def test_the_habit_fades_and_is_kept_past_the_ttl_only_while_it_counts() -> None:
    det = _shop()
    det.remember_one(_upload(20))
    # negated (a legacy third value was a count); this session's, the habit from the next
    assert det.state() == [0.0, 0.0, 0.0, -20.0]
    week = 10080.0
    assert det.memory(60) == [0.0, 0.0, -20.0]  # an hour on: kept, as it was
    assert det.memory(2 * week) == [0.0, 0.0, -20.0]  # faded to 5, half habit_min: kept
    assert det.memory(2 * week + 60) is None  # below: forgotten
    det.remember_one(_upload(3, idle=week - 1))  # faded to 10: kept (10 would be learned)
    assert det.state() == pytest.approx([0.0, 0.0, -10.0])
    det.remember_one(_upload(3, idle=week + 60))  # below 5: dropped
    assert det.state() == [0.0, 0.0]
    assert PoissonRateDetector().memory(60) is None  # no habit kept without the knob


def test_a_habit_survives_a_reload_and_a_legacy_count_is_no_habit() -> None:
    det = _shop()
    det.remember_one(_upload(25))
    restored = _shop()
    restored.load(det.state())
    assert restored.score_one(_upload(25, idle=DAY)) == det.score_one(_upload(25, idle=DAY))
    legacy = _shop()
    legacy.load([0.0, 0.0, 60.0])  # counts, exposure, a window count (before a310ca0)
    assert legacy.score_one(_upload(20)) > 0.9


def test_bad_habit_settings_are_refused_naming_the_knob() -> None:
    with pytest.raises(ValueError, match="habit_half_life"):
        PoissonRateDetector(established_prior_rate=1.0, habit_half_life=0.0)
    with pytest.raises(ValueError, match="habit_half_life needs established_prior_rate"):
        PoissonRateDetector(habit_half_life=100.0)
    with pytest.raises(ValueError, match="habit_min"):
        _shop(habit_min=0.5)
    with pytest.raises(ValueError, match="habit_gap"):
        _shop(habit_gap=0.0)
