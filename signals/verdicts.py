"""Reviewers' verdicts on signals: tallied by the signal's type, and acted on (no
Kafka in it).

A ``governance.verdicts`` record names a signal only by its ``signal_id``, a hash
(:func:`signals.record.signal_id`). :class:`SignalTypes` remembers the type and
entity of the signals a worker read from ``risk.signals``, the newest ``capacity``
of them, so that a verdict can be counted under its signal's type (how often
reviewers confirm each type is what a program manager tunes the policy by), and a
``false_positive`` or ``duplicate`` verdict can reach the entity's state as a
:class:`Mute` (see :meth:`signals.engine.Engine.mute`).

>>> types = SignalTypes(capacity=2)
>>> for sid, kind in (("sig_a", "report_spike"), ("sig_b", "price_anomaly"),
...                   ("sig_c", "listing_burst")):
...     types.note(sid, kind, "stream", "st-1")
>>> types.ref_of("sig_c").signal_type, types.ref_of("sig_a"), len(types)
('listing_burst', None, 2)
>>> types.ref_of("sig_b").entity_key
'stream:st-1'
"""

from __future__ import annotations

import sys
from collections import OrderedDict
from typing import NamedTuple

import msgspec

from signals.catalogue import CATALOGUE

#: the ``verdict`` values of the wire contract
VERDICTS = ("confirmed", "false_positive", "duplicate", "needs_more_data")
#: the verdicts that end their signal's episode; ``false_positive`` also mutes its
#: entity for the signal's ``mute_s``
ENDING_VERDICTS = ("false_positive", "duplicate")
#: what a worker does on an ending verdict (``riskstream_verdict_actions_total``)
VERDICT_ACTIONS = ("resolved", "muted", "none", "untracked")
#: the ``signal_type`` label of a verdict on a signal no longer (or never) read
UNKNOWN_TYPE = "unknown"
#: signal ids remembered; about 300 B each (ids, entities and map, `tracemalloc`)
SIGNAL_TYPES_CAPACITY = 100_000
#: key of the windows-topic records that carry a :class:`Mute` to its entity's owner,
#: in their header :data:`MUTE_HEADER`; their value is an empty batch of windows, all
#: a worker of an earlier version (which knows no mute) sees in them
MUTE_KEY = b"\x00mute"
MUTE_HEADER = "mute"
MUTE_VALUE = b"[]"


class SignalRef(NamedTuple):
    """What a signal id stands for: its type and entity."""

    signal_type: str
    entity_type: str
    entity_id: str

    @property
    def entity_key(self) -> str:
        """The entity's key in the state store (``WindowAggregate.key``)."""
        return f"{self.entity_type}:{self.entity_id}"

    def mute(self, signal_id: str, verdict: str, ts: int, reviewer: str | None) -> Mute:
        """The :class:`Mute` a verdict ending this signal sends to its entity."""
        return Mute(entity_key=self.entity_key, signal_type=self.signal_type,
                    signal_id=signal_id, verdict=verdict, ts=ts, reviewer=reviewer)


class Mute(msgspec.Struct, frozen=True, kw_only=True):
    """A reviewer's verdict that ends a signal (:data:`ENDING_VERDICTS`), sent to the
    worker that judges its entity.

    >>> m = Mute(entity_key="stream:st-1", signal_type="report_spike", signal_id="sig_1",
    ...          verdict="false_positive", ts=60_000, reviewer="ana")
    >>> decode_mute(encode_mute(m)) == m
    True
    """

    entity_key: str
    signal_type: str
    signal_id: str
    verdict: str
    ts: int  # the verdict's, epoch ms
    reviewer: str | None = None


_mute_encoder = msgspec.json.Encoder()
_mute_decoder = msgspec.json.Decoder(Mute)


def encode_mute(mute: Mute) -> bytes:
    return _mute_encoder.encode(mute)


def decode_mute(raw: bytes) -> Mute:
    return _mute_decoder.decode(raw)


class SignalTypes:
    """The types and entities of the newest ``capacity`` signal ids noted, the oldest
    noted first out."""

    def __init__(self, capacity: int = SIGNAL_TYPES_CAPACITY) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be at least 1, not {capacity}")
        self.capacity = capacity
        self._types: OrderedDict[str, SignalRef] = OrderedDict()

    def __len__(self) -> int:
        return len(self._types)

    def note(self, signal_id: str, signal_type: str, entity_type: str, entity_id: str) -> None:
        """Remember ``signal_id``'s type and entity, as its newest (an update or a resolve
        of a signal keeps it longest)."""
        self._types[signal_id] = SignalRef(sys.intern(signal_type), sys.intern(entity_type),
                                           entity_id)
        self._types.move_to_end(signal_id)
        if len(self._types) > self.capacity:
            self._types.popitem(last=False)

    def ref_of(self, signal_id: str) -> SignalRef | None:
        return self._types.get(signal_id)


def action_of(verdict: str, resolved: bool) -> str:
    """What acting on an ending verdict did, as ``riskstream_verdict_actions_total``
    counts it (``untracked`` is the caller's: no state to act on).

    >>> action_of("false_positive", False), action_of("duplicate", True)
    ('muted', 'resolved')
    """
    return "resolved" if resolved else "muted" if verdict == "false_positive" else "none"


def verdict_label(signal_type: str | None) -> str:
    """The ``signal_type`` label a verdict is counted under: one of the catalogue's,
    or ``unknown`` (the label's values stay few, whatever ``risk.signals`` holds).

    >>> verdict_label("price_anomaly"), verdict_label("made_up"), verdict_label(None)
    ('price_anomaly', 'unknown', 'unknown')
    """
    return signal_type if signal_type in CATALOGUE else UNKNOWN_TYPE
