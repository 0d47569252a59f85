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
