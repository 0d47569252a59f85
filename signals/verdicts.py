"""Reviewers' verdicts on signals, tallied by the signal's type (no Kafka in it).

A ``governance.verdicts`` record names a signal only by its ``signal_id``, a hash
(:func:`signals.record.signal_id`). :class:`SignalTypes` remembers the type of the
signals a worker read from ``risk.signals``, the newest ``capacity`` of them, so
that a verdict can be counted under its signal's type: how often reviewers
confirm each type is what a program manager tunes the policy by.

>>> types = SignalTypes(capacity=2)
>>> for sid, kind in (("sig_a", "report_spike"), ("sig_b", "price_anomaly"),
...                   ("sig_c", "listing_burst")):
...     types.note(sid, kind)
>>> types.type_of("sig_c"), types.type_of("sig_a"), len(types)
('listing_burst', None, 2)
"""

from __future__ import annotations

from collections import OrderedDict

from signals.catalogue import CATALOGUE

#: the ``verdict`` values of the wire contract
VERDICTS = ("confirmed", "false_positive", "duplicate", "needs_more_data")
#: the ``signal_type`` label of a verdict on a signal no longer (or never) read
UNKNOWN_TYPE = "unknown"
#: signal ids remembered; about 170 B each (ids and map, `tracemalloc`)
SIGNAL_TYPES_CAPACITY = 100_000


class SignalTypes:
    """The types of the newest ``capacity`` signal ids noted, the oldest noted first out."""

    def __init__(self, capacity: int = SIGNAL_TYPES_CAPACITY) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be at least 1, not {capacity}")
        self.capacity = capacity
        self._types: OrderedDict[str, str] = OrderedDict()

    def __len__(self) -> int:
        return len(self._types)

    def note(self, signal_id: str, signal_type: str) -> None:
        """Remember ``signal_id``'s type, as its newest (an update or a resolve of a
        signal keeps it longest)."""
        self._types[signal_id] = signal_type
        self._types.move_to_end(signal_id)
        if len(self._types) > self.capacity:
            self._types.popitem(last=False)

    def type_of(self, signal_id: str) -> str | None:
        return self._types.get(signal_id)


def verdict_label(signal_type: str | None) -> str:
    """The ``signal_type`` label a verdict is counted under: one of the catalogue's,
    or ``unknown`` (the label's values stay few, whatever ``risk.signals`` holds).

    >>> verdict_label("price_anomaly"), verdict_label("made_up"), verdict_label(None)
    ('price_anomaly', 'unknown', 'unknown')
    """
    return signal_type if signal_type in CATALOGUE else UNKNOWN_TYPE
