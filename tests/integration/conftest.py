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
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.structs import TopicPartition

from signals.policy import load_policy
from streams.localkafka import LocalKafka
from streams.localworker import WorkerProcess, free_port_pair
from streams.producer import produce
from streams.simulate import SCENARIOS as SIM_SCENARIOS
from streams.simulate import SimConfig, Simulator, matches
from streams.topics import key_partition


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


def thin_campaign(window_start: int, partitions: int = 4) -> tuple[list, dict[str, Any]]:
    """Seven accounts post one text once each in one window, in seven streams of the
    input partitions 3, 2, 1 and 1 at a time: only a merge of every partition's part,
    one-account parts included, sees the 6 accounts ``coordinated_comments`` needs.
    The records, keyed as the producer keys them, and the scenario's label."""
    streams: dict[int, list[str]] = {}
    for i in range(1_000):
        stream = f"st-thin-{i}"
        streams.setdefault(key_partition(stream.encode(), partitions), []).append(stream)
    picked = [s for part, n in zip(sorted(streams), (3, 2, 1, 1), strict=False)
              for s in streams[part][:n]]
    accounts = [f"bot-thin-{n}" for n in range(len(picked))]
    records = [(stream.encode(), orjson.dumps({
        "schema_version": 1, "event_id": f"thin-{n}", "event_type": "comment",
        "ts": window_start + 1_000 * (n + 1), "stream_id": stream, "seller_id": "sl-thin",
        "region": "US", "user_id": account, "account_age_days": 1,
        "text": "join my telegram channel for wholesale replica watches at factory price"}))
        for n, (stream, account) in enumerate(zip(picked, accounts, strict=True))]
    label = {"scenario": "coordinated_comments", "entity_type": "account_cluster",
             "entity_id": "thin-campaign", "region": "US", "start_ts": window_start,
             "end_ts": window_start + 60_000, "accounts": accounts}
    return records, label


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


async def committed_past(broker: str, group: str, records: list[Any]) -> bool:
    """Whether consumer group ``group`` has committed past each of ``records`` (a
    restarted worker of that group reads none of them again)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=broker)
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(group)
    finally:
        await admin.close()
    return all((meta := offsets.get(TopicPartition(r.topic, r.partition))) is not None
               and meta.offset > r.offset for r in records)


async def send(broker: str, records: list[tuple[str, bytes, bytes | None]]) -> None:
    """Write ``(topic, key, value)`` records, each acknowledged before the next."""
    producer = AIOKafkaProducer(bootstrap_servers=broker)
    await producer.start()
    try:
        for topic, key, value in records:
            await producer.send_and_wait(topic, value, key=key)
    finally:
        await producer.stop()


@pytest.fixture(scope="session")
def run(broker: str, worker: Worker) -> dict[str, Any]:
    # yesterday 00:00 UTC: recent enough for the worker's time limits, and the same
    # time of day (so the same simulated traffic, diurnal curve included) on every run
    day_ms = 86_400_000
    sim = Simulator(SimConfig(seed=11, rate=60, duration_s=2400, scenarios=SCENARIOS,
                              start_ts=(int(time.time() * 1000) // day_ms - 1) * day_ms))
    events = list(sim.events())
    half = len(events) // 2
    # sent between the halves, into the window the first half ends in: still open on
    # every partition, and no later than the second half's first event, so no event of
    # the second half arrives after its window closed
    thin, thin_label = thin_campaign(events[half][2]["ts"] // 60_000 * 60_000)

    async def go() -> None:
        await produce(iter(events[:half]), broker, speed=0, pace_from_ts=0)
        producer = AIOKafkaProducer(bootstrap_servers=broker)
        await producer.start()
        for key, value in BAD_RECORDS + thin:
            await producer.send_and_wait("livestream.events", value, key=key)
        await producer.stop()
        await produce(iter(events[half:]), broker, speed=0, pace_from_ts=0)

    asyncio.run(go())
    labels = [*sim.labels(), thin_label]

    def found(records: list) -> bool:
        got = [orjson.loads(r.value) for r in records]
        return all(any(matches(lb, s) for s in got) for lb in labels)

    records = asyncio.run(read_all(broker, "risk.signals", found, timeout_s=240))
    # the last windows close only when event time moves on: give stray signals a moment
    time.sleep(3)
    records = asyncio.run(read_all(broker, "risk.signals", lambda r: False, timeout_s=5))
    return {"labels": labels, "signals": [orjson.loads(r.value) for r in records],
            "events": len(events) + len(thin)}
