"""The entity-state store against a real broker: it catches up with what another
worker wrote before a rebalance hands this one the input partitions."""

from __future__ import annotations

import asyncio
import contextlib
import uuid

import pytest
from aiokafka import AIOKafkaProducer

from signals.state import encode_state
from streams.statestore import EntityStateStore, category_record
from streams.topics import ensure_topics
from streams.windows import StreamStart

pytestmark = pytest.mark.integration


async def _catch_up(broker: str) -> tuple[bool, list[str | None]]:
    topic = f"rs-store-{uuid.uuid4().hex[:8]}"
    await ensure_topics(broker, (topic,), partitions=4, compacted=(topic,))
    store = EntityStateStore(broker, topic, partitions=4)
    following = asyncio.create_task(store.run())
    producer = AIOKafkaProducer(bootstrap_servers=broker)
    await producer.start()
    try:
        await store.ready.wait()
        # another worker's ingest stage stores the categories of 300 streams
        for i in range(300):
            key, state = category_record(StreamStart(f"st-{i}", "US", f"cat-{i}", 0), 60_000)
            await producer.send(topic, encode_state(state), key=key)
        await producer.flush()
        done = await store.caught_up(timeout_s=30)
        return done, [store.stream_category(f"st-{i}") for i in range(300)]
    finally:
        await producer.stop()
        following.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await following


def test_the_store_catches_up_with_categories_another_worker_just_stored(broker: str) -> None:
    done, after = asyncio.run(_catch_up(broker))
    assert done
    assert after == [f"cat-{i}" for i in range(300)]
