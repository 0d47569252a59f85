"""A bounded memory of recent keys, O(1) per call.

Two generations of dicts: when the current one holds ``capacity`` keys it becomes
the old one and the older generation is dropped whole. So at least the last
``capacity`` keys are remembered and never more than twice that. (A dict
evicting its first key would look simpler, but deleted slots at the front of a
dict make ``next(iter(d))`` scan them all: quadratic once full.)

>>> ids = Recent(capacity=2)
>>> [ids.seen(x) for x in ["a", "b", "a", "c", "a", "d", "e", "a"]]
[False, False, True, False, True, False, False, False]
>>> categories = Recent(capacity=2)
>>> for k in "abc":
...     categories[k] = k.upper()
>>> categories.get("a"), categories.get("c"), categories.get("z")
('A', 'C', None)
"""

from __future__ import annotations

from typing import Any


class Recent:
    """Recently set keys (``seen``) or recent key -> value pairs (``get``, ``[]=``)."""

    __slots__ = ("_current", "_old", "capacity")

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._current: dict[str, Any] = {}
        self._old: dict[str, Any] = {}

    def get(self, key: str) -> Any:
        value = self._current.get(key)
        return self._old.get(key) if value is None else value

    def __setitem__(self, key: str, value: Any) -> None:
        current = self._current
        if len(current) >= self.capacity and key not in current:
            self._old = current
            current = self._current = {}
        current[key] = value

    def seen(self, key: str) -> bool:
        """True if ``key`` was seen before; remember it either way (once per event on
        the ingest hot path, so the insert is inlined rather than ``self[key] = ...``)."""
        current = self._current
        if key in current or key in self._old:
            return True
        if len(current) >= self.capacity:
            self._old = current
            current = self._current = {}
        current[key] = True
        return False
