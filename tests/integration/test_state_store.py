"""The entity-state store against a real broker: it catches up with what another
worker wrote before a rebalance hands this one the input partitions."""

from __future__ import annotations

import asyncio
import contextlib
import uuid

import pytest
from aiokafka import AIOKafkaProducer

from signals.state import EntityState, encode_state
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


async def _forget(broker: str) -> tuple[list[bool], list[bool]]:
    """A store holds 3 states and forgets 2 of them, one of which is set again while
    the tombstones go out. A second store then restores the topic."""
    topic = f"rs-store-{uuid.uuid4().hex[:8]}"
    await ensure_topics(broker, (topic,), partitions=4, compacted=(topic,))
    keys = [b"stream:a", b"stream:b", b"stream:c"]
    stores = [EntityStateStore(broker, topic, partitions=4) for _ in range(2)]
    following = [asyncio.create_task(stores[0].run())]
    try:
        first = stores[0]
        await first.ready.wait()
        sent = [await first.put(k, EntityState(region="US", last_s=60)) for k in keys]
        await asyncio.gather(*sent)
        # the producer's send waits when its buffer is full; here it lets others run
        # every time, so that the state is set again between the forgetting and the
        # tombstone (the broker and the client are real)
        assert first._producer is not None
        send = first._producer.send

        async def send_after_a_turn(*args, **kwargs):
            await asyncio.sleep(0)
            return await send(*args, **kwargs)

        first._producer.send = send_after_a_turn
        forgetting = asyncio.create_task(first.delete_many(keys[:2]))
        await asyncio.sleep(0)  # the keys are forgotten; the tombstones are on their way
        held = [first.raw(k) is not None for k in keys]
        await (await first.put(keys[1], EntityState(region="US", last_s=120)))
        await forgetting
        following.append(asyncio.create_task(stores[1].run()))
        await stores[1].ready.wait()
        assert await stores[1].caught_up(timeout_s=30)
        return held, [stores[1].raw(k) is not None for k in keys]
    finally:
        for task in following:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


def test_forgotten_states_are_tombstoned_unless_set_again(broker: str) -> None:
    held, restored = asyncio.run(_forget(broker))
    assert held == [False, False, True]
    assert restored == [False, True, True]


async def _cut(broker: str) -> tuple[EntityState | None, EntityState | None, EntityState | None]:
    """A store writes a seller's whole state, a sweep cuts it down to its habit (same
    last window) and forgets another; a second store then restores the topic."""
    topic = f"rs-store-{uuid.uuid4().hex[:8]}"
    await ensure_topics(broker, (topic,), partitions=4, compacted=(topic,))
    stores = [EntityStateStore(broker, topic, partitions=4) for _ in range(2)]
    following = [asyncio.create_task(stores[0].run())]
    whole = EntityState(region="US", last_s=660, ctx={"c": "home/kitchen"},
                        life={5: [1, 660_000, 0, 0, 0, 0.9]})
    whole.set_detector(5, [20.0, 1.0, -20.0])
    cut = EntityState(region="US", last_s=660, cut=True)
    cut.set_detector(5, [0.0, 0.0, -20.0])
    try:
        await stores[0].ready.wait()
        for key in (b"seller:shop", b"seller:gone"):
            await (await stores[0].put(key, whole))
        await stores[0].delete_many([b"seller:gone"], replace=[(b"seller:shop", cut)])
        assert stores[0]._producer is not None
        await stores[0]._producer.flush()
        held = stores[0].get(b"seller:shop")
        following.append(asyncio.create_task(stores[1].run()))
        await stores[1].ready.wait()
        assert await stores[1].caught_up(timeout_s=30)
        return held, stores[1].get(b"seller:shop"), stores[1].get(b"seller:gone")
    finally:
        for task in following:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


def test_a_state_cut_down_by_the_sweep_is_what_a_restarted_worker_restores(broker) -> None:
    # the cut state has the same last window as the whole one before it on the topic:
    # read back in order, the cut one must win (signals.state.last_window)
    held, restored, gone = asyncio.run(_cut(broker))
    assert held is not None and held.cut and not held.life
    assert restored == held and gone is None
