"""The worker's reader of ``governance.verdicts``: each verdict validated, then
counted under its signal's type (``riskstream_verdicts_total``), or dead-lettered.

A verdict names its signal by id only. Every worker follows all of
``risk.signals`` from 7 days back (:class:`SignalFollower`) to learn the type and
entity of each signal id, whichever worker emitted it; the verdicts themselves are
shared among the workers like any input topic. Counted, they measure the signals'
precision as their reviewers see it. A ``false_positive`` or ``duplicate`` verdict
also goes, as a :class:`signals.verdicts.Mute`, to the worker that judges the
signal's entity, which resolves the signal and, after a ``false_positive``, opens
no other of its type there for a while (:meth:`signals.engine.Engine.mute`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError

from signals.metrics import Metrics
from signals.verdicts import (
    ENDING_VERDICTS,
    SIGNAL_TYPES_CAPACITY,
    Mute,
    SignalRef,
    SignalTypes,
    verdict_label,
)
from streams.contract import VERDICTS_TOPIC, decode_verdict
from streams.errors import BadRecord
from streams.ingest import DeadLetter
from streams.topics import SIGNALS_TOPIC, assign_all, behind

log = logging.getLogger("riskstream.verdicts")

LOOKBACK_S = 7 * 24 * 3600  # signals older than this are not read back at start
CATCH_UP_S = 5.0  # an unknown id waits at most this for the follower to read to the end


class SignalFollower:
    """Every signal id on ``risk.signals``, its type and entity, from ``lookback_s``
    back (:class:`signals.verdicts.SignalTypes`), kept up to date."""

    def __init__(self, broker: str, topic: str = SIGNALS_TOPIC, lookback_s: int = LOOKBACK_S,
                 capacity: int = SIGNAL_TYPES_CAPACITY) -> None:
        self.broker = broker
        self.topic = topic
        self.lookback_s = lookback_s
        self.types = SignalTypes(capacity)
        self.catch_up_s = CATCH_UP_S
        self.ready = asyncio.Event()
        self._consumer: AIOKafkaConsumer | None = None
        # asks for the topic's end offsets: on the follower's own connection the request
        # would wait behind its fetch, which the broker holds up to 500 ms when idle
        self._ends: AIOKafkaConsumer | None = None
        self._tps: list[TopicPartition] = []

    async def ref_of(self, signal_id: str) -> SignalRef | None:
        """The type and entity of ``signal_id``; an id not read yet waits (up to
        ``catch_up_s``) until the follower has read what the topic holds now: a signal
        and a verdict on it may be written a moment apart."""
        await self.ready.wait()
        found = self.types.ref_of(signal_id)
        if found is None and await self._caught_up(self.catch_up_s):
            found = self.types.ref_of(signal_id)
        return found

    async def _caught_up(self, timeout_s: float) -> bool:
        """Whether the follower read what the topic holds now within ``timeout_s``; a
        broker that does not answer meanwhile is asked again, then ``False``."""
        assert self._consumer is not None and self._ends is not None
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                ends = await asyncio.wait_for(self._ends.end_offsets(self._tps),
                                              max(deadline - time.monotonic(), 0.01))
                break
            except (TimeoutError, KafkaError) as exc:
                if time.monotonic() > deadline:
                    log.warning("risk.signals' end offsets unknown; the verdict's signal "
                                "type may be unknown", extra={"error": repr(exc)[:200]})
                    return False
                await asyncio.sleep(0.5)
        while await behind(self._consumer, ends):
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.05)
        return True

    def _note(self, value: bytes | None) -> None:
        try:
            record = orjson.loads(value or b"")
            self.types.note(record["signal_id"], record["signal_type"], record["entity_type"],
                            record["entity_id"])
        except (orjson.JSONDecodeError, KeyError, TypeError) as exc:
            log.warning("a risk.signals record without signal_id, signal_type, entity_type "
                        "and entity_id; not noted",
                        extra={"error": repr(exc)[:200]})

    async def run(self) -> None:
        """Read back from ``lookback_s`` ago, mark ready, then keep following."""
        consumer = self._consumer = AIOKafkaConsumer(
            bootstrap_servers=self.broker, group_id=None, enable_auto_commit=False,
            auto_offset_reset="earliest")
        self._ends = AIOKafkaConsumer(bootstrap_servers=self.broker, group_id=None,
                                      enable_auto_commit=False)
        await consumer.start()
        await self._ends.start()
        try:
            self._tps = await assign_all(consumer, [self.topic])
            since = int(time.time() * 1000) - self.lookback_s * 1000
            starts = await consumer.offsets_for_times({tp: since for tp in self._tps})
            # nothing that recent: from the end as it is now (``seek_to_end`` would find
            # the end only at the first fetch, past a signal written meanwhile)
            ends = await consumer.end_offsets([tp for tp, at in starts.items() if at is None])
            for tp, start in starts.items():
                consumer.seek(tp, ends[tp] if start is None else start.offset)
            read = await self._read_to_end(consumer)
            log.info("signal ids read back", extra={"records": read, "ids": len(self.types)})
            self.ready.set()
            while True:
                batch = await consumer.getmany(timeout_ms=1000, max_records=10_000)
                for records in batch.values():
                    for rec in records:
                        self._note(rec.value)
        finally:
            await self._ends.stop()
            await consumer.stop()

    async def _read_to_end(self, consumer: AIOKafkaConsumer) -> int:
        ends = await consumer.end_offsets(self._tps)
        read = 0
        while await behind(consumer, ends):
            batch = await consumer.getmany(timeout_ms=500, max_records=10_000)
            for records in batch.values():
                for rec in records:
                    self._note(rec.value)
                    read += 1
        return read


async def judge_verdict(raw: bytes | None, key: bytes | None, partition: int, offset: int,
                        ref_of: Callable[[str], Awaitable[SignalRef | None]],
                        metrics: Metrics,
                        act: Callable[[Mute], Awaitable[None]] | None = None
                        ) -> DeadLetter | None:
    """Count one ``governance.verdicts`` record under its signal's type (``ref_of``:
    :meth:`SignalFollower.ref_of` in a worker), and hand a verdict that ends its
    signal to ``act`` as a :class:`Mute`; a bad one is counted as dead-lettered and
    returned, for the caller to send to the DLQ.

    >>> from prometheus_client import CollectorRegistry
    >>> from signals.metrics import build_metrics
    >>> reg = CollectorRegistry(); m = build_metrics(reg)
    >>> async def ref_of(signal_id):
    ...     return {"sig_1": SignalRef("report_spike", "stream", "st-1")}.get(signal_id)
    >>> ok = b'{"schema_version": 1, "signal_id": "sig_1", "verdict": "confirmed", "ts": 1}'
    >>> asyncio.run(judge_verdict(ok, b"sig_1", 0, 7, ref_of, m)) is None
    True
    >>> reg.get_sample_value("riskstream_verdicts_total",
    ...                      {"signal_type": "report_spike", "verdict": "confirmed"})
    1.0
    >>> async def act(mute): print(mute.entity_key, mute.verdict)
    >>> fp = ok.replace(b"confirmed", b"false_positive")
    >>> asyncio.run(judge_verdict(fp, b"sig_1", 0, 8, ref_of, m, act)) is None
    stream:st-1 false_positive
    True
    >>> asyncio.run(judge_verdict(b'{"schema_version": 1}', None, 0, 9, ref_of, m)).error
    'missing_field: Object missing required field `signal_id`'
    """
    try:
        verdict = decode_verdict(raw)
    except BadRecord as exc:
        metrics.events_dead_lettered.labels(topic=VERDICTS_TOPIC, kind=exc.kind).inc()
        log.warning("dead-lettered a verdict", extra={"offset": offset, "error": str(exc)[:200]})
        return DeadLetter(VERDICTS_TOPIC, partition, offset, key, raw, exc.kind, str(exc))
    ref = await ref_of(verdict.signal_id)
    signal_type = verdict_label(None if ref is None else ref.signal_type)
    metrics.verdicts.labels(signal_type=signal_type, verdict=verdict.verdict).inc()
    metrics.events_processed.labels(topic=VERDICTS_TOPIC).inc()
    log.info("verdict", extra={"signal_id": verdict.signal_id, "signal_type": signal_type,
                               "verdict": verdict.verdict})
    if act is not None and ref is not None and verdict.verdict in ENDING_VERDICTS:
        await act(ref.mute(verdict.signal_id, verdict.verdict, verdict.ts, verdict.reviewer))
    return None
