"""The detect stage's sweep of its entity states, with no Kafka in it.

It forgets entities silent past the policy's TTL (event time), resolving their
open signals, and, beyond ``max_term_states``, the term states that say least
(``Engine.term_rank``): a flood of junk words would otherwise keep a
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

import heapq
from dataclasses import dataclass, field

from signals.engine import Engine
from signals.record import Signal
from streams.band_store import is_band_key
from streams.statestore import StateMap, is_category_key

TERM_PREFIX = b"term:"
SWEEP_INTERVAL_S = 30  # the worker sweeps this often; a file replay, per this much event time


@dataclass
class Swept:
    signals: list[Signal] = field(default_factory=list)  # resolved: their entity expired
    forget: list[bytes] = field(default_factory=list)  # keys whose state to delete
    tracked: int = 0  # entities left
    terms_forgotten: int = 0  # term states forgotten beyond max_term_states


def sweep(states: StateMap, engine: Engine, now_ts: int, emitted_ts: int,
          max_term_states: int) -> Swept:
    """What to emit and forget at event time ``now_ts``; ``states`` is not changed.

    Beyond ``max_term_states``, the term states ranked lowest by
    ``Engine.term_rank`` are forgotten. They are ranked in the same pass, and
    only when the worker holds more states than that in all."""
    out, terms = Swept(), 0
    ranked: list[tuple[float, int, bytes]] | None = (
        [] if len(states) > max_term_states else None)
    for key, state in states.items():
        if is_band_key(key):  # a category's price band: kept while the worker runs
            continue
        if engine.expired(state, now_ts):
            out.signals.extend(engine.expire(key.decode(), state, now_ts, emitted_ts))
            out.forget.append(key)
        elif not is_category_key(key):  # a stream's category: not an entity
            out.tracked += 1
            if key.startswith(TERM_PREFIX):
                terms += 1
                if ranked is not None:
                    rank = engine.term_rank(state, now_ts)
                    if rank is not None:
                        ranked.append((*rank, key))
    if ranked is not None and terms > max_term_states:
        over = [key for *_, key in heapq.nsmallest(terms - max_term_states, ranked)]
        out.forget.extend(over)
        out.tracked -= len(over)
        out.terms_forgotten = len(over)
    return out
