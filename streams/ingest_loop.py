"""The batched ingest stage of the worker: aiokafka ``getmany`` around :class:`IngestCore`.

Raw input records never pass through Faust's per-message machinery: they are
fetched in batches, decoded, validated and folded per partition here. Only
closed-window aggregates (orders of magnitude fewer records) go on, to the
windows topic that the Faust detection agent reads; bad records go to the
dead-letter topic. Input offsets are committed only up to the oldest open
window of each partition, after everything before it was acknowledged, so the
open windows need no per-record state writes: after a crash the input topic
itself is replayed to rebuild them. Partitions are folded in step in event time
(:mod:`streams.align`), so a worker catching up on a backlog reads them as they
happened, not a fetch of one partition minutes ahead of another. A stream's category, which its
``stream_start`` alone gives, is stored (``remember``) and acknowledged before
any commit past that event, so a replay that resumes after it still knows it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import CommitFailedError
from aiokafka.structs import OffsetAndMetadata

from signals.aggregate import (
    BATCH_KEY,
    FIRST_USES_KEY,
    SOURCE_HEADER,
    WATERMARK_KEY,
    FirstUse,
    WindowAggregate,
    encode_batch,
    encode_first_uses,
    encode_watermark,
)
from signals.metrics import Metrics
from signals.pins import PIN_HEADER, PIN_KEY, PIN_VALUE, encode_pin
from streams.align import Alignment
from streams.contract import INPUT_TOPICS
from streams.idle import IdleClocks
from streams.ingest import BatchOutput, IngestCore
from streams.topics import DLQ_TOPIC, key_partition
from streams.windows import StreamStart

log = logging.getLogger("riskstream.ingest")

COMMIT_INTERVAL_S = 1.0
WINDOWS_PER_RECORD = 200  # closed windows batched into one windows-topic record
FIRST_USES_PER_RECORD = 1000  # texts one account used (~150 bytes each), in one record
LAG_INTERVAL_S = 2.0
REBALANCE_TIMEOUT_MS = 10_000  # how long a rebalance waits for this worker to rejoin
IDLE_S = 30.0  # a partition that delivered nothing this long holds no other back


class _Rebalance(ConsumerRebalanceListener):
    """Commit what is safe before partitions go; forget their windows (the new owner rebuilds)."""

    def __init__(self, loop: IngestLoop) -> None:
        self.loop = loop

    async def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        async with self.loop.folding:  # not in the middle of a batch: its sends acked
            await self.loop.commit()
            for tp in revoked:
                self.loop.core.drop(tp.topic, tp.partition)
                self.loop.pending.pop(tp, None)
                self.loop.aligned.forget(tp)
                self.loop.fetched_at.pop(tp, None)
                self.loop.idle.forget(tp)

    async def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
        log.info("input partitions assigned", extra={"partitions": len(assigned)})
        if self.loop.on_assigned is not None:
            await self.loop.on_assigned()


class IngestLoop:
    """Consumes the input topics in batches and feeds closed windows onwards."""

    def __init__(
        self,
        core: IngestCore,
        metrics: Metrics,
        broker: str,
        group_id: str,
        windows_topic: str,
        wants: Callable[[WindowAggregate], bool],
        batch_max_records: int = 5000,
        read_skew_ms: int = 10_000,
        windows_partitions: int = 4,
        spread_topics: tuple[str, ...] = (),
        remember: Callable[[list[StreamStart]], Awaitable[list[asyncio.Future[Any]]]] | None = None,
        on_assigned: Callable[[], Awaitable[object]] | None = None,
        idle_close_ms: int = 10_000,
    ) -> None:
        """``remember``: stores the categories of streams that started, returning the
        sends to await before the next commit. ``on_assigned``: awaited when input
        partitions are assigned, before any is read (the worker: the state store
        catching up, so the categories their last owner stored are known).
        ``read_skew_ms``: how far in event time one partition is folded past the
        earliest one with records left (:mod:`streams.align`). ``idle_close_ms``: how
        long a live, caught-up partition delivers nothing before its event time follows
        the wall clock, less as much, closing its windows (:mod:`streams.idle`; 0: never)."""
        self.remember = remember
        self.on_assigned = on_assigned
        self.windows_partitions = windows_partitions
        self.spread_topics = spread_topics
        self.marked: dict[TopicPartition, int] = {}
        self.core = core
        self.metrics = metrics
        self.broker = broker
        self.group_id = group_id
        self.windows_topic = windows_topic
        self.wants = wants
        self.batch_max_records = batch_max_records
        self.pending: dict[TopicPartition, int] = {}
        # fetched records not folded yet, and what is known of each partition's progress
        self.aligned: Alignment[TopicPartition] = Alignment(read_skew_ms,
                                                            cap=2 * batch_max_records)
        self.fetched_at: dict[TopicPartition, float] = {}  # when records last came
        self.idle: IdleClocks[TopicPartition] = IdleClocks(idle_close_ms)
        self.consumer: AIOKafkaConsumer | None = None
        self.producer: AIOKafkaProducer | None = None
        # held while fetched records are folded and their windows sent: a rebalance
        # waits for that, so no partition is folded or committed after it is revoked
        self.folding = asyncio.Lock()

    async def commit(self) -> None:
        """Commit the safe offsets gathered since the last commit."""
        if not self.pending or self.consumer is None:
            return
        offsets = {tp: OffsetAndMetadata(off, "") for tp, off in self.pending.items()}
        self.pending = {}
        try:
            await self.consumer.commit(offsets)
        except CommitFailedError:  # nothing lost: the partitions' next owner reads them again
            log.warning("offsets not committed: the group rebalanced without this worker "
                        "(a batch took longer than the rebalance timeout); it rejoins",
                        extra={"partitions": len(offsets)})

    async def run(self, on_ready: Callable[[], Awaitable[None]] | None = None) -> None:
        self.consumer = AIOKafkaConsumer(
            bootstrap_servers=self.broker, group_id=self.group_id, enable_auto_commit=False,
            auto_offset_reset="earliest", max_partition_fetch_bytes=4 * 1024 * 1024,
            fetch_max_bytes=16 * 1024 * 1024, fetch_max_wait_ms=100,
            # a rebalance waits for the batch being folded (``folding``): a batch
            # longer than this leaves the worker out of it (it logs and rejoins)
            rebalance_timeout_ms=REBALANCE_TIMEOUT_MS,
        )
        self.consumer.subscribe(list(INPUT_TOPICS), listener=_Rebalance(self))
        self.producer = AIOKafkaProducer(
            bootstrap_servers=self.broker, linger_ms=5, max_batch_size=256 * 1024,
        )
        await self.producer.start()
        await self.consumer.start()
        if on_ready is not None:
            await on_ready()
        try:
            await self._loop()
        finally:
            await self.consumer.stop()
            await self.producer.stop()

    async def _loop(self) -> None:
        assert self.consumer is not None and self.producer is not None
        consumer = self.consumer
        last_commit = time.monotonic()
        last_lag = -LAG_INTERVAL_S  # the lag gauges are set before the first fold
        while True:
            batches = await consumer.getmany(timeout_ms=200, max_records=self.batch_max_records)
            now = time.monotonic()
            for tp, records in batches.items():
                if records:
                    self.aligned.add(tp, records)
                    self.fetched_at[tp] = now
            async with self.folding:
                if now - last_lag >= LAG_INTERVAL_S:  # positions of the assigned partitions
                    await self._update_gauges()
                    last_lag = now
                sends: list[asyncio.Future[Any]] = []
                now_ms = int(time.time() * 1000)
                while await self._fold_due(now, now_ms, sends):
                    pass
                await self._close_quiet(now_ms, sends)
                self._flow()
                if sends:
                    await asyncio.gather(*sends)
                now = time.monotonic()
                if now - last_commit >= COMMIT_INTERVAL_S:
                    await self.commit()
                    last_commit = now

    async def _fold_due(self, now: float, now_ms: int, sends: list[asyncio.Future[Any]]) -> bool:
        """Fold every partition's buffered records up to the alignment limit; False
        once that moved nothing (no record folded, no first event time learned)."""
        aligned = self.aligned
        limit = aligned.limit(await self._waiting(now))
        moved = False
        for tp in aligned.due(limit):
            records = aligned.records(tp)
            out = self.core.process(tp.topic, tp.partition, records, now_ms, until_ts=limit)
            moved = moved or out.consumed > 0 or out.head_ts is not None
            if not out.consumed:
                aligned.folded(tp, 0, out.head_ts)
                continue
            next_offset = records[out.consumed - 1].offset + 1
            created = records[0].timestamp / 1000.0
            if out.last_ts is not None:
                self.idle.delivered(tp, now_ms, records[out.consumed - 1].timestamp,
                                    out.last_ts)
            aligned.folded(tp, out.consumed, out.head_ts)  # drops them from ``records``
            if out.started and self.remember is not None:
                sends.extend(await self.remember(out.started))
            sends.extend(await self._forward(out, tp))
            if tp.topic in self.spread_topics:
                sends.extend(await self._watermark(tp))
            self._count(tp.topic, out)
            self.pending[tp] = self.core.commit_offset(tp.topic, tp.partition, next_offset)
            self.metrics.processing_latency.labels(topic=tp.topic).observe(
                max(time.time() - created, 0.0))
        return moved

    async def _waiting(self, now: float) -> list[tuple[TopicPartition, int | None]]:
        """Partitions with nothing buffered that the broker holds more of, with the
        event time each reached (None: nothing folded yet). One that delivered nothing
        for :data:`IDLE_S` (since it was assigned) holds no other back: a safety net."""
        assert self.consumer is not None
        out = []
        for tp in self.consumer.assignment():
            at = self.fetched_at.setdefault(tp, now)
            if self.aligned.buffered(tp) or now - at >= IDLE_S:
                continue
            high = self.consumer.highwater(tp)
            if high is not None and high > await self.consumer.position(tp):
                out.append((tp, self.core.reached(tp.topic, tp.partition)))
        return out

    async def _close_quiet(self, now_ms: int, sends: list[asyncio.Future[Any]]) -> None:
        """Move the event time of each quiet, caught-up partition of live events on with
        the wall clock (:mod:`streams.idle`), closing the windows that completes."""
        assert self.consumer is not None
        if not self.idle.idle_ms:  # off: no partition's position to look up every turn
            return
        consumer = self.consumer
        for tp in consumer.assignment():
            high = consumer.highwater(tp)
            position = -1 if high is None else await consumer.position(tp)
            caught_up = high is not None and position >= high and not self.aligned.buffered(tp)
            clock = self.idle.clock(tp, now_ms, consumer.last_poll_timestamp(tp), caught_up)
            if clock is None:
                continue
            out = self.core.advance(tp.topic, tp.partition, clock)
            if out.closed or out.first_uses:
                self.metrics.windows_closed_idle.labels(topic=tp.topic).inc(len(out.closed))
                sends.extend(await self._forward(out, tp))
                self.pending[tp] = self.core.commit_offset(tp.topic, tp.partition, position)
            if tp.topic in self.spread_topics:
                sends.extend(await self._watermark(tp))

    def _flow(self) -> None:
        """Pause the partitions whose buffer is full; resume those drained to half."""
        assert self.consumer is not None
        assigned = self.consumer.assignment()
        full = [tp for tp in self.aligned.to_pause() if tp in assigned]
        if full:
            self.consumer.pause(*full)
        drained = [tp for tp in self.aligned.to_resume(self.consumer.paused()) if tp in assigned]
        if drained:
            self.consumer.resume(*drained)

    async def _watermark(self, tp: TopicPartition) -> list[asyncio.Future[Any]]:
        """Tell every windows partition how far ``tp`` has closed its windows, when that
        moved past a window boundary: the detect stage merges spread entities' partial
        windows once every input partition has closed them."""
        assert self.producer is not None and self.consumer is not None
        closed = self.core.closed_until(tp.topic, tp.partition)
        if closed < 0 or closed // self.core.window_ms <= self.marked.get(tp, -1):
            return []
        self.marked[tp] = closed // self.core.window_ms
        partitions = len(self.consumer.partitions_for_topic(tp.topic) or ())
        value = encode_watermark(tp.topic, tp.partition, partitions, closed)
        return [await self.producer.send(self.windows_topic, value, key=WATERMARK_KEY,
                                         partition=p) for p in range(self.windows_partitions)]

    async def _forward(self, out: BatchOutput, tp: TopicPartition) -> list[asyncio.Future[Any]]:
        assert self.producer is not None
        sends = []
        for dead in out.dead:
            sends.append(await self.producer.send(DLQ_TOPIC, dead.to_json(), key=dead.key))
        for pin in out.pins:  # to the detect stage of the listing's windows
            sends.append(await self.producer.send(
                self.windows_topic, PIN_VALUE, key=PIN_KEY,
                partition=self._windows_partition(pin.entity_key),
                headers=[(PIN_HEADER, encode_pin(pin))]))
        wanted = []
        for agg in out.closed:
            self.metrics.windows_closed.labels(entity_type=agg.entity_type).inc()
            if self.wants(agg):
                wanted.append(agg)
            else:
                self.metrics.windows_skipped.labels(entity_type=agg.entity_type).inc()
        if out.first_uses:
            self.metrics.windows_closed.labels(entity_type=FirstUse.entity_type).inc(
                len(out.first_uses))
        # the input partition they were closed in: the detect stage keeps one partial
        # window per input partition, should a window be closed and sent again
        headers = [(SOURCE_HEADER, f"{tp.topic}:{tp.partition}".encode())]
        sends += await self._send(wanted, encode_batch, BATCH_KEY, WINDOWS_PER_RECORD, headers)
        sends += await self._send(out.first_uses, encode_first_uses, FIRST_USES_KEY,
                                  FIRST_USES_PER_RECORD, headers)
        return sends

    async def _send(self, items: list[Any], encode: Callable[[list[Any]], bytes], key: bytes,
                    per_record: int, headers: list[tuple[str, bytes]]) -> list[asyncio.Future[Any]]:
        """Send windows (or first uses) to the windows partition of each one's entity,
        ``per_record`` to a record."""
        assert self.producer is not None
        by_partition: dict[int, list[Any]] = {}
        for item in items:
            by_partition.setdefault(self._windows_partition(item.key), []).append(item)
        return [await self.producer.send(self.windows_topic, encode(part[i:i + per_record]),
                                         key=key, partition=p, headers=headers)
                for p, part in by_partition.items() for i in range(0, len(part), per_record)]

    def _windows_partition(self, key: str) -> int:
        """The partition Kafka's default partitioner would give an entity's key: one
        entity's windows always meet the same detect partition and state."""
        return key_partition(key.encode(), self.windows_partitions)

    def _count(self, topic: str, out: BatchOutput) -> None:
        m = self.metrics
        if out.processed:
            m.events_processed.labels(topic=topic).inc(out.processed)
        if out.duplicates:
            m.events_duplicate.labels(topic=topic).inc(out.duplicates)
        for kind, n in out.dead_by_kind.items():
            m.events_dead_lettered.labels(topic=topic, kind=kind).inc(n)
        if out.dead:
            first = out.dead[0]
            log.warning("dead-lettered records", extra={
                "topic": topic, "partition": first.partition, "offset": first.offset,
                "count": len(out.dead), "first_error": first.error[:200]})

    async def _update_gauges(self) -> None:
        assert self.consumer is not None
        lag: dict[str, int] = dict.fromkeys(INPUT_TOPICS, 0)
        for tp in self.consumer.assignment():
            high = self.consumer.highwater(tp)
            if high is None:
                continue
            # fetched but not folded yet (held in step, streams.align) is lag too
            lag[tp.topic] += max(high - await self.consumer.position(tp), 0) + \
                self.aligned.buffered(tp)
        for topic, value in lag.items():
            self.metrics.consumer_lag.labels(topic=topic).set(value)
        self.metrics.open_windows.set(self.core.open_windows)
        self.metrics.terms_dropped.inc(self.core.take_terms_dropped())
        if self.core.newest_ts >= 0:
            self.metrics.watermark_ts.set(self.core.newest_ts / 1000.0)
