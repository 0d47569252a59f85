"""A worker counts ``governance.verdicts`` by their signal's type, on a real broker.

One signal is on ``risk.signals`` before the worker starts (read back), another
is written while it runs, each followed at once by its verdict (the worker reads
``risk.signals`` on before it judges an id it does not know yet). A verdict on an
id never emitted, sent with ``riskstream verdict``, counts as ``unknown``; the demo's
reviewer judges two more by the simulator's labels; bad verdicts go to the
dead-letter topic with their reasons, and are counted.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from pathlib import Path

import orjson
from aiokafka import AIOKafkaProducer

from signals.record import Signal, signal_id
from streams.bench.run import fresh_broker
from streams.contract import VERDICTS_TOPIC
from streams.demo_reviewer import DemoReviewer
from streams.localworker import WorkerProcess
from streams.topics import DLQ_TOPIC, PUBLIC_TOPICS, SIGNALS_TOPIC, ensure_topics
from tests.integration.conftest import read_all, send


def a_signal(signal_type: str, entity_type: str, entity_id: str) -> Signal:
    now = int(time.time() * 1000)
    return Signal(signal_id=signal_id(signal_type, entity_type, entity_id, now),
                  signal_type=signal_type, status="open", entity_type=entity_type,
                  entity_id=entity_id, region="US", severity="high", score=0.9,
                  detector="test", detector_version="1", window_start=now - 60_000,
                  window_end=now, first_seen_ts=now, emitted_ts=now)


def a_verdict(sig_id: str, verdict: str) -> bytes:
    return orjson.dumps({"schema_version": 1, "signal_id": sig_id, "verdict": verdict,
                         "ts": int(time.time() * 1000), "reviewer": "rev-1"})


async def demo_review(broker: str, labels: Path, signals: list[Signal]) -> list[str | None]:
    """The demo's reviewer's verdicts on ``signals``, sent to ``broker``."""
    producer = AIOKafkaProducer(bootstrap_servers=broker)
    await producer.start()
    try:
        reviewer = DemoReviewer(labels, producer)
        return [await reviewer.review(orjson.loads(sig.to_json())) for sig in signals]
    finally:
        await producer.stop()


def test_verdicts_are_counted_by_signal_type_and_bad_ones_dead_lettered(tmp_path: Path) -> None:
    earlier = a_signal("report_spike", "stream", "st-1")
    later = a_signal("price_anomaly", "listing", "li-1")
    burst, stray = a_signal("listing_burst", "seller", "sl-1"), a_signal(
        "purchase_anomaly", "stream", "st-2")
    labels = tmp_path / "labels.jsonl"  # as the simulator writes them: sl-1's burst only
    labels.write_bytes(orjson.dumps({"scenario": "listing_burst", "entity_type": "seller",
                                     "entity_id": "sl-1", "region": "US"}) + b"\n")
    bad = [b'{"schema_version": 1, "signal_id": "sig_x", "verdict": "spam", "ts": 1}',
           b'{"schema_version": 1, "verdict": "confirmed", "ts": 1}', b"not json"]
    with fresh_broker(tmp_path, "kafka") as broker:
        asyncio.run(ensure_topics(broker, PUBLIC_TOPICS, 4))
        asyncio.run(send(broker, [(SIGNALS_TOPIC, b"st-1", earlier.to_json())]))
        worker = WorkerProcess(broker, tmp_path / "worker", "verdicts")
        try:
            worker.wait_started()
            asyncio.run(send(broker, [
                (VERDICTS_TOPIC, earlier.signal_id.encode(),
                 a_verdict(earlier.signal_id, "confirmed")),
                (SIGNALS_TOPIC, b"li-1", later.to_json()),
                (VERDICTS_TOPIC, later.signal_id.encode(),
                 a_verdict(later.signal_id, "false_positive")),
                *[(VERDICTS_TOPIC, b"bad", raw) for raw in bad]]))
            sent = subprocess.run(  # the command a reviewer can send one with
                [sys.executable, "-m", "streams.cli", "verdict", "sig_never", "duplicate",
                 "--broker", broker, "--reviewer", "rev-2"],
                check=True, capture_output=True, text=True)
            assert '"verdict":"duplicate"' in sent.stderr
            asyncio.run(send(broker, [(SIGNALS_TOPIC, b"sl-1", burst.to_json()),
                                      (SIGNALS_TOPIC, b"st-2", stray.to_json())]))
            reviewed = asyncio.run(demo_review(broker, labels, [burst, stray]))

            def counted() -> float:
                return (worker.metric("riskstream_verdicts_total")
                        + worker.metric("riskstream_events_dead_lettered_total",
                                        topic=VERDICTS_TOPIC))
            deadline = time.monotonic() + 60
            while counted() < 8 and time.monotonic() < deadline:
                time.sleep(0.5)
            got = {(signal_type, verdict): worker.metric(
                       "riskstream_verdicts_total", signal_type=signal_type, verdict=verdict)
                   for signal_type, verdict in [
                       ("report_spike", "confirmed"), ("price_anomaly", "false_positive"),
                       ("unknown", "duplicate"), ("listing_burst", "confirmed"),
                       ("purchase_anomaly", "false_positive")]}
            total = worker.metric("riskstream_verdicts_total")
            dead_kinds = {kind: worker.metric("riskstream_events_dead_lettered_total",
                                              topic=VERDICTS_TOPIC, kind=kind)
                          for kind in ("out_of_range", "missing_field", "not_json")}
            processed = worker.metric("riskstream_events_processed_total", topic=VERDICTS_TOPIC)
        finally:
            worker.stop()
        dlq = asyncio.run(read_all(broker, DLQ_TOPIC, lambda r: len(r) >= 3, timeout_s=30))
    assert reviewed == ["confirmed", "false_positive"]
    assert got == {("report_spike", "confirmed"): 1, ("price_anomaly", "false_positive"): 1,
                   ("unknown", "duplicate"): 1, ("listing_burst", "confirmed"): 1,
                   ("purchase_anomaly", "false_positive"): 1}
    assert total == 5 and processed == 5
    assert dead_kinds == {"out_of_range": 1, "missing_field": 1, "not_json": 1}
    letters = [orjson.loads(r.value) for r in dlq]
    assert [(d["source_topic"], d["raw"].encode()) for d in letters] == [
        (VERDICTS_TOPIC, raw) for raw in bad]
    assert "`$.verdict`" in letters[0]["error"] and "`signal_id`" in letters[1]["error"]
