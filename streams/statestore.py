"""Per-entity detector state, kept in memory and in a compacted Kafka topic.

Each worker restores every entity's state from the compacted topic at start,
then keeps following it, so whichever worker a rebalance hands an entity to
already holds its baselines. Writes happen once per entity per closed window
(never per event). Updates are merged by the state's ``last_ws`` (the start of
the newest window it has seen), then whether it was cut down, then its ``rev``
(the changes made since that window: a reviewer's verdict, a pin), so an older
copy read back from the topic can never overwrite a newer one held in memory,
and a restore keeps the newest copy whether or not the topic was compacted yet.
States are held as their compact
encoding (:mod:`signals.state`), the same bytes as on the topic.

Why not a Faust table: with faust-streaming 0.15.3 (and 0.11.3) against the
local Kafka 3.9 broker, a worker restarted on a non-empty changelog waited in
table recovery forever ("No event received for active tp"), which would stop a
restarted worker from ever emitting signals. This store has the same contract
(state survives a crash or a rebalance) with a restore path we control.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable, Iterator
from typing import Any

import msgspec
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from signals.state import EntityState, decode_state, encode_state, last_window
from streams.topics import behind
from streams.windows import StreamStart

log = logging.getLogger("riskstream.state")

#: a stream's category as the ingest stage read it from its ``stream_start``
CATEGORY_PREFIX = b"stream-category:"


def is_category_key(key: bytes) -> bool:
    """Whether a state-topic key holds a stream's category (not an entity's state)."""
    return key.startswith(CATEGORY_PREFIX)


def category_record(start: StreamStart, window_ms: int) -> tuple[bytes, EntityState]:
    """The key and state the ingest stage stores for a stream whose ``stream_start`` it
    read: the category, and the start's window as the state's last window, so it
    expires with the policy's TTL like an entity that went quiet.

    >>> key, s = category_record(StreamStart("s1", "US", "fashion/bags", 1_767_225_612_345),
    ...                          window_ms=60_000)
    >>> key, s.context(), s.last_ws
    (b'stream-category:s1', {'category': 'fashion/bags'}, 1767225600000)
    """
    state = EntityState(region=start.region)
    state.last_ws = start.ts - start.ts % window_ms
    state.add_context({"category": start.category})
    return CATEGORY_PREFIX + start.stream_id.encode(), state


class StateMap:
    """Entity states in memory, held encoded, merged by ``last_window`` (no Kafka in it).

    >>> m = StateMap()
    >>> _ = m.set(b"stream:s1", EntityState(region="US", last_s=60))
    >>> m.apply(b"stream:s1", encode_state(EntityState(region="US", last_s=0)))  # older
    >>> m.get(b"stream:s1").last_ws, len(m)
    (60000, 1)
    >>> muted = EntityState(region="US", last_s=60, life={1: [0, 0, 0, -1, 9, 0, 0, 0]}, rev=1)
    >>> m.apply(b"stream:s1", encode_state(muted))  # the same window, a verdict since
    >>> m.get(b"stream:s1").life
    {1: [0, 0, 0, -1, 9, 0, 0, 0]}
    >>> m.apply(b"stream:s1", None); len(m)
    0
    """

    def __init__(self) -> None:
        self._states: dict[bytes, bytes] = {}
        self.undecodable = 0

    def get(self, key: bytes) -> EntityState | None:
        raw = self._states.get(key)
        return None if raw is None else decode_state(raw)

    def __len__(self) -> int:
        return len(self._states)

    def stream_category(self, stream_id: str) -> str | None:
        """The category a stream's ``stream_start`` gave (``None`` if unknown), from its
        state or else from what the ingest stage stored when it read that event: the
        ingest stage's fallback for a stream that went live before the offset it
        resumed from. (After a crash the detect stage may not yet have judged, and so
        stored, the window that held the ``stream_start``.)

        >>> m = StateMap()
        >>> _ = m.set(*category_record(StreamStart("s1", "US", "toys/figures", 0), 60_000))
        >>> m.stream_category("s1"), m.stream_category("s2")
        ('toys/figures', None)
        """
        for key in (f"stream:{stream_id}".encode(), CATEGORY_PREFIX + stream_id.encode()):
            state = self.get(key)
            if state is not None:
                category = state.context().get("category")
                if category is not None:
                    return category
        return None

    def items(self, prefix: bytes = b"") -> Iterator[tuple[bytes, EntityState]]:
        """Every (key, state) whose key starts with ``prefix`` (only those decoded);
        safe to ``discard`` while iterating."""
        for key, raw in list(self._states.items()):
            if key.startswith(prefix):
                yield key, decode_state(raw)

    def keys_now(self) -> list[bytes]:
        """Every key held now: a snapshot, safe to change the map while going
        through it."""
        return list(self._states)

    def raw(self, key: bytes) -> bytes | None:
        """The encoded state held for ``key`` (a new object each time it is set)."""
        return self._states.get(key)

    def set(self, key: bytes, state: EntityState) -> bytes:
        """Hold ``state``; return its encoding for the topic."""
        raw = self._states[key] = encode_state(state)
        return raw

    def discard(self, key: bytes) -> None:
        self._states.pop(key, None)

    def apply(self, key: bytes, value: bytes | None) -> None:
        """Merge a record read from the topic (``None``: a tombstone); a newer copy
        held in memory wins over an older one read back."""
        if value is None:
            self._states.pop(key, None)
            return
        try:
            incoming = last_window(value)
        except msgspec.DecodeError as exc:
            # e.g. written by an older version: the entity relearns its baselines
            self.undecodable += 1
            log.warning("state record not understood, skipped",
                        extra={"key": key.decode(errors="replace"), "error": str(exc)})
            return
        held = self._states.get(key)
        if held is None or incoming > last_window(held):
            self._states[key] = value


class EntityStateStore(StateMap):
    """A :class:`StateMap` mirrored to a compacted topic."""

    def __init__(self, broker: str, topic: str, partitions: int) -> None:
        super().__init__()
        self.broker = broker
        self.topic = topic
        self.partitions = partitions
        self.ready = asyncio.Event()
        self._producer: AIOKafkaProducer | None = None
        self._consumer: AIOKafkaConsumer | None = None

    async def put(self, key: bytes, state: EntityState) -> asyncio.Future[Any]:
        """Hold ``state`` and send it to the topic; the future resolves once the broker
        has it."""
        encoded = self.set(key, state)
        assert self._producer is not None
        sent: asyncio.Future[Any] = await self._producer.send(self.topic, encoded, key=key)
        return sent

    async def delete_many(self, keys: list[bytes],
                          replace: Iterable[tuple[bytes, EntityState]] = ()) -> None:
        """Forget ``keys`` and hold the ``replace`` states (a sweep's cut-down ones) at
        once, then send their tombstones and records; a key set again while they go
        out keeps its new state, on the topic too (no tombstone, no older record)."""
        for key in keys:
            self.discard(key)
        held = [(key, self.set(key, state)) for key, state in replace]
        assert self._producer is not None
        for key in keys:
            if self.raw(key) is None:
                await self._producer.send(self.topic, None, key=key)
        for key, raw in held:
            if self.raw(key) is raw:
                await self._producer.send(self.topic, raw, key=key)

    async def caught_up(self, timeout_s: float = 30.0) -> bool:
        """Wait until this store has read every record the topic holds now; ``False``
        (and a warning) if that took over ``timeout_s``. A worker handed input
        partitions in a rebalance calls it first: their last owner may have stored a
        stream's category a moment before."""
        await self.ready.wait()
        assert self._consumer is not None
        ends = await self._consumer.end_offsets(
            [TopicPartition(self.topic, p) for p in range(self.partitions)])
        deadline = time.monotonic() + timeout_s
        while await self._behind(ends):
            if time.monotonic() > deadline:
                log.warning("state store still behind its topic; reading on",
                            extra={"waited_s": timeout_s})
                return False
            await asyncio.sleep(0.05)
        return True

    async def _behind(self, ends: dict[TopicPartition, int]) -> bool:
        assert self._consumer is not None
        return await behind(self._consumer, ends)

    async def run(self) -> None:
        """Restore from the topic's beginning, mark ready, then keep following it."""
        self._producer = AIOKafkaProducer(bootstrap_servers=self.broker, linger_ms=5)
        self._consumer = AIOKafkaConsumer(bootstrap_servers=self.broker, group_id=None,
                                          enable_auto_commit=False)
        await self._producer.start()
        await self._consumer.start()
        try:
            tps = [TopicPartition(self.topic, p) for p in range(self.partitions)]
            self._consumer.assign(tps)
            await self._consumer.seek_to_beginning(*tps)
            ends = await self._consumer.end_offsets(tps)
            restored = 0
            while await self._behind(ends):
                batch = await self._consumer.getmany(timeout_ms=500, max_records=10_000)
                for records in batch.values():
                    for rec in records:
                        self.apply(rec.key, rec.value)
                        restored += 1
            log.info("entity state restored",
                     extra={"records": restored, "entities": len(self)})
            self.ready.set()
            while True:
                batch = await self._consumer.getmany(timeout_ms=1000, max_records=10_000)
                for records in batch.values():
                    for rec in records:
                        self.apply(rec.key, rec.value)
        finally:
            await self._consumer.stop()
            await self._producer.flush()
            await self._producer.stop()

