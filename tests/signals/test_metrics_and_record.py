from __future__ import annotations

import orjson
import pytest
from prometheus_client import CollectorRegistry

from signals.metrics import build_metrics
from signals.record import Signal

CONTRACT_FIELDS = {
    "schema_version", "signal_id", "signal_type", "status", "entity_type", "entity_id", "region",
    "severity", "score", "detector", "detector_version", "window_start", "window_end", "observed",
    "baseline", "evidence", "first_seen_ts", "emitted_ts",
}


def _signal(**kw) -> Signal:
    base = dict(signal_id="sig_1", signal_type="report_spike", status="open",
                entity_type="stream", entity_id="s1", region="US", severity="high", score=0.9,
                detector="poisson_rate", detector_version="1", window_start=0, window_end=60_000,
                first_seen_ts=0, emitted_ts=61_000)
    return Signal(**(base | kw))


def test_signal_json_has_every_contract_field() -> None:
    assert set(orjson.loads(_signal().to_json())) == CONTRACT_FIELDS


@pytest.mark.parametrize("bad", [{"score": 1.5}, {"severity": "urgent"}, {"status": "new"},
                                 {"entity_type": "user"}])
def test_signal_refuses_values_outside_the_contract(bad: dict) -> None:
    with pytest.raises(ValueError):
        _signal(**bad)


def test_metrics_initialised_and_counted_in_a_fresh_registry() -> None:
    reg = CollectorRegistry()
    m = build_metrics(reg)
    labels = {"topic": "listing.events", "kind": "not_json"}
    assert reg.get_sample_value("riskstream_events_dead_lettered_total", labels) == 0.0
    m.events_dead_lettered.labels(**labels).inc(2)
    assert reg.get_sample_value("riskstream_events_dead_lettered_total", labels) == 2.0
    m.processing_latency.labels(topic="livestream.events").observe(0.02)
    assert reg.get_sample_value("riskstream_processing_latency_seconds_bucket",
                                {"topic": "livestream.events", "le": "0.025"}) == 1.0
    assert reg.get_sample_value("riskstream_signals_emitted_total", {
        "signal_type": "viewer_inflation", "severity": "critical", "status": "resolved"}) == 0.0


def test_metric_names_follow_conventions() -> None:
    reg = CollectorRegistry()
    build_metrics(reg)
    for family in reg.collect():
        assert family.name.startswith("riskstream_")
        if family.type == "counter":
            assert all(s.name.endswith(("_total", "_created")) for s in family.samples)
        for sample in family.samples:
            assert not ({"stream_id", "user_id", "seller_id", "listing_id"} & set(sample.labels))
