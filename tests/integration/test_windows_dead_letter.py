"""A windows-topic record the detect stage cannot read is dead-lettered, on a real broker.

Before, the detect agent crashed on such a record ("Crashed reason=ValidationError"),
Faust restarted it, and the record's windows went unjudged with no trace but the log.
Now each goes to ``riskstream.dlq`` with its reason and is counted under its topic,
and the windows after it on the same partition are judged.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import orjson
from aiokafka import AIOKafkaProducer

from signals.aggregate import WATERMARK_KEY, encode_batch
from signals.verdicts import MUTE_HEADER, MUTE_KEY, MUTE_VALUE
from streams.bench.run import fresh_broker
from streams.ingest import IngestCore, Raw
from streams.localworker import WorkerProcess
from streams.topics import DLQ_TOPIC, PUBLIC_TOPICS, ensure_topics
from tests.integration.conftest import read_all
from tests.streams.events import live, raw

APP_ID = "wdl"
WINDOWS_TOPIC = f"{APP_ID}-windows"
BAD = [  # key, value, headers, kind of error
    (b"stream:st-bad", b"not json", [], "not_json"),
    (b"stream:st-bad", orjson.dumps([{"entity_type": "stream"}]), [], "missing_field"),
    (WATERMARK_KEY, b'{"topic": "listing.events", "partition": "two", "partitions": 4, '
                    b'"closed_until": 60000}', [], "wrong_type"),
    (MUTE_KEY, MUTE_VALUE, [(MUTE_HEADER, b"{}")], "missing_field"),
]


def _a_stream_window() -> bytes:
    """One closed window of a stream, as the ingest stage writes it."""
    core = IngestCore(window_ms=60_000, lateness_ms=10_000, young_days=7)
    now = int(time.time() * 1000) // 60_000 * 60_000 - 120_000
    core.process("livestream.events", 0, [
        Raw(0, b"st-ok", raw(live(event_id="a", stream_id="st-ok", ts=now, viewers=120)))])
    closed = core.advance("livestream.events", 0, now + 80_000).closed
    assert [w.entity_id for w in closed] == ["st-ok"]
    return encode_batch(closed)


async def _send_to_partition_0(broker: str,
                               records: list[tuple[bytes, bytes, list]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=broker)
    await producer.start()
    try:
        for key, value, headers in records:
            await producer.send_and_wait(WINDOWS_TOPIC, value, key=key, partition=0,
                                         headers=headers)
    finally:
        await producer.stop()


def test_a_windows_record_the_detect_stage_cannot_read_is_dead_lettered(
        tmp_path: Path) -> None:
    with fresh_broker(tmp_path, "kafka") as broker:
        asyncio.run(ensure_topics(broker, PUBLIC_TOPICS, 4))
        worker = WorkerProcess(broker, tmp_path / "worker", APP_ID)
        try:
            worker.wait_started()
            asyncio.run(_send_to_partition_0(broker, [
                *[(key, value, headers) for key, value, headers, _ in BAD],
                (b"stream:st-ok", _a_stream_window(), [])]))
            deadline = time.monotonic() + 60
            while (worker.metric("riskstream_windows_evaluated_total", entity_type="stream") < 1
                   and time.monotonic() < deadline):
                time.sleep(0.5)
            judged = worker.metric("riskstream_windows_evaluated_total", entity_type="stream")
            dead = {kind: worker.metric("riskstream_events_dead_lettered_total",
                                        topic=WINDOWS_TOPIC, kind=kind)
                    for kind in ("not_json", "missing_field", "wrong_type")}
        finally:
            worker.stop()
        letters = [orjson.loads(r.value) for r in asyncio.run(read_all(
            broker, DLQ_TOPIC, lambda r: len(r) >= len(BAD), timeout_s=30))]
    log = worker.log.read_text()
    assert judged == 1, log[-3000:]
    assert dead == {"not_json": 1, "missing_field": 2, "wrong_type": 1}
    letters.sort(key=lambda d: d["offset"])  # keyed apart: on several DLQ partitions
    assert [(d["source_topic"], d["partition"], d["offset"], d["error"].split(":")[0])
            for d in letters] == [(WINDOWS_TOPIC, 0, i, kind) for i, (*_, kind) in enumerate(BAD)]
    assert letters[0]["raw"] == "not json" and letters[0]["key"] == "stream:st-bad"
    assert "a watermark: Expected `int`, got `str` - at `$.partition`" in letters[2]["error"]
    assert "Crashed" not in log
