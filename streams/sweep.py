"""The detect stage's sweep of its entity states, with no Kafka in it.

It forgets entities silent past the policy's TTL (event time), resolving their
open signals (an entity whose detectors keep something longer, a seller's upload
habit, is cut down to that: ``Engine.remembered``), and, beyond
``max_term_states``, the term states that say least (``Engine.term_rank``): a
flood of junk words would otherwise keep a state for every word for the whole TTL.

A worker may hold millions of states, so the sweep goes through them in slices
(:func:`sweeping`): the worker lets its event loop run between slices
(:func:`sweep_in_slices`), and a state set meanwhile is kept, whatever the
sweep had decided for the copy it saw.

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

import asyncio
import heapq
from collections.abc import Callable, Generator
from dataclasses import dataclass, field

from signals.engine import Engine
from signals.record import Signal
from signals.state import EntityState, decode_head, decode_state
from streams.band_store import is_band_key
from streams.statestore import StateMap, is_category_key

TERM_PREFIX = b"term:"
SWEEP_INTERVAL_S = 30  # the worker sweeps this often; a file replay, per this much event time
SLICE = 5_000  # states gone through between two turns of the worker's event loop


@dataclass
class Swept:
    signals: list[Signal] = field(default_factory=list)  # resolved: their entity expired
    forget: list[bytes] = field(default_factory=list)  # keys whose state to delete
    # keys past the TTL whose state to replace by what their detectors keep longer
    keep: list[tuple[bytes, EntityState]] = field(default_factory=list)
    tracked: int = 0  # entities left
    terms_forgotten: int = 0  # term states forgotten beyond max_term_states
    expired: int = 0  # states forgotten past the TTL

    def apply_to(self, states: StateMap) -> None:
        """Forget and cut down the states in a map no Kafka topic backs (a file
        replay's); the worker writes the same through ``EntityStateStore.delete_many``."""
        for key in self.forget:
            states.discard(key)
        for key, state in self.keep:
            states.set(key, state)


def sweeping(states: StateMap, engine: Engine, now_ts: int, emitted_ts: int,
             max_term_states: int, slice_size: int = SLICE,
             owns: Callable[[bytes], bool] | None = None) -> Generator[None, None, Swept]:
    """The sweep at event time ``now_ts``, pausing (``yield``) after every
    ``slice_size`` states; it returns what to emit and forget, and changes nothing.

    Beyond ``max_term_states``, the term states ranked lowest by
    ``Engine.term_rank`` are forgotten. They are ranked in the same pass, and
    only when the map holds more states than that in all. A key whose state was
    set while the sweep paused is neither forgotten nor resolved: the entity
    came back. An entity past the TTL whose detectors keep something longer, or
    with a cooldown still running (a reviewer's mute), (``Engine.remembered``) has
    its signals resolved and its state cut down to that (``keep``), and is
    forgotten once that has faded or ended too. The result holds
    from the last resume until the map next changes.

    With ``owns``, only keys it accepts are forgotten or resolved: a worker
    sweeps the entities it judges (every worker holds every state, and the
    owner's tombstones take the others away). The lowest-ranked term states
    are still chosen among all, so the owners' choices add up to one cut."""
    out, terms = Swept(), 0
    ranking = len(states) > max_term_states
    runs: list[list[tuple[float, int, bytes, bytes]]] = []  # ranked term states, by slice
    run: list[tuple[float, int, bytes, bytes]] = []
    # key, the copy swept, its ends, what is kept of it (None: forget it)
    expired: list[tuple[bytes, bytes, list[Signal], EntityState | None]] = []
    for n, key in enumerate(states.keys_now(), 1):
        if n % slice_size == 0:
            run.sort()
            runs.append(run)
            run = []
            yield
        raw = states.raw(key)
        if raw is None or is_band_key(key):  # gone meanwhile; a category's price band
            continue
        if engine.expired(decode_head(raw), now_ts):
            name = key.decode()
            remembers, owned = engine.remembers(name), owns is None or owns(key)
            if not (remembers or owned):
                continue  # its owner's: it goes with the owner's sweep
            state = decode_state(raw)
            kept = engine.remembered(name, state, now_ts)  # a habit, a peak, a mute
            if kept is not None:
                out.tracked += 1  # held on, cut down to what its detectors keep
            if owned and kept != state:  # one that holds only what is kept needs nothing
                expired.append((key, raw, engine.expire(name, state, now_ts, emitted_ts),
                                kept))
        elif not is_category_key(key):  # a stream's category: not an entity
            out.tracked += 1
            if key.startswith(TERM_PREFIX):
                terms += 1
                if ranking:
                    rank = engine.term_rank(decode_state(raw), now_ts)
                    if rank is not None:
                        run.append((*rank, key, raw))
    lowest = []
    if ranking and terms > max_term_states:  # the lowest, merged from the sorted slices
        run.sort()
        runs.append(run)
        for n, entry in enumerate(heapq.merge(*runs), 1):
            if owns is None or owns(entry[2]):  # (a murmur2 each: here, between pauses)
                lowest.append(entry)
            if n == terms - max_term_states:
                break
            if n % slice_size == 0:
                yield
    # from here on, no pause: what the map holds now is what the result is checked against
    for key, raw, ends, kept in expired:
        if states.raw(key) is raw:  # else set again while the sweep paused: it came back
            if kept is None:
                out.forget.append(key)
                out.expired += 1
            else:
                out.keep.append((key, kept))
            out.signals.extend(ends)
    for _, _, key, raw in lowest:
        if states.raw(key) is raw:
            out.forget.append(key)
            out.terms_forgotten += 1
    out.tracked -= out.terms_forgotten
    return out


def finish(steps: Generator[None, None, Swept]) -> Swept:
    """Run a :func:`sweeping` (or what is left of it) to its end, without pausing."""
    while True:
        try:
            next(steps)
        except StopIteration as done:
            result: Swept = done.value
            return result


def sweep(states: StateMap, engine: Engine, now_ts: int, emitted_ts: int,
          max_term_states: int) -> Swept:
    """:func:`sweeping` in one go, as a file replay runs it (it owns every key)."""
    return finish(sweeping(states, engine, now_ts, emitted_ts, max_term_states))


async def sweep_in_slices(states: StateMap, engine: Engine, now_ts: int, emitted_ts: int,
                          max_term_states: int, slice_size: int = SLICE,
                          owns: Callable[[bytes], bool] | None = None) -> Swept:
    """:func:`sweeping`, letting the event loop run between slices, as the worker runs
    it: its agents go on judging windows meanwhile. Forget its keys before the next
    ``await``."""
    steps = sweeping(states, engine, now_ts, emitted_ts, max_term_states, slice_size, owns)
    while True:
        try:
            next(steps)
        except StopIteration as done:
            result: Swept = done.value
            return result
        await asyncio.sleep(0)
