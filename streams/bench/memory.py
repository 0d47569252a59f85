"""Memory per tracked entity, and that it stays bounded when entities go quiet.

Runs the worker's detection state path — :class:`~signals.engine.Engine` with
the default policy and the worker's :class:`~streams.statestore.StateMap` —
over ``--entities`` distinct live streams, three closed windows each (the
state a stream holds once its baselines exist), and divides the growth of the
process's RSS by the number of entities. Then ``--churn-rounds`` times, as
many new streams arrive while the old ones go quiet past the policy's TTL and
the expiry sweep (the one the worker runs) drops them: the tracked count and
RSS after each round show whether memory is bounded. Run in a process of its
own, it prints one JSON line::

    python -m streams.bench.memory --entities 100000 --churn-rounds 3
"""

from __future__ import annotations

import argparse
import functools
import gc
import os
import random
import sys
import tracemalloc
from collections.abc import Iterator
from typing import Any

import orjson

from signals.aggregate import FirstUse, WindowAggregate, decode_first_uses, encode_first_uses
from signals.engine import Engine
from signals.merge import Mergers
from signals.policy import load_policy
from streams.bench.figures import rss_bytes
from streams.held import HeldRecords, hold_parts
from streams.simulate import CATEGORIES, REGIONS, WORDS
from streams.statestore import StateMap

WINDOWS_PER_ENTITY = 3


def _windows(rng: random.Random, first: int, count: int, t0: int, size_ms: int
             ) -> Iterator[WindowAggregate]:
    for i in range(first, first + count):
        viewers = rng.uniform(50, 3000)
        ctx = {"seller_id": f"sl-{rng.randrange(10**6):06d}",
               "category": rng.choice(CATEGORIES)}
        region = rng.choice(REGIONS)
        for w in range(WINDOWS_PER_ENTITY):
            start = t0 + w * size_ms
            yield WindowAggregate(
                entity_type="stream", entity_id=f"st-{i:08d}", region=region,
                window_start=start, window_end=start + size_ms,
                features={"n_viewer_snapshot": 6.0, "viewers_mean": viewers,
                          "viewers_max": viewers * 1.05, "n_comment": viewers / 40,
                          "n_like": viewers / 30, "n_report": float(rng.random() < 0.1),
                          "distinct_actors": viewers / 50},
                context=ctx)


def _past_warm_ups(engine: Engine, ts: int, size_ms: int) -> None:
    """Show the engine a window of every region, the longest warm-up before ``ts``
    (its state not kept): the states measured from ``ts`` on are then a warm
    worker's, not a warming one's, which keeps its warm-up's start in each."""
    longest = max(sp.warmup_s for sp in engine.policy.signals.values()) * 1000
    for region in REGIONS:
        engine.process(WindowAggregate(
            entity_type="stream", entity_id=f"st-warm-{region}", region=region,
            window_start=ts - longest, window_end=ts - longest + size_ms,
            features={"n_viewer_snapshot": 6.0, "viewers_mean": 100.0}), None, emitted_ts=ts)


def _feed(engine: Engine, states: StateMap, windows: Any) -> None:
    for agg in windows:
        key = agg.key.encode()
        result = engine.process(agg, states.get(key), emitted_ts=agg.window_end)
        states.set(key, result.state)


def _rss() -> int:
    gc.collect()
    return rss_bytes(os.getpid())


def run(entities: int, churn_rounds: int, seed: int = 5) -> dict[str, Any]:
    policy = load_policy()
    engine = Engine(policy)
    size_ms = policy.windows.size_s * 1000
    ttl_ms = policy.entity_ttl_s * 1000
    rng = random.Random(seed)
    states = StateMap()
    t0 = 1_767_225_600_000
    _past_warm_ups(engine, t0, size_ms)
    _feed(engine, states, _windows(rng, 0, 10, t0, size_ms))  # warm every code path
    base = _rss()
    _feed(engine, states, _windows(rng, 10, entities, t0, size_ms))
    grown = _rss()
    tracked = len(states)
    rounds = []
    for r in range(1, churn_rounds + 1):
        t = t0 + r * (ttl_ms + WINDOWS_PER_ENTITY * size_ms)
        _past_warm_ups(engine, t, size_ms)  # the regions were silent past the TTL
        _feed(engine, states, _windows(rng, r * (entities + 10), entities, t, size_ms))
        now = t + WINDOWS_PER_ENTITY * size_ms
        for key, state in states.items():
            if engine.expired(state, now):
                engine.expire(key.decode(), state, now, emitted_ts=now)
                states.discard(key)
        rounds.append({"round": r, "tracked": len(states), "rss": _rss()})
    return {"entities": tracked, "bytes_per_entity": (grown - base) / tracked,
            "rss_before": base, "rss_after": grown, "churn": rounds}


def held_first_uses(uses: int = 100_000, seed: int = 5) -> dict[str, Any]:
    """Bytes per first use waiting in the detect stage for another part of its window
    (see :mod:`signals.merge`): ``uses`` texts of one account each arrive 1,000 to a
    record, as the ingest stage sends them, and are held as the worker's detect
    agent holds them (:func:`~streams.held.hold_parts`). ``tracemalloc`` counts what
    stays allocated once the decoded records are dropped.

    >>> held_first_uses(2_000)["held"]
    2000
    """
    rng = random.Random(seed)
    t0 = 1_767_225_600_000
    records = [encode_first_uses([
        FirstUse(f"{rng.getrandbits(64):016x}", t0, t0 + 60_000, f"ev-{rng.getrandbits(48):x}",
                 t0 + rng.randrange(60_000), f"u-{rng.randrange(10**7)}",
                 f"st-{rng.randrange(10**5)}", rng.choice(REGIONS), rng.random() < 0.1,
                 " ".join(rng.choices(WORDS, k=6)))
        for _ in range(min(1_000, uses - i))]) for i in range(0, uses, 1_000)]
    gc.collect()
    tracemalloc.start()
    try:
        merger, held = Mergers(settle_ms=120_000), HeldRecords()
        for i, raw in enumerate(records):
            hold_parts(decode_first_uses(raw), merger, held, functools.partial(int, i),
                       f"livestream.events:{i % 4}", 0)
        gc.collect()
        held_bytes = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    return {"held": len(merger), "wire_bytes_per_use": sum(map(len, records)) / uses,
            "bytes_per_held_use": held_bytes / uses}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m streams.bench.memory")
    p.add_argument("--entities", type=int, default=100_000)
    p.add_argument("--churn-rounds", type=int, default=0)
    args = p.parse_args(argv)
    sys.stdout.write(orjson.dumps(run(args.entities, args.churn_rounds)).decode() + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
