from signals.lifecycle import Lifecycle

KW = {"open_score": 0.6, "resolve_score": 0.3, "resolve_after": 2, "cooldown_ms": 300_000}


def _sev(score: float) -> str | None:
    if score >= 0.9:
        return "high"
    if score >= 0.75:
        return "medium"
    return "low" if score >= 0.6 else None


def _run(scores: list[float], life: Lifecycle | None = None, ended_at: int = -1) -> list:
    life = life or Lifecycle()
    out = []
    for i, s in enumerate(scores):
        start = i * 60_000
        status = life.step(s, _sev(s), start, start + 60_000, ended=i == ended_at, **KW)
        out.append(status)
    return out


def test_hysteresis_keeps_a_hovering_metric_quiet() -> None:
    assert _run([0.7, 0.5, 0.65, 0.4, 0.62, 0.45]) == ["open", None, None, None, None, None]


def test_update_only_when_severity_rises() -> None:
    assert _run([0.65, 0.8, 0.7, 0.95, 0.8]) == ["open", "update", None, "update", None]


def test_resolves_after_consecutive_quiet_windows_then_cools_down() -> None:
    statuses = _run([0.7, 0.1, 0.1, 0.9, 0.9, 0.1, 0.1, 0.1, 0.9])
    # resolved at window 2; windows 3-4 fall inside the 5-minute cooldown
    assert statuses[:3] == ["open", None, "resolved"]
    assert statuses[3:8] == [None] * 5
    assert statuses[8] == "open"


def test_entity_end_resolves_at_once() -> None:
    assert _run([0.7, 0.8, 0.8], ended_at=2) == ["open", "update", "resolved"]


def test_state_round_trip() -> None:
    life = Lifecycle()
    _run([0.7], life)
    copy = Lifecycle(life.state())
    assert copy.state() == life.state() and copy.is_open and copy.severity == "low"


def _learned(scores: list[float], adopt_after: int) -> list[bool]:
    life, out = Lifecycle(), []
    for i, s in enumerate(scores):
        life.step(s, _sev(s), i * 60_000, (i + 1) * 60_000, adopt_after=adopt_after, **KW)
        out.append(life.learn)
    return out


def test_only_clearly_normal_windows_are_learned_unless_a_change_lasts() -> None:
    scores = [0.1, 0.9, 0.9, 0.9, 0.9, 0.2, 0.5, 0.5, 0.5, 0.5]
    assert _learned(scores, 0) == [True, False, False, False, False, True] + [False] * 4
    # after more than 2 windows in a row at or above resolve_score, flagged or grey
    assert _learned(scores, 2) == [True, False, False, True, True, True,
                                   False, False, True, True]


def test_a_grey_run_is_remembered_and_an_adopted_episode_says_so() -> None:
    life = Lifecycle()
    _run([0.5], life)
    assert life.above == 0 and life.idle(10**9)  # nothing to adopt: nothing kept
    life.step(0.5, None, 60_000, 120_000, adopt_after=2, **KW)
    assert life.above == 1 and not life.idle(10**9)  # a run to count: kept
    life = Lifecycle()
    for i in range(3):
        assert not life.adopted
        life.step(0.9, "high", i * 60_000, (i + 1) * 60_000, adopt_after=2, **KW)
    assert life.adopted and Lifecycle(life.state()).adopted


def test_a_state_saved_before_runs_were_counted_still_loads() -> None:
    life = Lifecycle([1, 60_000, 0, 1, 0, 0.8])
    assert life.is_open and life.above == 0 and not life.adopted
