"""``governance.verdicts``: each rule of the contract's table, and how a verdict is
counted or dead-lettered (no broker: ``tests/integration/test_verdicts.py`` has one)."""

from __future__ import annotations

import asyncio
import math
from typing import Any

import orjson
import pytest
from aiokafka import TopicPartition
from aiokafka.errors import KafkaConnectionError
from prometheus_client import CollectorRegistry

from signals.metrics import VERDICT_ERROR_KINDS, build_metrics
from signals.metrics import VERDICTS_TOPIC as METRICS_VERDICTS_TOPIC
from signals.verdicts import VERDICTS, Mute, SignalRef
from streams.cli import main
from streams.contract import VERDICTS_TOPIC, VerdictKind, decode_verdict
from streams.errors import BadRecord
from streams.verdicts import SignalFollower, judge_verdict


def verdict(**fields: Any) -> bytes:
    record = {"schema_version": 1, "signal_id": "sig_1", "verdict": "confirmed",
              "ts": 1_767_225_600_000} | fields
    return orjson.dumps({k: v for k, v in record.items() if v is not None})


def test_the_contract_s_verdicts_are_the_ones_counted() -> None:
    assert VerdictKind.__args__ == VERDICTS  # type: ignore[attr-defined]
    assert VERDICTS_TOPIC == METRICS_VERDICTS_TOPIC == "governance.verdicts"


@pytest.mark.parametrize("kind", VERDICTS)
def test_every_verdict_decodes_with_its_optional_fields(kind: str) -> None:
    got = decode_verdict(verdict(verdict=kind, reviewer="rev-7", note="seen on the stream",
                                 extra=True))
    assert (got.verdict, got.reviewer, got.note) == (kind, "rev-7", "seen on the stream")
    assert decode_verdict(verdict(verdict=kind)).reviewer is None


@pytest.mark.parametrize(("record", "kind", "field"), [
    (verdict(signal_id=None), "missing_field", "`signal_id`"),
    (verdict(verdict=None), "missing_field", "`verdict`"),
    (verdict(ts=None), "missing_field", "`ts`"),
    (verdict(schema_version=None), "missing_field", "`schema_version`"),
    (verdict(verdict="spam"), "out_of_range", "`$.verdict`"),
    (verdict(schema_version=2), "out_of_range", "schema_version"),
    (verdict(ts="yesterday"), "wrong_type", "`$.ts`"),
    (verdict(ts=-1), "out_of_range", "`$.ts`"),
    (verdict(signal_id=""), "out_of_range", "`$.signal_id`"),
    (verdict(note="x" * 2001), "too_long", "`$.note`"),
    (verdict(reviewer=7), "wrong_type", "`$.reviewer`"),
    (b"[1, 2]", "not_object", "object"),
    (b"not json", "not_json", "JSON"),
    (None, "not_json", "tombstone"),
    (b"{" + b" " * (1024 * 1024) + b"}", "too_large", "1 MiB"),
])
def test_a_bad_verdict_names_its_field(record: bytes | None, kind: str, field: str) -> None:
    with pytest.raises(BadRecord) as info:
        decode_verdict(record)
    assert info.value.kind == kind and kind in VERDICT_ERROR_KINDS
    assert field in info.value.reason


def test_verdicts_are_counted_by_their_signal_s_type_and_bad_ones_returned() -> None:
    registry = CollectorRegistry()
    metrics = build_metrics(registry)
    asked: list[str] = []

    async def ref_of(signal_id: str) -> SignalRef | None:
        asked.append(signal_id)
        return {"sig_1": SignalRef("price_anomaly", "listing", "li-1")}.get(signal_id)

    async def go() -> list[Any]:
        return [await judge_verdict(raw, b"k", 2, offset, ref_of, metrics)
                for offset, raw in enumerate([
                    verdict(), verdict(verdict="false_positive"),
                    verdict(signal_id="sig_gone", verdict="duplicate"),
                    verdict(verdict="spam"), b"\xff not json"])]

    out = asyncio.run(go())

    def count(signal_type: str, kind: str) -> float | None:
        return registry.get_sample_value("riskstream_verdicts_total",
                                         {"signal_type": signal_type, "verdict": kind})
    assert (count("price_anomaly", "confirmed"), count("price_anomaly", "false_positive"),
            count("unknown", "duplicate"), count("report_spike", "confirmed")) == (1, 1, 1, 0)
    assert asked == ["sig_1", "sig_1", "sig_gone"]  # a bad record is never looked up
    assert out[:3] == [None, None, None]
    dead = [d.to_dict() for d in out[3:]]
    assert [(d["source_topic"], d["partition"], d["offset"], d["key"]) for d in dead] == [
        ("governance.verdicts", 2, 3, "k"), ("governance.verdicts", 2, 4, "k")]
    assert dead[0]["error"].startswith("out_of_range: Invalid enum value 'spam'")
    assert dead[0]["raw"] == verdict(verdict="spam").decode()
    assert dead[1]["error"].startswith("not_json:")
    assert registry.get_sample_value("riskstream_events_processed_total",
                                     {"topic": "governance.verdicts"}) == 3
    assert [registry.get_sample_value("riskstream_events_dead_lettered_total",
                                      {"topic": "governance.verdicts", "kind": k})
            for k in ("out_of_range", "not_json", "missing_field")] == [1, 1, 0]


def test_a_verdict_that_ends_a_signal_goes_to_its_entity_as_a_mute() -> None:
    metrics = build_metrics(CollectorRegistry())
    sent: list[Mute] = []

    async def ref_of(signal_id: str) -> SignalRef | None:
        return {"sig_1": SignalRef("price_anomaly", "listing", "li-1")}.get(signal_id)

    async def act(mute: Mute) -> None:
        sent.append(mute)

    async def go() -> None:
        for kind in VERDICTS:
            await judge_verdict(verdict(verdict=kind, reviewer="ana"), b"k", 0, 0, ref_of,
                                metrics, act)
        await judge_verdict(verdict(signal_id="sig_gone", verdict="false_positive"), b"k", 0,
                            0, ref_of, metrics, act)  # not known: no entity to send it to

    asyncio.run(go())
    assert sent == [Mute(entity_key="listing:li-1", signal_type="price_anomaly",
                         signal_id="sig_1", verdict=kind, ts=1_767_225_600_000, reviewer="ana")
                    for kind in ("false_positive", "duplicate")]


@pytest.mark.parametrize(("argv", "field"), [
    (["verdict", "", "confirmed"], "`$.signal_id`"),
    (["verdict", "sig_1", "confirmed", "--note", "x" * 2001], "`$.note`"),
])
def test_the_verdict_command_refuses_what_the_worker_would_dead_letter(
        argv: list[str], field: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*argv, "--broker", "127.0.0.1:1"]) == 2  # refused before any broker
    err = capsys.readouterr().err
    assert err.startswith("riskstream: verdict not sent:") and field in err


class _Position:
    """A follower's consumer that has read up to offset 1 of every partition."""

    async def position(self, tp: TopicPartition) -> int:
        return 1


class _Ends:
    """End offsets from a broker that fails ``failures`` times first; on the first
    answer, the follower is taken to have read ``then_noted``'s signal."""

    def __init__(self, follower: SignalFollower, failures: float,
                 then_noted: tuple[str, str]) -> None:
        self.follower, self.failures, self.then_noted = follower, failures, then_noted
        self.asked = 0

    async def end_offsets(self, tps: list[TopicPartition]) -> dict[TopicPartition, int]:
        self.asked += 1
        if self.asked <= self.failures:
            raise KafkaConnectionError("the broker is gone")
        self.follower.types.note(*self.then_noted, "stream", "st-1")
        return {tp: 1 for tp in tps}


@pytest.mark.parametrize(("failures", "expected"), [(1, "report_spike"), (math.inf, None)])
def test_an_unknown_id_asks_again_while_the_broker_does_not_answer_then_gives_up(
        failures: float, expected: str | None, caplog: pytest.LogCaptureFixture) -> None:
    follower = SignalFollower("127.0.0.1:1")
    follower.catch_up_s = 1.2
    follower._tps = [TopicPartition("risk.signals", 0)]
    ends = _Ends(follower, failures, ("sig_new", "report_spike"))
    follower._consumer, follower._ends = _Position(), ends  # type: ignore[assignment]
    follower.ready.set()
    found = asyncio.run(follower.ref_of("sig_new"))
    assert (found and found.signal_type) == expected
    assert ends.asked >= 2  # asked again after the failure
    gave_up = "end offsets unknown" in caplog.text
    assert gave_up == (expected is None)
