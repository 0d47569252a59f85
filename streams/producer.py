"""Produce simulated events to the input topics, paced to event time."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable

import orjson
from aiokafka import AIOKafkaProducer

from streams.simulate import Event, Simulator
from streams.topics import PUBLIC_TOPICS, ensure_topics

FLUSH_EVERY = 20_000


async def produce(
    sim: Simulator | Iterable[Event], broker: str, speed: float,
    pace_from_ts: int, partitions: int = 4,
    clock_anchored: bool = False, broker_wait_s: float = 60.0,
) -> int:
    """Send every event; with ``speed > 0`` events at or after ``pace_from_ts`` are sent
    when the wall clock reaches ``(ts - pace_from_ts) / speed`` after the pacing began.

    With ``clock_anchored`` the pacing begins at the wall-clock instant
    ``pace_from_ts`` itself (event time was derived from the clock), so that
    however long an unpaced warm-up took, live events leave when they happen.
    Waits up to ``broker_wait_s`` for a broker to answer. Returns the number of
    events sent."""
    await ensure_topics(broker, PUBLIC_TOPICS, partitions, timeout_s=broker_wait_s)
    producer = AIOKafkaProducer(bootstrap_servers=broker, linger_ms=10,
                                max_batch_size=512 * 1024)
    await producer.start()
    events = sim.events() if isinstance(sim, Simulator) else sim
    n = 0
    wall0: float | None = None
    if clock_anchored:
        wall0 = time.monotonic() + (pace_from_ts / 1000.0 - time.time())
    pending = []
    try:
        for topic, key, event in events:
            if speed > 0 and event["ts"] >= pace_from_ts:
                if wall0 is None:
                    wall0 = time.monotonic()
                delay = wall0 + (event["ts"] - pace_from_ts) / 1000.0 / speed - time.monotonic()
                if delay > 0.005:
                    await asyncio.sleep(delay)
            pending.append(await producer.send(topic, orjson.dumps(event), key=key))
            n += 1
            if len(pending) >= FLUSH_EVERY:
                await asyncio.gather(*pending)
                pending = []
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
    return n
