"""Per-entity detector state, kept in memory and in a compacted Kafka topic.

Each worker restores every entity's state from the compacted topic at start,
then keeps following it, so whichever worker a rebalance hands an entity to
already holds its baselines. Writes happen once per entity per closed window
(never per event). Updates are merged by the state's ``last_ws`` (the start of
the newest window it has seen), so an older copy read back from the topic can
never overwrite a newer one held in memory.

Why not a Faust table: with faust-streaming 0.15.3 (and 0.11.3) against the
local Kafka 3.9 broker, a worker restarted on a non-empty changelog waited in
table recovery forever ("No event received for active tp"), which would stop a
restarted worker from ever emitting signals. This store has the same contract
(state survives a crash or a rebalance) with a restore path we control.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

log = logging.getLogger("riskstream.state")


def newer(candidate: dict[str, Any] | None, current: dict[str, Any] | None) -> bool:
    """True when ``candidate`` should replace ``current``.

    >>> newer({"last_ws": 2}, {"last_ws": 1}), newer({"last_ws": 1}, {"last_ws": 1})
    (True, False)
    >>> newer({"last_ws": 0}, None)
    True
    """
    if candidate is None:
        return False
    return current is None or candidate["last_ws"] > current["last_ws"]


class EntityStateStore:
    """A dict of entity states mirrored to a compacted topic."""

    def __init__(self, broker: str, topic: str, partitions: int) -> None:
        self.broker = broker
        self.topic = topic
        self.partitions = partitions
        self.states: dict[bytes, dict[str, Any]] = {}
        self.ready = asyncio.Event()
        self._producer: AIOKafkaProducer | None = None
        self._consumer: AIOKafkaConsumer | None = None

    def get(self, key: bytes) -> dict[str, Any] | None:
        return self.states.get(key)

    def __len__(self) -> int:
        return len(self.states)

    async def put(self, key: bytes, state: dict[str, Any]) -> None:
        self.states[key] = state
        assert self._producer is not None
        await self._producer.send(self.topic, orjson.dumps(state), key=key)

    async def delete(self, key: bytes) -> None:
        self.states.pop(key, None)
        assert self._producer is not None
        await self._producer.send(self.topic, None, key=key)

    def _apply(self, key: bytes, value: bytes | None) -> None:
        if value is None:
            self.states.pop(key, None)
            return
        state = orjson.loads(value)
        if newer(state, self.states.get(key)):
            self.states[key] = state

    async def _behind(self, ends: dict[TopicPartition, int]) -> bool:
        assert self._consumer is not None
        for tp, end in ends.items():
            if await self._consumer.position(tp) < end:
                return True
        return False

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
                        self._apply(rec.key, rec.value)
                        restored += 1
            log.info("entity state restored",
                     extra={"records": restored, "entities": len(self.states)})
            self.ready.set()
            while True:
                batch = await self._consumer.getmany(timeout_ms=1000, max_records=10_000)
                for records in batch.values():
                    for rec in records:
                        self._apply(rec.key, rec.value)
        finally:
            await self._consumer.stop()
            await self._producer.flush()
            await self._producer.stop()

