"""``riskstream schema TOPIC``: each topic's JSON Schema accepts what the worker accepts
and writes, and refuses what it dead-letters (what a schema can say)."""

from __future__ import annotations

from typing import Any

import jsonschema
import msgspec
import orjson
import pytest

from signals.policy import load_policy
from signals.record import Signal
from streams.cli import main
from streams.contract import LISTING_TOPIC, LIVESTREAM_TOPIC, decode, verdict_record
from streams.errors import BadRecord
from streams.ingest import DeadLetter
from streams.replay import replay
from streams.schemas import TOPICS, DeadLetterRecord, schema
from streams.simulate import SimConfig, Simulator
from tests.streams.events import listing, live


def validator(topic: str) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(schema(topic))


@pytest.mark.parametrize("topic", TOPICS)
def test_each_topics_schema_is_a_valid_json_schema_and_the_command_prints_it(
        topic: str, capsys: Any) -> None:
    jsonschema.Draft202012Validator.check_schema(schema(topic))
    assert main(["schema", topic]) == 0
    assert orjson.loads(capsys.readouterr().out) == schema(topic)


def test_every_simulated_event_and_every_signal_of_a_replay_fit_their_schemas() -> None:
    sim = Simulator(SimConfig(seed=101, rate=120, duration_s=2400))
    records = [(t, k, orjson.dumps(e)) for t, k, e in sim.events()]
    by_topic = {LIVESTREAM_TOPIC: validator(LIVESTREAM_TOPIC),
                LISTING_TOPIC: validator(LISTING_TOPIC)}
    seen: dict[str, int] = {}
    for topic, _, value in records:
        event = orjson.loads(value)
        n = seen[event["event_type"]] = seen.get(event["event_type"], 0) + 1
        if n <= 300:  # the first 300 of each type: enough, and fast
            by_topic[topic].validate(event)
    assert len(seen) == 16  # every event type of the contract
    result = replay(records, load_policy())
    signals = validator("risk.signals")
    assert {s.signal_type for s in result.signals} >= {lb["scenario"] for lb in sim.labels()}
    for sig in result.signals:
        signals.validate(orjson.loads(sig.to_json()))


GOOD = [(LIVESTREAM_TOPIC, live(t)) for t in (
    "stream_start", "stream_end", "viewer_snapshot", "comment", "like", "share", "gift",
    "follow", "product_pin", "purchase", "report")] + [(LISTING_TOPIC, listing(t)) for t in (
    "listing_created", "listing_updated", "price_changed", "listing_removed",
    "listing_reported")] + [(LIVESTREAM_TOPIC, live(account_age_days=3, extra_field=[1]))]
BAD = [
    (LIVESTREAM_TOPIC, {k: v for k, v in live("comment").items() if k != "user_id"}),
    (LIVESTREAM_TOPIC, live("like", count=0)),
    (LIVESTREAM_TOPIC, live("report", reason="spam")),
    (LIVESTREAM_TOPIC, live("dance")),
    (LIVESTREAM_TOPIC, live(schema_version=2)),
    (LIVESTREAM_TOPIC, live(ts="yesterday")),
    (LIVESTREAM_TOPIC, live(event_id="e" * 65)),
    (LIVESTREAM_TOPIC, live("comment", text="x" * 2001)),
    (LIVESTREAM_TOPIC, live(region="USA")),
    (LIVESTREAM_TOPIC, live(account_age_days=-1)),
    (LISTING_TOPIC, listing("listing_created", title="t" * 501)),
    (LISTING_TOPIC, listing("price_changed", price=-1.0)),
    (LISTING_TOPIC, {k: v for k, v in listing().items() if k != "category"}),
]


@pytest.mark.parametrize("topic,event", GOOD)
def test_a_record_the_worker_accepts_fits_the_schema(topic: str, event: dict[str, Any]) -> None:
    decode(topic, orjson.dumps(event))
    validator(topic).validate(event)


@pytest.mark.parametrize("topic,event", BAD)
def test_a_record_the_worker_dead_letters_does_not(topic: str, event: dict[str, Any]) -> None:
    with pytest.raises(BadRecord):
        decode(topic, orjson.dumps(event))
    assert not validator(topic).is_valid(event)


def test_verdicts_and_dead_letters_fit_theirs() -> None:
    verdicts = validator("governance.verdicts")
    verdicts.validate(verdict_record("sig_1", "false_positive", 1, reviewer="ana", note="ok"))
    assert not verdicts.is_valid({"schema_version": 1, "signal_id": "sig_1",
                                  "verdict": "spam", "ts": 1})
    letter = DeadLetter(LIVESTREAM_TOPIC, 2, 41, b"st-1", b"\xff\xfe not utf-8", "not_json",
                        "not_json: JSON is malformed").to_dict()
    assert list(letter) == list(DeadLetterRecord.__struct_fields__)
    validator("riskstream.dlq").validate(letter)
    msgspec.convert(letter, DeadLetterRecord)


def test_a_signal_outside_the_contract_is_refused_naming_the_field() -> None:
    fields: dict[str, Any] = dict(
        signal_id="sig_1", signal_type="report_spike", status="open", entity_type="stream",
        entity_id="st-1", region="US", severity="high", score=0.9, detector="poisson_rate",
        detector_version="1", window_start=0, window_end=60_000, first_seen_ts=0,
        emitted_ts=70_000)
    Signal(**fields)
    for field, value in (("region", "usa"), ("score", 1.5), ("entity_type", "user"),
                         ("severity", "urgent"), ("emitted_ts", -1), ("entity_id", "")):
        with pytest.raises(ValueError, match=f"at `\\$.{field}`"):
            Signal(**fields | {field: value})
        assert not validator("risk.signals").is_valid(
            Signal(**fields).to_dict() | {field: value})
