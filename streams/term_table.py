"""A window's term counters, bounded, that a flood of one-off words cannot fill.

A partition's window keeps an exact counter (who used the term, where, samples)
for at most ``capacity`` (term, region) pairs. Until it is full every term gets
one. Once it is full, a term without a counter is counted in a count-min sketch
(Apache DataSketches), and when the sketch says the term has been used
``admit_uses`` times, it takes the counter of a term used only once so far (the
oldest such), whose use goes to the sketch in its place. A term used twice or
more keeps its counter. So a burst of junk words (random strings, every one
used once) sent ahead of a code word cannot keep the code word from being
counted: it is counted from its second use on. A term is dropped only when every
counter belongs to a term used twice or more.

>>> table = TermTable(capacity=2, uses=len)
>>> for word in ("junk1", "junk2", "junk3", "code", "code", "code"):
...     counter = table.get(word)
...     if counter is None:
...         counter = table.admit(word, list)
...     if counter is not None:
...         counter.append(word)
>>> dict(table.items())
{'junk2': ['junk2'], 'code': ['code', 'code']}
>>> table.uncounted  # junk3, junk1 (its counter taken), and the first "code"
3
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Generic, TypeVar

from datasketches import count_min_sketch

V = TypeVar("V")

SKETCH_HASHES = 4
SKETCH_BUCKETS = 1 << 18  # 4 x 2^18 counters of 8 bytes: 8 MiB, only for a window that overflows
SKETCH_SEED = 20_261_201


class TermTable(dict[str, V], Generic[V]):
    """At most ``capacity`` counters by key (a dict: look a key up with ``get``); see
    the module's docstring. ``uses`` tells how many uses a counter holds."""

    __slots__ = ("_once", "_sketch", "_uses", "admit_uses", "capacity", "uncounted")

    def __init__(self, capacity: int, uses: Callable[[V], int], admit_uses: int = 2) -> None:
        super().__init__()
        if capacity < 1 or admit_uses < 1:
            raise ValueError(f"capacity and admit_uses must be 1 or more, not {capacity} "
                             f"and {admit_uses}")
        self.capacity = capacity
        self.admit_uses = admit_uses
        self._uses = uses
        self.uncounted = 0  # uses of terms that had no counter at the time (callers may reset)
        self._sketch: count_min_sketch | None = None  # made at the first overflow
        # keys whose counter held one use when queued, oldest first: those that still do
        # may be given away (a counter only grows, so one used again is skipped for good)
        self._once: deque[str] = deque()

    def admit(self, key: str, make: Callable[[], V]) -> V | None:
        """The new counter (made with ``make``) for a use of ``key``, which ``get``
        did not find, or ``None`` if the use is only sketched. Call once per use."""
        if len(self) < self.capacity:
            found = self[key] = make()
            if self._sketch is not None:
                self._once.append(key)
            return found
        sketch = self._sketch
        if sketch is None:
            sketch = self._sketch = count_min_sketch(SKETCH_HASHES, SKETCH_BUCKETS, SKETCH_SEED)
            # from now on, counters holding one use may be given away, oldest first
            self._once.extend(k for k, v in self.items() if self._uses(v) == 1)
        if sketch.get_estimate(key) + 1 >= self.admit_uses:
            given = self._given()
            if given is not None:
                del self[given]
                sketch.update(given)
                self.uncounted += 1
                found = self[key] = make()
                self._once.append(key)
                return found
        sketch.update(key)
        self.uncounted += 1
        return None

    def _given(self) -> str | None:
        """The oldest key whose counter still holds one use, taken off the queue."""
        once, uses = self._once, self._uses
        while once:
            key = once.popleft()
            counter = self.get(key)  # None: the caller removed it
            if counter is not None and uses(counter) == 1:
                return key
        return None
