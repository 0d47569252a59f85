"""Event-time alignment of the input partitions one worker reads.

A worker catching up on a backlog (after a restart or an outage, or on
preloaded topics) gets each partition's records in fetches of up to megabytes,
so one partition's records can run many minutes of event time ahead of
another's: on a 40-minute simulation preloaded into 4 partitions a topic, a
plain ``getmany`` loop read the partitions of one topic 17 minutes apart (the
median over its batches). Read like that, a category's price band has learned
listings from the future of the listing it judges, and a spread entity's
partial windows wait in the detect stage for the slowest partition. Kafka
Streams and Flink align their inputs in event time for the same reasons.

So the ingest loop keeps what it fetched in a buffer per partition and folds a
partition's records only up to ``skew_ms`` past the *frontier*: the earliest
event time among the partitions that still have records to fold. Those are the
partitions with buffered records (at the event time of their first unfolded
record, once the ingest core has decoded it) and those the loop is *waiting*
for: nothing buffered, but the broker holds more (at the event time they have
reached). The partition at the frontier can always fold its next record, so
the loop never stalls; a caught-up partition (nothing more on the broker)
holds no other back. A partition whose buffer holds ``cap`` records is paused
until it drains to half, which bounds the memory this takes.

No Kafka in here: a partition is any hashable key, a record anything.

>>> al = Alignment(skew_ms=10_000, cap=1000)
>>> al.add("p0", ["a0", "a1", "a2"]); al.add("p1", ["b0", "b1"])
>>> al.limit([])  # no first event time known yet: decode the heads first
-9223372036854775808
>>> al.due(al.limit([]))
['p0', 'p1']
>>> al.folded("p0", 0, 100_000); al.folded("p1", 0, 500_000)  # heads at 100 s and 500 s
>>> al.limit([]), al.due(al.limit([]))  # p1 waits until p0 reaches 490 s
(110000, ['p0'])
>>> al.folded("p0", 3, None)  # p0 folded all it had; the broker holds more of it
>>> al.limit([("p0", 130_000)]), al.due(al.limit([("p0", 130_000)]))
(140000, [])
>>> al.limit([]), al.due(al.limit([]))  # p0 caught up: p1 goes on
(510000, ['p1'])
>>> al.due(al.limit([("p2", None)]))  # p2 has records to read, of a time not known yet
[]
>>> al.records("p1"), al.buffered("p1")
(['b0', 'b1'], 2)
>>> small = Alignment(skew_ms=0, cap=4)
>>> small.add("p0", list(range(4))); small.to_pause()  # a full buffer: fetch no more
['p0']
>>> small.folded("p0", 1, None); small.to_resume(["p0"])  # 3 left: not yet half
[]
>>> small.folded("p0", 1, None); small.to_resume(["p0"])
['p0']
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from typing import Any, Generic, TypeVar

NO_LIMIT_YET = -(2**63)  # fold nothing, only decode each buffer's first record


K = TypeVar("K", bound=Hashable)  # a partition


class Alignment(Generic[K]):
    """Per-partition buffers of fetched records, folded in step in event time."""

    def __init__(self, skew_ms: int, cap: int) -> None:
        if skew_ms < 0 or cap < 1:
            raise ValueError("skew_ms must not be negative and cap must be positive")
        self.skew_ms = skew_ms
        self.cap = cap
        self._buffers: dict[K, list[Any]] = {}
        self._heads: dict[K, int] = {}  # event time of a buffer's first record

    def add(self, tp: K, records: list[Any]) -> None:
        """Buffer records just fetched (in offset order) behind those not folded yet."""
        buffer = self._buffers.get(tp)
        if buffer:
            buffer.extend(records)
        else:
            self._buffers[tp] = list(records)
            self._heads.pop(tp, None)

    def limit(self, waiting: Iterable[tuple[K, int | None]]) -> int:
        """The event time up to which records may be folded now. ``waiting``: the
        partitions with nothing buffered that the broker holds more of, each with the
        event time it has reached (None: none yet, so fold nothing until it is known)."""
        known = [self._heads[tp] for tp, buf in self._buffers.items()
                 if buf and tp in self._heads]
        for tp, ts in waiting:
            if not self._buffers.get(tp):
                if ts is None:
                    return NO_LIMIT_YET
                known.append(ts)
        return min(known) + self.skew_ms if known else NO_LIMIT_YET

    def due(self, limit: int) -> list[K]:
        """The partitions with buffered records to fold (or to decode the first of)."""
        return [tp for tp, buf in self._buffers.items()
                if buf and (tp not in self._heads or self._heads[tp] <= limit)]

    def records(self, tp: K) -> list[Any]:
        """``tp``'s buffered records, oldest first."""
        return self._buffers.get(tp, [])

    def folded(self, tp: K, n: int, head_ts: int | None) -> None:
        """The first ``n`` of ``tp``'s buffered records were folded (or dead-lettered);
        ``head_ts``: the event time of the next one, if it was decoded."""
        buffer = self._buffers[tp]
        if n:
            del buffer[:n]
        if head_ts is None or not buffer:
            self._heads.pop(tp, None)
        else:
            self._heads[tp] = head_ts

    def buffered(self, tp: K) -> int:
        return len(self._buffers.get(tp, ()))

    def to_pause(self) -> list[K]:
        """Partitions whose buffer is full: fetch no more of them for now."""
        return [tp for tp, buf in self._buffers.items() if len(buf) >= self.cap]

    def to_resume(self, paused: Iterable[K]) -> list[K]:
        """Of the ``paused`` partitions, those whose buffer drained to half its cap."""
        return [tp for tp in paused if len(self._buffers.get(tp, ())) <= self.cap // 2]

    def forget(self, tp: K) -> None:
        """Drop a partition's buffer (revoked: its new owner reads it again)."""
        self._buffers.pop(tp, None)
        self._heads.pop(tp, None)
