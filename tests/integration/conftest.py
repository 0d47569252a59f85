"""One real local Kafka broker and one worker process, shared by the integration tests.

The broker is the project's own (``streams.localkafka``), started on a free port
in a temporary directory and stopped at the end of the session.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from signals.policy import load_policy
from streams.localkafka import LocalKafka
from streams.localworker import WorkerProcess, free_port_pair
from streams.producer import produce
from streams.simulate import SCENARIOS as SIM_SCENARIOS
from streams.simulate import SimConfig, Simulator, matches


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    kafka = LocalKafka(port=free_port_pair(), data_dir=tmp_path_factory.mktemp("kafka"))
    kafka.start()
    try:
        yield kafka.bootstrap
    finally:
        kafka.stop()


Worker = WorkerProcess


def start_worker(broker: str, workdir: Path, app_id: str) -> WorkerProcess:
    """Start a worker process and wait until its ingest stage runs."""
    w = WorkerProcess(broker, workdir, app_id)
    w.wait_started()
    return w


def stop_worker(w: WorkerProcess) -> None:
    w.stop()


@pytest.fixture(scope="session")
def worker(broker: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Worker]:
    w = start_worker(broker, tmp_path_factory.mktemp("worker"), "rs-it")
    try:
        yield w
    finally:
        stop_worker(w)


# every signal type the default policy detects: each must fire end to end through Kafka
SCENARIOS = tuple(k for k, sp in load_policy().signals.items()
                  if sp.enabled and k in SIM_SCENARIOS)
BAD_RECORDS = [
    (b"s-bad", b"this is not json"),
    (b"s-bad", b"[1, 2, 3]"),
    (b"s-bad", orjson.dumps({"schema_version": 1, "event_id": "bad-1", "event_type": "comment",
                             "ts": 1, "stream_id": "s", "seller_id": "x", "region": "US"})),
    (b"s-bad", b"\xff\xfe\x00 binary"),
]


async def read_all(broker: str, topic: str, until: Any, timeout_s: float) -> list:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=broker, auto_offset_reset="earliest",
                                group_id=None)
    await consumer.start()
    records: list = []
    deadline = time.monotonic() + timeout_s
    try:
        while time.monotonic() < deadline and not until(records):
            batch = await consumer.getmany(timeout_ms=1000)
            for recs in batch.values():
                records.extend(recs)
    finally:
        await consumer.stop()
    return records


@pytest.fixture(scope="session")
def run(broker: str, worker: Worker) -> dict[str, Any]:
    # yesterday 00:00 UTC: recent enough for the worker's time limits, and the same
    # time of day (so the same simulated traffic, diurnal curve included) on every run
    day_ms = 86_400_000
    sim = Simulator(SimConfig(seed=11, rate=60, duration_s=2400, scenarios=SCENARIOS,
                              start_ts=(int(time.time() * 1000) // day_ms - 1) * day_ms))
    events = list(sim.events())
    half = len(events) // 2

    async def go() -> None:
        await produce(iter(events[:half]), broker, speed=0, pace_from_ts=0)
        producer = AIOKafkaProducer(bootstrap_servers=broker)
        await producer.start()
        for key, value in BAD_RECORDS:
            await producer.send_and_wait("livestream.events", value, key=key)
        await producer.stop()
        await produce(iter(events[half:]), broker, speed=0, pace_from_ts=0)

    asyncio.run(go())
    labels = sim.labels()

    def found(records: list) -> bool:
        got = [orjson.loads(r.value) for r in records]
        return all(any(matches(lb, s) for s in got) for lb in labels)

    records = asyncio.run(read_all(broker, "risk.signals", found, timeout_s=240))
    # the last windows close only when event time moves on: give stray signals a moment
    time.sleep(3)
    records = asyncio.run(read_all(broker, "risk.signals", lambda r: False, timeout_s=5))
    return {"labels": labels, "signals": [orjson.loads(r.value) for r in records],
            "events": len(events)}
