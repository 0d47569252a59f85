import math

from detectors import ViewerInflationDetector


def _warm(det: ViewerInflationDetector, viewers: float = 500, engagement: float = 150) -> None:
    for i in range(6):
        det.learn_one({"viewers": viewers * (1 + 0.02 * (i % 3)), "engagement": engagement})


def test_quiet_during_grace_period() -> None:
    det = ViewerInflationDetector(grace_period=3)
    det.learn_one({"viewers": 500, "engagement": 150})
    assert det.score_one({"viewers": 9000, "engagement": 150}) == 0.0


def test_engagement_drop_alone_is_not_inflation() -> None:
    det = ViewerInflationDetector()
    _warm(det)
    assert det.score_one({"viewers": 500, "engagement": 10}) == 0.0


def test_small_streams_are_ignored() -> None:
    det = ViewerInflationDetector(min_viewers=50)
    _warm(det, viewers=5, engagement=2)
    assert det.score_one({"viewers": 40, "engagement": 2}) == 0.0


def test_a_state_saved_with_two_window_counts_still_loads() -> None:
    # the layout before the two series shared their count: mean, var, n for each
    det = ViewerInflationDetector()
    for v in (800.0, 820.0, 790.0, 810.0, 805.0, 815.0):
        det.learn_one({"viewers": v, "engagement": v / 4})
    v_mean, v_var, n, pv_mean, pv_var = det.state()
    restored = ViewerInflationDetector()
    restored.load([v_mean, v_var, n, pv_mean, pv_var, n])
    probe = {"viewers": 8000.0, "engagement": 200.0}
    assert restored.score_one(probe) == det.score_one(probe) > 0.5


def test_a_deficit_that_chance_explains_does_not_open() -> None:
    # a stream that draws about one engagement event a window at 200 viewers: at 520
    # the usual rate expects about 4, and none happens 1.4% of the time
    det = ViewerInflationDetector()
    _warm(det, viewers=200, engagement=1)
    assert det.score_one({"viewers": 520, "engagement": 0}) < 0.6
    # the same ratio at ten times the audience is no chance
    assert det.score_one({"viewers": 5200, "engagement": 0}) > 0.9


class _RatioOnly(ViewerInflationDetector):
    def _deficit_z(self, x: dict[str, float]) -> float:
        return math.inf


def test_an_inflated_stream_scores_as_the_ratio_says() -> None:
    # where the count is large the Poisson deficit is far beyond the ratio's z, so
    # the score is the ratio's alone
    det, ratio_only = ViewerInflationDetector(), _RatioOnly()
    _warm(det)
    _warm(ratio_only)
    for engagement in (40, 150, 300):
        probe = {"viewers": 4500, "engagement": engagement}
        assert det.score_one(probe) == ratio_only.score_one(probe) > 0.6


def test_a_window_the_stream_was_live_for_in_part_is_judged_on_what_it_could_draw() -> None:
    # 2,000 viewers expect about 20 events a full window: none in a full window is
    # no chance, none in the 12 s a stream was live of it (about 4 expected) is
    det = ViewerInflationDetector()
    _warm(det, viewers=200, engagement=1)
    assert det.score_one({"viewers": 2000, "engagement": 0}) > 0.6
    assert det.score_one({"viewers": 2000, "engagement": 0, "live": 0.2}) < 0.6
