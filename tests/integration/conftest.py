"""One real local Kafka broker and one worker process, shared by the integration tests.

The broker is the project's own (``streams.localkafka``), started on a free port
in a temporary directory and stopped at the end of the session.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from streams.localkafka import LocalKafka
from streams.producer import produce
from streams.simulate import SimConfig, Simulator


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _free_pair() -> int:
    """A port whose successor is free too (broker + controller)."""
    for _ in range(50):
        port = free_port()
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port + 1)) != 0:
                return port
    raise RuntimeError("no free port pair")


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    kafka = LocalKafka(port=_free_pair(), data_dir=tmp_path_factory.mktemp("kafka"))
    kafka.start()
    try:
        yield kafka.bootstrap
    finally:
        kafka.stop()


class Worker:
    def __init__(self, proc: subprocess.Popen, metrics_url: str, log: Path) -> None:
        self.proc = proc
        self.metrics_url = metrics_url
        self.log = log

    def metric(self, name: str, **labels: str) -> float:
        """Sum of the samples of ``name`` whose labels include ``labels``."""
        from prometheus_client.parser import text_string_to_metric_families

        with urllib.request.urlopen(self.metrics_url, timeout=5) as resp:
            text = resp.read().decode()
        total = 0.0
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name == name and labels.items() <= sample.labels.items():
                    total += sample.value
        return total


def start_worker(broker: str, workdir: Path, app_id: str) -> Worker:
    """Start a worker process and wait until its ingest stage runs."""
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    env = dict(os.environ, RISKSTREAM_BROKER=broker, RISKSTREAM_METRICS_PORT=str(port),
               RISKSTREAM_DATA_DIR=str(workdir / "data"), RISKSTREAM_APP_ID=app_id)
    log = workdir / f"worker-{port}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "streams.cli", "worker"], env=env,
                                stdout=out, stderr=subprocess.STDOUT)
    w = Worker(proc, f"http://127.0.0.1:{port}/metrics", log)
    deadline = time.monotonic() + 180
    while b"ingest started" not in log.read_bytes():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"worker did not start:\n{log.read_text()[-3000:]}")
        time.sleep(0.5)
    return w


def stop_worker(w: Worker) -> None:
    w.proc.terminate()
    try:
        w.proc.wait(30)
    except subprocess.TimeoutExpired:
        w.proc.kill()
        w.proc.wait()


@pytest.fixture(scope="session")
def worker(broker: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Worker]:
    w = start_worker(broker, tmp_path_factory.mktemp("worker"), "rs-it")
    try:
        yield w
    finally:
        stop_worker(w)


SCENARIOS = ("report_spike", "viewer_inflation")
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
    sim = Simulator(SimConfig(seed=11, rate=60, duration_s=2400, scenarios=SCENARIOS,
                              start_ts=int(time.time() * 1000)))
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
    wanted = {(lb["scenario"], lb["entity_id"]) for lb in labels}

    def found(records: list) -> bool:
        got = {(s["signal_type"], s["entity_id"]) for s in map(lambda r: orjson.loads(r.value),
                                                                records)}
        return wanted <= got

    records = asyncio.run(read_all(broker, "risk.signals", found, timeout_s=240))
    # the last windows close only when event time moves on: give stray signals a moment
    time.sleep(3)
    records = asyncio.run(read_all(broker, "risk.signals", lambda r: False, timeout_s=5))
    return {"labels": labels, "signals": [orjson.loads(r.value) for r in records],
            "events": len(events)}
