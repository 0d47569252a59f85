"""The detect stage's sweep of its entity states, with no Kafka in it.

It forgets entities silent past the policy's TTL (event time), resolving their
open signals, and, beyond ``max_term_states``, the term states that say least
(``Engine.forgettable_terms``): a flood of junk words would otherwise keep a
state for every word for the whole TTL.

>>> from signals.policy import load_policy
>>> from signals.state import EntityState
>>> states, engine = StateMap(), Engine(load_policy())
>>> for i in range(3):
...     _ = states.set(f"term:w{i}|US".encode(), EntityState(region="US", last_s=60 * i))
>>> out = sweep(states, engine, now_ts=180_000, emitted_ts=0, max_term_states=2)
>>> out.forget, out.tracked, out.terms_forgotten
([b'term:w0|US'], 2, 1)
"""

from __future__ import annotations

from dataclasses import dataclass, field

from signals.engine import Engine
from signals.record import Signal
from streams.band_store import is_band_key
from streams.statestore import StateMap, is_category_key

TERM_PREFIX = b"term:"


@dataclass
class Swept:
    signals: list[Signal] = field(default_factory=list)  # resolved: their entity expired
    forget: list[bytes] = field(default_factory=list)  # keys whose state to delete
    tracked: int = 0  # entities left
    terms_forgotten: int = 0  # term states forgotten beyond max_term_states


def sweep(states: StateMap, engine: Engine, now_ts: int, emitted_ts: int,
          max_term_states: int) -> Swept:
    """What to emit and forget at event time ``now_ts``; ``states`` is not changed."""
    out, terms = Swept(), 0
    for key, state in states.items():
        if is_band_key(key):  # a category's price band: kept while the worker runs
            continue
        if engine.expired(state, now_ts):
            out.signals.extend(engine.expire(key.decode(), state, now_ts, emitted_ts))
            out.forget.append(key)
        elif not is_category_key(key):  # a stream's category: not an entity
            out.tracked += 1
            terms += key.startswith(TERM_PREFIX)
    if terms > max_term_states:
        gone = set(out.forget)
        over = engine.forgettable_terms(
            ((k, s) for k, s in states.items(TERM_PREFIX) if k not in gone), now_ts,
            max_term_states)
        out.forget.extend(over)
        out.tracked -= len(over)
        out.terms_forgotten = len(over)
    return out
