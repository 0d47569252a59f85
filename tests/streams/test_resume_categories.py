"""After a crash the ingest stage resumes each input partition from its oldest open
window, past the ``stream_start`` of streams still live. Their category, which only
that event gives, must still put their audience and reports in their segment."""

from __future__ import annotations

import orjson

from streams.contract import LIVESTREAM_TOPIC
from streams.ingest import IngestCore, Raw
from streams.simulate import SimConfig, Simulator
from streams.statestore import StateMap, category_record
from streams.topics import key_partition

PARTITIONS = 4
WINDOW_MS = 60_000


def _partitions() -> dict[int, list[Raw]]:
    """A quarter hour of simulated livestream events, keyed to partitions as Kafka does."""
    out: dict[int, list[Raw]] = {p: [] for p in range(PARTITIONS)}
    sim = Simulator(SimConfig(seed=11, rate=60, duration_s=900, scenarios=()))
    for topic, key, event in sim.events():
        if topic == LIVESTREAM_TOPIC:
            recs = out[key_partition(key, PARTITIONS)]
            recs.append(Raw(len(recs), key, orjson.dumps(event)))
    return out


def _run(core: IngestCore, parts: dict[int, list[Raw]], start: dict[int, int],
         stop: dict[int, int], states: StateMap | None = None) -> dict[tuple, dict]:
    """Segment windows closed, by (partition, segment, window start); with ``states``,
    the categories learned are stored there, as the worker stores them."""
    closed: dict[tuple, dict] = {}
    pos = dict(start)
    while any(pos[p] < stop[p] for p in parts):
        for p, recs in parts.items():
            batch = recs[pos[p]:min(pos[p] + 300, stop[p])]
            if not batch:
                continue
            pos[p] += len(batch)
            out = core.process(LIVESTREAM_TOPIC, p, batch)
            for s in out.started if states is not None else ():
                states.set(*category_record(s, WINDOW_MS))
            for agg in out.closed:
                if agg.entity_type == "segment":
                    closed[(p, agg.entity_id, agg.window_start)] = (
                        agg.features | {"reports": agg.breakdown.get("stream_reports")})
    return closed


def _core(states: StateMap) -> IngestCore:
    return IngestCore(window_ms=WINDOW_MS, lateness_ms=10_000, young_days=7,
                      category_of=states.stream_category)


def test_a_resumed_partition_closes_the_segment_windows_it_would_have_closed() -> None:
    parts = _partitions()
    zero = dict.fromkeys(parts, 0)
    end = {p: len(recs) for p, recs in parts.items()}
    whole = _run(_core(StateMap()), parts, zero, end)

    # a worker reads half of each partition, storing categories, and dies; the detect
    # stage had stored none of the streams' states (it may lag far behind)
    stored = StateMap()
    first = _core(stored)
    crash = {p: n // 2 for p, n in end.items()}
    _run(first, parts, zero, crash, stored)
    resume = {p: first.commit_offset(LIVESTREAM_TOPIC, p, crash[p]) for p in parts}
    assert all(0 < resume[p] < crash[p] for p in parts)

    after = _run(_core(stored), parts, resume, end, StateMap())
    assert len(after) > 40
    assert {k: whole.get(k) for k in after} == after

    # without the stored categories the same replay misses streams that went live
    # before it resumed: the case above tests something
    blind = _run(_core(StateMap()), parts, resume, end)
    assert sum(1 for k in after if blind.get(k) != after[k]) > 10
