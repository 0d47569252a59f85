"""The ingest loop folds a backlog's partitions in step in event time, on a real broker.

Ten simulated minutes are preloaded into 4 partitions a topic; the ingest loop
reads them from the start, as a worker catching up does. Each partition's
fetch holds minutes of events, so read as fetched the partitions of a topic
run minutes apart; aligned, no partition is folded more than about the allowed
skew past the earliest one that still has records left.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from aiokafka import AIOKafkaConsumer, TopicPartition
from prometheus_client import CollectorRegistry

from signals.metrics import build_metrics
from streams.bench.run import fresh_broker
from streams.bench.throughput import preload
from streams.contract import INPUT_TOPICS
from streams.ingest import IngestCore
from streams.ingest_loop import IngestLoop
from streams.simulate import SimConfig, Simulator

PARTITIONS = 4


async def _widest_spread(broker: str, read_skew_ms: int) -> float:
    """Read every input record with an ingest loop; the widest event-time spread (s)
    between the partitions of a topic that still had records left, after any fold."""
    probe = AIOKafkaConsumer(bootstrap_servers=broker)
    await probe.start()
    tps = [TopicPartition(t, p) for t in INPUT_TOPICS for p in range(PARTITIONS)]
    ends = await probe.end_offsets(tps)
    await probe.stop()
    core = IngestCore(window_ms=60_000, lateness_ms=10_000, young_days=7)
    done: dict[TopicPartition, int] = {}
    widest = 0.0
    process = core.process

    def watched(topic, partition, records, now_ms=None, until_ts=None):  # type: ignore[no-untyped-def]
        nonlocal widest
        out = process(topic, partition, records, now_ms, until_ts)
        if out.consumed:
            done[TopicPartition(topic, partition)] = records[out.consumed - 1].offset + 1
        for t in INPUT_TOPICS:
            left = [core.reached(t, p) for p in range(PARTITIONS)
                    if done.get(TopicPartition(t, p), 0) < ends[TopicPartition(t, p)]]
            times = [ts for ts in left if ts is not None]
            if len(times) > 1:
                widest = max(widest, (max(times) - min(times)) / 1000.0)
        return out

    core.process = watched  # type: ignore[method-assign]
    loop = IngestLoop(core, build_metrics(CollectorRegistry()), broker,
                      f"aligned-{read_skew_ms}", "aligned-windows", lambda agg: True,
                      read_skew_ms=read_skew_ms)
    task = asyncio.create_task(loop.run())
    try:
        async with asyncio.timeout(120):
            while sum(done.values()) < sum(ends.values()):
                await asyncio.sleep(0.05)
                if task.done():
                    task.result()  # the loop failed: raise its error
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    return widest


def test_a_backlog_is_folded_in_step_across_partitions(tmp_path: Path) -> None:
    sim = Simulator(SimConfig(seed=5, rate=150, duration_s=600))
    with fresh_broker(tmp_path, "kafka") as broker:
        asyncio.run(preload(broker, list(sim.events()), PARTITIONS, 71_000))
        as_fetched = asyncio.run(_widest_spread(broker, read_skew_ms=10**12))
        aligned = asyncio.run(_widest_spread(broker, read_skew_ms=10_000))
    assert as_fetched > 60.0, as_fetched  # what the alignment is for
    assert aligned <= 40.0, aligned
