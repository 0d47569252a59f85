"""``riskstream export``: the input topics' records over a span of time, as a file that
``riskstream replay`` reads, for a backtest of a policy on what production saw.

Every partition of ``livestream.events``, ``listing.events`` and
``governance.verdicts`` (reviewers' verdicts, which a replay acts on as the
worker did) is read from the
first record at or after ``since`` to the last before ``until`` (by the records'
Kafka timestamps, which ``offsets_for_times`` finds: the first offset stamped at
or after a time, so where producers' clocks disagree a record stamped out of
order near an edge can fall on its other side), or from the start and to the end
offsets of when the export began. The records of all partitions are merged by
event time (a record's ``ts``; one with none, or none that can be read, keeps
its place after the record before it in its partition), each partition's in its
own order, so the file is in event-time order as
``riskstream simulate --out`` writes it, and a replay folds each partition's
records in the order the worker read them.

Values are written as they are, one a line, bad ones included: the replay
dead-letters them with their reasons, as the worker did. A value holding a line
break is the one exception: a JSON one is written compactly (the same JSON on one
line), any other with its line breaks made spaces (still not JSON, so still
dead-lettered as such). A record with no value at all (a tombstone) cannot be a
line of the file; those are counted and left out.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO

import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition

from streams.contract import INPUT_TOPICS, VERDICTS_TOPIC
from streams.replay import event_ts
from streams.topics import assign_all, start_consumer

FETCH_RECORDS = 10_000
#: the topics a replay reads: the events, and the verdicts that act on their signals
EXPORTED_TOPICS = (*INPUT_TOPICS, VERDICTS_TOPIC)


@dataclass
class Exported:
    """What an export wrote."""

    records: int = 0
    tombstones: int = 0  # records with no value, left out
    first_ts: int | None = None
    last_ts: int | None = None


def line_of(value: bytes) -> bytes:
    """A record's value as one line of the file (without its line break).

    >>> line_of(b'{"ts": 1}')
    b'{"ts": 1}'
    >>> line_of(b'{\\n  "ts": 1\\n}')  # pretty-printed JSON: the same JSON, compactly
    b'{"ts":1}'
    >>> line_of(b'not\\njson\\r')  # still not JSON
    b'not json '
    """
    if b"\n" not in value and b"\r" not in value:
        return value
    try:
        return orjson.dumps(orjson.loads(value))
    except orjson.JSONDecodeError:
        return value.replace(b"\r", b" ").replace(b"\n", b" ")


async def _bounds(consumer: AIOKafkaConsumer, tps: list[TopicPartition], since: int | None,
                  until: int | None) -> dict[TopicPartition, tuple[int, int]]:
    """Per partition, the offsets to read: ``[first, end)``."""
    ends = await consumer.end_offsets(tps)
    firsts = await consumer.beginning_offsets(tps)
    if since is not None:
        found = await consumer.offsets_for_times({tp: since for tp in tps})
        firsts = {tp: ends[tp] if at is None else at.offset for tp, at in found.items()}
    if until is not None:
        found = await consumer.offsets_for_times({tp: until + 1 for tp in tps})
        ends = {tp: ends[tp] if at is None else at.offset for tp, at in found.items()}
    return {tp: (firsts[tp], ends[tp]) for tp in tps}


async def export(broker: str, out: IO[bytes], since: int | None = None,
                 until: int | None = None, topics: tuple[str, ...] = EXPORTED_TOPICS,
                 progress: Callable[[int], None] | None = None) -> Exported:
    """Write the topics' records between ``since`` and ``until`` (epoch ms, both
    included; ``None``: from the start, to the end offsets of now) to ``out``, one a
    line, merged by event time."""
    consumer = AIOKafkaConsumer(bootstrap_servers=broker, group_id=None,
                                enable_auto_commit=False, auto_offset_reset="earliest")
    await start_consumer(consumer, broker)
    done = Exported()
    try:
        tps = await assign_all(consumer, list(topics))
        bounds = await _bounds(consumer, tps, since, until)
        open_tps = []
        for tp, (first, end) in bounds.items():
            if first < end:
                consumer.seek(tp, first)
                open_tps.append(tp)
        # (event time to merge by, whether the record gave it, value)
        buffers: dict[TopicPartition, deque[tuple[int, bool, bytes]]] = {
            tp: deque() for tp in tps}
        last = dict.fromkeys(tps, 0)  # the event time of each partition's last record
        heads: list[tuple[int, int, TopicPartition]] = []  # (ts, order, tp) of each head
        order = 0

        def push_head(tp: TopicPartition) -> None:
            nonlocal order
            if buffers[tp]:
                heapq.heappush(heads, (buffers[tp][0][0], order, tp))
                order += 1

        while open_tps or heads:
            # a partition still being read with nothing buffered may hold the next line
            needy = [tp for tp in open_tps if not buffers[tp]]
            if needy:
                batch = await consumer.getmany(*needy, timeout_ms=1000,
                                               max_records=FETCH_RECORDS)
                for tp, records in batch.items():
                    end = bounds[tp][1]
                    for rec in records:
                        if rec.offset >= end:
                            break
                        if rec.value is None:
                            done.tombstones += 1
                            continue
                        ts = event_ts(rec.value)
                        if ts is not None:
                            last[tp] = ts
                        buffers[tp].append((last[tp], ts is not None, rec.value))
                    push_head(tp)
                for tp in needy:  # read to its end (control records take offsets too)
                    if await consumer.position(tp) >= bounds[tp][1]:
                        open_tps.remove(tp)
                continue
            ts, _, tp = heapq.heappop(heads)
            _, own, value = buffers[tp].popleft()
            out.write(line_of(value) + b"\n")
            done.records += 1
            if own:
                done.first_ts = ts if done.first_ts is None else min(done.first_ts, ts)
                done.last_ts = ts if done.last_ts is None else max(done.last_ts, ts)
            if progress is not None and done.records % 100_000 == 0:
                progress(done.records)
            push_head(tp)
    finally:
        await consumer.stop()
    return done
