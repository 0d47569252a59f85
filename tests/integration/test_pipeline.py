"""Simulator -> real broker -> worker -> risk.signals and riskstream.dlq."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import orjson
import pytest

from streams.replay import partition_of
from streams.simulate import explained, matches
from tests.integration.conftest import BAD_RECORDS, Worker, read_all

pytestmark = pytest.mark.integration

CONTRACT_FIELDS = {
    "schema_version", "signal_id", "signal_type", "status", "entity_type", "entity_id", "region",
    "severity", "score", "detector", "detector_version", "window_start", "window_end", "observed",
    "baseline", "evidence", "first_seen_ts", "emitted_ts",
}


def test_injected_scenarios_arrive_as_signals(run: dict[str, Any]) -> None:
    opened = [s for s in run["signals"] if s["status"] == "open"]
    for label in run["labels"]:
        assert any(matches(label, s) for s in opened), label


def test_every_detected_signal_type_fires(run: dict[str, Any]) -> None:
    from signals.policy import load_policy

    fired = {s["signal_type"] for s in run["signals"] if s["status"] == "open"}
    assert fired == {k for k, sp in load_policy().signals.items() if sp.enabled}


def test_the_simulated_bait_pinned_in_a_stream_is_raised_to_the_pinned_severity(
        run: dict[str, Any]) -> None:
    # the simulator pins each bait listing in a live stream of its region 0.5 s after
    # pricing it: the pin reaches the listing's worker through the windows topic. Read
    # before the listing's window is judged, the signal opens raised; read after it (the
    # events were sent at once, and the worker may read the stream's partition behind the
    # listing's), an update raises the open signal
    [bait] = [s for s in run["signals"] if s["signal_type"] == "price_anomaly"
              and s["status"] == "open"]
    records = [s for s in run["signals"] if s["signal_id"] == bait["signal_id"]
               and s["status"] in ("open", "update")]
    raised = [s for s in records if s["severity"] in ("high", "critical")]
    assert raised, records
    pinned = raised[0]["evidence"]["pinned"]
    assert pinned["stream_id"].startswith("st-")
    if raised[0] is not bait:
        assert raised[0]["evidence"]["raised_because"].startswith(
            f"pinned in live stream {pinned['stream_id']} at ")
    # pinned before the bait's window closed (its end plus the allowed lateness)
    assert bait["window_start"] <= pinned["pinned_ts"] < bait["window_end"] + 10_000


def test_no_signal_for_clean_entities(run: dict[str, Any]) -> None:
    labelled = {s["signal_id"] for s in run["signals"] if s["status"] == "open"
                and explained(run["labels"], s)}
    assert [s for s in run["signals"] if s["signal_id"] not in labelled] == []


def test_signals_follow_the_contract(run: dict[str, Any]) -> None:
    for sig in run["signals"]:
        assert set(sig) == CONTRACT_FIELDS
        assert 0.0 <= sig["score"] <= 1.0
        assert sig["window_start"] < sig["window_end"]
        assert sig["first_seen_ts"] <= sig["window_start"]
        if sig["status"] == "open":
            assert sig["evidence"]["sample_event_ids"]


def test_bad_records_are_dead_lettered_and_the_worker_goes_on(
        broker: str, worker: Worker, run: dict[str, Any]) -> None:
    def enough(records: list) -> bool:
        return len(records) >= len(BAD_RECORDS)

    dead = [orjson.loads(r.value) for r in
            asyncio.run(read_all(broker, "riskstream.dlq", enough, timeout_s=60))]
    ours = [d for d in dead if d["key"] == "s-bad"]
    assert len(ours) == len(BAD_RECORDS)
    errors = " | ".join(d["error"] for d in ours)
    assert "not_json" in errors and "not_object" in errors and "`user_id`" in errors
    assert all(set(d) == {"source_topic", "partition", "offset", "key", "error", "raw"}
               for d in ours)
    assert worker.metric("riskstream_events_dead_lettered_total") >= len(BAD_RECORDS)
    # every good record, before and after the bad ones, was processed
    deadline = time.monotonic() + 60
    while (worker.metric("riskstream_events_processed_total") < run["events"]
           and time.monotonic() < deadline):
        time.sleep(1)
    assert worker.metric("riskstream_events_processed_total") == run["events"]
    assert worker.proc.poll() is None


def test_another_client_reads_a_signal_with_every_field(broker: str, run: dict) -> None:
    from confluent_kafka import Consumer

    consumer = Consumer({"bootstrap.servers": broker, "group.id": "rs-it-confluent",
                         "auto.offset.reset": "earliest"})
    consumer.subscribe(["risk.signals"])
    try:
        msg = None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            msg = consumer.poll(1.0)
            if msg is not None and msg.error() is None:
                break
        assert msg is not None and msg.error() is None
        sig = orjson.loads(msg.value())
        assert set(sig) == CONTRACT_FIELDS
        assert msg.key().decode() == sig["entity_id"]
    finally:
        consumer.close()


def test_a_replay_spreads_keys_over_partitions_as_the_topics_do(broker: str,
                                                                run: dict) -> None:
    # riskstream replay's virtual partitions are the input topics' own, so a backtest
    # folds each partition's share of the events as the worker does
    for topic in ("livestream.events", "listing.events"):
        records = asyncio.run(read_all(broker, topic, lambda r: len(r) >= 2_000, timeout_s=30))
        keyed = [r for r in records if r.key]
        assert len(keyed) >= 1_000 and len({r.partition for r in keyed}) == 4
        assert [r.partition for r in keyed] == [partition_of(r.key, 4) for r in keyed]


def test_the_worker_sweeps_its_states_and_times_it(worker: Worker, run: dict) -> None:
    # every 30 s, once it has judged a window; the sweep's wall time goes to a histogram
    deadline = time.monotonic() + 45
    while worker.metric("riskstream_sweep_seconds_count") < 1:
        assert time.monotonic() < deadline, "no sweep in 45 s"
        time.sleep(1)
    assert 0 < worker.metric("riskstream_sweep_seconds_sum") < 30
    assert worker.metric("riskstream_tracked_entities") > 100
