"""Windows-topic records held unacknowledged until the partial windows they carry are judged.

A record of the windows topic can carry partial windows of spread entities
(sellers, segments, clusters, terms), which wait in the detect stage until the
other input partitions' parts arrive. If the record were acknowledged on
arrival, its offset would be committed, and a worker that died before the
merge would lose those partials for good. So the detect stage holds such a
record here, with the (entity key, window start) of each partial it carries,
and acknowledges it once every one of those windows was released and judged.
After a crash the record is read again, and its windows merged again.

No Kafka in here: a record is held as its acknowledge callable.

>>> acked = []
>>> held = HeldRecords()
>>> held.hold(lambda: acked.append("r1"), {("seller:s1", 0), ("term:x", 0)})
True
>>> held.hold(lambda: acked.append("r2"), {("seller:s1", 0)})
True
>>> held.hold(lambda: acked.append("r3"), set())  # nothing to wait for: ack it now
False
>>> for ack in held.release(("seller:s1", 0)):
...     ack()
>>> acked, len(held)
(['r2'], 1)
>>> held.held_since()  # when the oldest record still held was held (r1, at 0.0)
0.0
>>> for ack in held.release(("term:x", 0)):
...     ack()
>>> acked, len(held), held.held_since()
(['r2', 'r1'], 0, None)
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Hashable, Iterable
from typing import Any

from signals.merge import Mergers, Part

Ack = Callable[[], Any]  # a record's acknowledge callable: one object per record


class HeldRecords:
    """Acknowledge callables, each waiting on a set of merge keys."""

    def __init__(self) -> None:
        # a record's ack -> [keys it still waits for, when it was held]; in hold order
        self._waiting: dict[Ack, list[float]] = {}
        self._by_key: dict[Hashable, list[Ack]] = {}

    def __len__(self) -> int:
        return len(self._waiting)

    def hold(self, ack: Ack, keys: Collection[Hashable], now_s: float = 0.0) -> bool:
        """Hold a record (its own ``ack`` object) until every key in ``keys`` is
        released; ``False`` (not held) if ``keys`` is empty: the caller acknowledges
        it at once. ``now_s``: the time it is held (any clock, for :meth:`held_since`)."""
        if not keys:
            return False
        self._waiting[ack] = [len(keys), now_s]
        for key in keys:
            self._by_key.setdefault(key, []).append(ack)
        return True

    def release(self, key: Hashable) -> list[Ack]:
        """The window ``key`` was judged: the acknowledge callables of the records
        that now wait for nothing more."""
        done = []
        for ack in self._by_key.pop(key, ()):
            waiting = self._waiting[ack]
            waiting[0] -= 1
            if waiting[0] == 0:
                del self._waiting[ack]
                done.append(ack)
        return done

    def held_since(self) -> float | None:
        """When the oldest record still held was held (``None``: none held). Records are
        acknowledged within the merge's settle time, so one held much longer means the
        commits of its windows partition have stopped."""
        for _, since in self._waiting.values():
            return since
        return None


def hold_parts(parts: Iterable[Part], merger: Mergers, held: HeldRecords, ack: Ack,
               source: str, now_ms: int) -> tuple[dict[tuple[bool, str], int], bool]:
    """Add a windows record's partial windows (or first uses) to ``merger`` and hold the
    record (``ack``) until each of their windows is released. Returns the parts
    counted by (new to the merger?, entity type), and whether the record is held
    (``False``: it carried nothing to wait for, acknowledge it now). One key object
    per part serves the merger and the hold: tens of thousands of first uses wait
    at a time."""
    waits_for: set[tuple[str, int]] = set()
    counted: dict[tuple[bool, str], int] = {}
    for part in parts:
        key = (part.key, part.window_start)
        new = (merger.add(part, now_ms, source, key), part.entity_type)
        counted[new] = counted.get(new, 0) + 1
        waits_for.add(key)
    return counted, held.hold(ack, waits_for, now_ms / 1000.0)
