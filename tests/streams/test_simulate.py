from __future__ import annotations

import orjson
import pytest

from streams import simulate
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


def test_price_campaigns_alternate_a_bait_drop_and_a_new_listing_at_bait() -> None:
    sim, events = _run(seed=6, duration_s=2400, scenarios=("price_anomaly",) * 2)
    for label in sim.labels():
        own = [e for _, _, e in events if e.get("listing_id") == label["entity_id"]
               and "price" in e and e["event_type"] != "product_pin"]
        before = [e for e in own if e["ts"] < label["start_ts"]]
        [bait] = [e for e in own if e["ts"] == label["start_ts"]]
        if before:  # an existing listing's price drops to bait
            assert bait["event_type"] == "price_changed"
            assert bait["price"] < 0.1 * bait["previous_price"]
        else:  # a new listing, at a bait price from the start
            assert bait["event_type"] == "listing_created"
    kinds = {e["event_type"] for _, _, e in events if e.get("listing_id") in
             {lb["entity_id"] for lb in sim.labels()} and e["event_type"] != "product_pin"}
    assert kinds == {"listing_created", "price_changed"}  # one campaign of each


def test_ordinary_titles_use_the_scenario_sellers_words() -> None:
    """A scenario listing is not told by its title: ordinary sellers write ``new``,
    ``brand new`` and ``authentic`` too, so those words have a usual count."""
    _, events = _run(scenarios=())
    words = {w for _, _, e in events if "title" in e for w in e["title"].split()}
    assert {"new", "brand", "authentic"} <= words


def test_title_openers_leave_the_rest_of_the_traffic_as_it_was(monkeypatch) -> None:
    """Openers draw from a generator of their own: without them every event is the same,
    and every title the same but for the opener in front."""
    _, opened = _run()
    monkeypatch.setattr(simulate, "TITLE_OPENER_SHARE", 0.0)
    _, plain = _run()
    assert len(opened) == len(plain)
    changed = 0
    for (_, _, a), (_, _, b) in zip(opened, plain, strict=True):
        title_a, title_b = a.pop("title", None), b.pop("title", None)
        assert a == b
        if title_a != title_b:
            changed += 1
            assert title_a.removesuffix(" " + title_b) in simulate.TITLE_OPENERS
    assert changed > 0
