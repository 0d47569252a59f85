"""A rebalance in the middle of an ingest batch, on a real broker.

An ingest loop is reading a preloaded backlog when a second consumer joins its
group. The loop's first batch is held up (the category store is slow to take
the streams that started) for longer than a heartbeat, so the rebalance begins
while that batch is half folded. The loop must finish the batch first, then
give the partitions up: no partition it lost is folded or committed afterwards,
and the loop goes on reading what it kept.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from aiokafka import AIOKafkaConsumer, TopicPartition
from prometheus_client import CollectorRegistry

from signals.metrics import build_metrics
from streams import ingest_loop
from streams.bench.run import fresh_broker
from streams.bench.throughput import preload
from streams.contract import INPUT_TOPICS
from streams.ingest import IngestCore
from streams.ingest_loop import IngestLoop
from streams.simulate import SimConfig, Simulator

PARTITIONS = 4
GROUP = "rebalance-mid-batch"


async def _rebalance_mid_batch(broker: str, group: str = GROUP, hold_s: float = 6.0
                               ) -> tuple[dict, dict, set, set]:
    """Folds after each partition was dropped, drop times, and the loop's assignment
    before and after the rebalance."""
    core = IngestCore(window_ms=60_000, lateness_ms=10_000, young_days=7)
    folds: list[tuple[TopicPartition, float]] = []
    dropped: dict[TopicPartition, float] = {}
    process, drop = core.process, core.drop

    def watched(topic, partition, records, now_ms=None, until_ts=None):  # type: ignore[no-untyped-def]
        if records:
            folds.append((TopicPartition(topic, partition), time.monotonic()))
        return process(topic, partition, records, now_ms, until_ts)

    def dropping(topic: str, partition: int) -> None:
        dropped[TopicPartition(topic, partition)] = time.monotonic()
        drop(topic, partition)

    core.process, core.drop = watched, dropping  # type: ignore[method-assign]
    joined = asyncio.Event()
    slow = True

    async def remember(started: list) -> list[asyncio.Future]:
        nonlocal slow
        if slow:  # the first streams that started: held until the rebalance is under way
            slow = False
            await joined.wait()  # the other consumer is joining
            await asyncio.sleep(hold_s)  # past a heartbeat (3 s): the group is rebalancing
        return []

    loop = IngestLoop(core, build_metrics(CollectorRegistry()), broker, group,
                      "rebalance-windows", lambda agg: True, remember=remember)
    task = asyncio.create_task(loop.run())
    other = AIOKafkaConsumer(bootstrap_servers=broker, group_id=group,
                             enable_auto_commit=False, auto_offset_reset="earliest")
    try:
        async with asyncio.timeout(120):
            while not folds:
                await asyncio.sleep(0.05)
            assert loop.consumer is not None
            before = set(loop.consumer.assignment())
            other.subscribe(list(INPUT_TOPICS))
            joined.set()  # the held batch goes on hold_s from here
            await other.start()
            while not _shared(set(loop.consumer.assignment()), other.assignment(), before):
                await other.getmany(timeout_ms=200)  # the rebalance waits for the held batch
                if task.done():
                    task.result()
            after = set(loop.consumer.assignment())
            # the loop reads on what it kept, to the end of each partition
            while await _behind(loop.consumer, after):
                await asyncio.sleep(0.2)
                if task.done():
                    task.result()  # the loop failed: raise its error
            await asyncio.sleep(2 * ingest_loop.COMMIT_INTERVAL_S)  # commits it makes
            assert not task.done(), task.result()
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await other.stop()
    late = {}
    for tp, at in folds:
        if tp in dropped and at > dropped[tp] and tp not in after:
            late[tp] = at - dropped[tp]
    return late, dropped, before, after


def _shared(ours: set, theirs: set, everything: set) -> bool:
    """True once the two consumers each hold part of ``everything``, and all of it."""
    return bool(ours) and bool(theirs) and not ours & theirs and ours | theirs == everything


async def _behind(consumer: AIOKafkaConsumer, tps: set[TopicPartition]) -> bool:
    for tp in tps:
        high = consumer.highwater(tp)
        if high is None or await consumer.position(tp) < high:
            return True
    return False


def test_a_rebalance_waits_for_the_batch_and_nothing_lost_is_folded_after(
        tmp_path: Path, caplog) -> None:
    sim = Simulator(SimConfig(seed=11, rate=150, duration_s=300))
    with fresh_broker(tmp_path, "kafka") as broker:
        asyncio.run(preload(broker, list(sim.events()), PARTITIONS, 71_000))
        late, dropped, before, after = asyncio.run(_rebalance_mid_batch(broker))
    assert len(before) == PARTITIONS * len(INPUT_TOPICS)
    assert after and after < before  # the rebalance took partitions away
    assert set(dropped) >= before - after  # and the loop forgot what it lost
    assert late == {}, f"folded after it was given up: {late}"
    assert "offsets not committed" not in caplog.text  # it waited, it was not left out


def test_a_worker_left_out_of_a_rebalance_by_a_long_batch_rejoins(
        tmp_path: Path, monkeypatch, caplog) -> None:
    """A batch held past the rebalance timeout: the group rebalances without the loop,
    whose commit then fails. It is logged, nothing is committed, and the loop rejoins
    and reads on: the partitions it lost are read again by their new owner."""
    monkeypatch.setattr(ingest_loop, "REBALANCE_TIMEOUT_MS", 4_000)
    sim = Simulator(SimConfig(seed=12, rate=150, duration_s=300))
    with fresh_broker(tmp_path, "kafka") as broker:
        asyncio.run(preload(broker, list(sim.events()), PARTITIONS, 71_000))
        late, _, before, after = asyncio.run(
            _rebalance_mid_batch(broker, group="left-out", hold_s=14.0))
    assert after and after < before
    assert late == {}, f"folded after it was given up: {late}"
    assert "offsets not committed: the group rebalanced without this worker" in caplog.text
