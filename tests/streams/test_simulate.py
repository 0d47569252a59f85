from __future__ import annotations

import orjson
import pytest

from streams.contract import decode
from streams.simulate import SCENARIOS, SimConfig, Simulator


def _run(**kw) -> tuple[Simulator, list]:
    sim = Simulator(SimConfig(**({"seed": 5, "rate": 60, "duration_s": 1500} | kw)))
    return sim, list(sim.events())


def test_same_seed_same_events() -> None:
    assert _run()[1] == _run()[1]
    assert _run()[1] != _run(seed=6)[1]


def test_every_event_honours_the_contract() -> None:
    _, events = _run()
    for topic, key, event in events:
        decoded = decode(topic, orjson.dumps(event))
        assert key.decode() == getattr(decoded, "stream_id", None) or key.decode() == getattr(
            decoded, "listing_id", None)


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_every_scenario_is_injected_and_labelled(scenario: str) -> None:
    sim, events = _run(scenarios=(scenario,))
    [label] = sim.labels()
    assert label["scenario"] == scenario and label["start_ts"] < label["end_ts"]
    during = [e for _, _, e in events if label["start_ts"] <= e["ts"] < label["end_ts"]]
    entity = label["entity_id"]
    if label["entity_type"] == "stream":
        assert any(e.get("stream_id") == entity for e in during)
    elif label["entity_type"] == "listing":
        assert any(e.get("listing_id") == entity for e in during)
    elif label["entity_type"] == "seller":
        assert sum(e.get("seller_id") == entity for e in during) > 20
    elif label["entity_type"] == "account_cluster":
        assert sum(e.get("user_id", "").startswith("bot-") for e in during) > 20
    elif label["entity_type"] == "term":
        assert sum(e["event_type"] == "comment" and entity[:3] in e.get("text", "").replace(
            " ", "") for e in during) > 3
    else:
        _category, region = entity.split("|")
        assert sum(e["event_type"] == "report" and e["region"] == region for e in during) > 5


def test_time_order_and_rate() -> None:
    _, events = _run(scenarios=())
    ts = [e["ts"] for _, _, e in events]
    assert ts == sorted(ts)
    assert 40 < len(events) / 1500 < 80


def test_unknown_scenario_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown scenario 'bogus'"):
        Simulator(SimConfig(scenarios=("bogus",)))
