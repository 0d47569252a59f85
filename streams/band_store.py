"""Price bands kept beside the entity states, so a restarted worker judges prices at once.

A worker learns its categories' price bands (:mod:`streams.price_bands`) from
the new listings it reads. Without this module a restarted worker would start
every band again and judge no price in a category until it had seen
``band_min_n`` new listings there: hours, in a quiet category. So the bands
that changed are written to the entity-state topic every
:data:`SAVE_INTERVAL_S`, each under its own key (``price-band:<category>|<currency>``,
and ``price-band:*`` for the spread pooled over all bands), as an
:class:`~signals.state.EntityState` whose ``last_ws`` is the newest event time
read (whole seconds, so a save in the same second as the copy held counts one
more ``rev`` than it): the store keeps the newest copy, whichever worker wrote
it, also when the topic is not compacted yet. At start,
once the store is restored and before the first input record is read, the
bands are taken back.

>>> from streams.statestore import StateMap
>>> bands, states = PriceBands(), StateMap()
>>> for price in (40.0, 30.0, 45.0, 35.0, 25.0, 50.0):
...     bands.learn("toys/figures|JPY", price)
>>> for key, state in changed_states(bands, 1_767_225_600_000, states):
...     print(key.decode(), state.rev)
...     _ = states.set(key, state)
price-band:* 0
price-band:toys/figures|JPY 0
>>> list(changed_states(bands, 1_767_225_600_000, states))  # nothing learned since
[]
>>> for price in (40.0, 30.0):
...     bands.learn("toys/figures|JPY", price)
>>> for key, state in changed_states(bands, 1_767_225_600_400, states):  # the same second
...     print(key.decode(), state.rev)
...     _ = states.set(key, state)
price-band:* 1
price-band:toys/figures|JPY 1
>>> again = PriceBands()
>>> restore_bands(again, states)
2
>>> again.snapshot("toys/figures|JPY")[2]  # its 8 listings
8
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from signals.state import EntityState
from streams.price_bands import PriceBands
from streams.statestore import StateMap

log = logging.getLogger("riskstream.state")

KEY_PREFIX = b"price-band:"
SAVE_INTERVAL_S = 10.0
_CODE = 0  # the detector slot of the state that holds a band's floats


def is_band_key(key: bytes) -> bool:
    """Whether a state-topic key holds a price band (not an entity)."""
    return key.startswith(KEY_PREFIX)


def changed_states(bands: PriceBands, newest_ts: int,
                   held: StateMap) -> Iterator[tuple[bytes, EntityState]]:
    """The bands learned since the previous call, as (key, state) to write: each one
    ``rev`` past the copy in ``held`` if that copy has the same ``last_ws``, so that
    merging copies keeps the newer."""
    for name in bands.take_changed():
        values = bands.export(name)
        if values is None:  # forgotten since (a busier band took its place)
            continue
        key = KEY_PREFIX + name.encode()
        state = EntityState(region="")
        state.last_ws = newest_ts
        before = held.get(key)
        if before is not None and before.last_s == state.last_s:
            state.rev = before.rev + 1
        state.set_detector(_CODE, values)
        yield key, state


def restore_bands(bands: PriceBands, states: StateMap) -> int:
    """Take back into ``bands`` every band held in ``states``; return how many.
    A record that is not a band (written by another version) is logged and skipped:
    that band is learned again."""
    restored = 0
    for key, state in states.items(KEY_PREFIX):
        values = state.detector(_CODE)
        try:
            if values is None:
                raise ValueError("no band floats")
            bands.restore(key[len(KEY_PREFIX):].decode(), values)
        except ValueError as exc:
            log.warning("price band record not understood, skipped",
                        extra={"key": key.decode(errors="replace"), "error": str(exc)})
            continue
        restored += 1
    return restored
