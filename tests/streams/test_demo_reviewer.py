"""The demo's reviewer judges each signal that opens by the simulator's labels, and sends
a verdict the worker accepts; the demo's screen shows it and the worker's count."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from pathlib import Path
from typing import Any

import orjson
from rich.console import Console

from signals.text import tokens
from streams.contract import VERDICTS_TOPIC, decode_verdict
from streams.demo import _render
from streams.demo_reviewer import REVIEWER, DemoReviewer, judge
from streams.simulate import SimConfig, Simulator

SURGE = {"scenario": "segment_report_surge", "entity_type": "segment",
         "entity_id": "beauty/skincare|US", "region": "US",
         "related": {"report_spike": ["st-9"]}}


def a_signal(signal_type: str, entity_id: str, status: str = "open") -> dict[str, Any]:
    return {"signal_id": f"sig_{signal_type}_{entity_id}_{status}", "signal_type": signal_type,
            "status": status, "entity_id": entity_id}


def test_a_signal_about_each_injected_scenario_is_confirmed() -> None:
    labels = Simulator(SimConfig(seed=3, rate=20, duration_s=3600)).labels()
    assert len({lb["scenario"] for lb in labels}) == 8
    for label in labels:
        entity = label["entity_id"]
        if label["entity_type"] == "term":
            entity = f"{''.join(tokens(entity))}|{label['region']}"  # as the detector spells it
        sig = a_signal(label["scenario"], entity) | {
            "evidence": {"sample_accounts": label.get("accounts", [])[:3]}}
        verdict, note = judge(sig, labels) or ("", "")
        assert verdict == "confirmed", (label, note)


def test_a_side_effect_of_a_scenario_is_confirmed_and_anything_else_is_a_false_positive() -> None:
    assert judge(a_signal("report_spike", "st-9"), [SURGE]) == (
        "confirmed", "a side effect of the segment_report_surge the simulator injected on "
        "beauty/skincare|US")
    assert judge(a_signal("report_spike", "st-8"), [SURGE]) == (
        "false_positive", "no scenario the simulator injected explains it")
    assert judge(a_signal("segment_report_surge", "beauty/skincare|DE"), [SURGE]) == (
        "false_positive", "no scenario the simulator injected explains it")
    for status in ("update", "resolved"):  # reviewed once, when it opens
        assert judge(a_signal("report_spike", "st-9", status), [SURGE]) is None


class Recording:
    """Stands in for the producer: keeps what it is asked to send."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes, bytes]] = []

    async def send(self, topic: str, value: bytes, key: bytes) -> asyncio.Future[None]:
        self.sent.append((topic, key, value))
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done


def test_the_reviewer_sends_a_valid_verdict_keyed_by_signal_once_its_labels_exist(
        tmp_path: Path) -> None:
    labels = tmp_path / "labels.jsonl"
    producer = Recording()
    reviewer = DemoReviewer(labels, producer)

    async def review(*signals: dict[str, Any]) -> list[str | None]:
        return [await reviewer.review(sig) for sig in signals]

    assert asyncio.run(review(a_signal("report_spike", "st-9"))) == [None]  # no labels yet
    labels.write_bytes(orjson.dumps(SURGE) + b"\n")
    got = asyncio.run(review(a_signal("report_spike", "st-9"), a_signal("report_spike", "st-8"),
                             a_signal("report_spike", "st-9", "update")))
    assert got == ["confirmed", "false_positive", None]
    assert [(topic, key) for topic, key, _ in producer.sent] == [
        (VERDICTS_TOPIC, b"sig_report_spike_st-9_open"),
        (VERDICTS_TOPIC, b"sig_report_spike_st-8_open")]
    records = [decode_verdict(value) for _, _, value in producer.sent]
    assert [(r.signal_id, r.verdict, r.reviewer) for r in records] == [
        ("sig_report_spike_st-9_open", "confirmed", REVIEWER),
        ("sig_report_spike_st-8_open", "false_positive", REVIEWER)]
    assert abs(records[0].ts - time.time() * 1000) < 60_000
    # a label added to the file later is read: a signal about it is confirmed
    labels.write_bytes(labels.read_bytes() + orjson.dumps(
        {"scenario": "report_spike", "entity_type": "stream", "entity_id": "st-7",
         "region": "US"}) + b"\n")
    assert asyncio.run(review(a_signal("report_spike", "st-7"))) == ["confirmed"]


def test_the_screen_shows_each_signals_verdict_and_the_workers_count() -> None:
    sig = {"signal_id": "sig_1", "emitted_ts": 0, "signal_type": "report_spike",
           "status": "open", "entity_type": "stream", "entity_id": "st-9", "severity": "high",
           "score": 0.9, "observed": {}, "baseline": {}}
    console = Console(width=80, color_system=None)
    with console.capture() as out:
        console.print(_render(deque([sig]), {"riskstream_verdicts_total": 7,
                                             "riskstream_verdicts_total:false_positive": 2},
                              time.monotonic(), "http://x/metrics", {"sig_1": "false_positive"}))
    text = out.get()
    assert "verdicts counted 7 (false positive 2)" in text
    lines = text.splitlines()
    under = lines[next(i for i, line in enumerate(lines) if line.rstrip().endswith("st-9")) + 1]
    assert under.split()[0] == "false_positive:"  # on the line under it, never cut off
