"""The file shell: the same core as the worker, over a JSON-lines file of events.

Used by tests, benchmarks and backtests: events are spread over virtual
partitions by key, as Kafka's default partitioner spreads them over the input
topics' partitions (:func:`partition_of`), folded in batches by
:class:`~streams.ingest.IngestCore` (every ``batch`` records of the file, each
partition's share of them: the partitions in step in file order, as the worker
reads them, :mod:`streams.align`), and closed windows go through
:class:`~signals.engine.Engine`, so a file replay and the live worker give the
same signals for the same events. Partial windows of spread entities are
merged once every partition has closed them or, as the worker's fallback for a
partition with no events, once the first has waited ``SETTLE_MS`` (here of event
time). States are swept as the worker sweeps them
(:mod:`streams.sweep`: the TTL and the cap on term states), once per
``SWEEP_INTERVAL_S`` of event time, between batches and no later than the
earliest window held for merging, so a replay longer than the TTL resolves
the signals of entities that went quiet and forgets their states, as the
worker does. Reviewers' verdicts in the file (``governance.verdicts`` records,
as ``riskstream export`` writes them among the events) act as in the worker
(:meth:`~signals.engine.Engine.mute`), each before the first window that closes
after its time (as a worker reading it live would); one on a signal the replay
has not opened (another policy's, say) does nothing. So does a listing's
``product_pin`` (:meth:`~signals.engine.Engine.pin`): the worker that reads it
sends it to the listing's owner at once, so it reaches it before any window
that closes later.
"""

from __future__ import annotations

import functools
import heapq
import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson

from signals.aggregate import FirstUse, WindowAggregate
from signals.engine import Engine
from signals.merge import SETTLE_MS, SPREAD_ENTITY_TYPES, Mergers, sweep_time
from signals.pins import Pin, pin_action
from signals.policy import Policy
from signals.record import Signal
from signals.verdicts import ENDING_VERDICTS, SignalRef, action_of
from streams.config import MAX_TERM_STATES
from streams.contract import (
    LISTING_TOPIC,
    LIVESTREAM_TOPIC,
    VERDICTS_TOPIC,
    ProductPin,
    Verdict,
    decode,
    decode_verdict,
)
from streams.errors import BadRecord
from streams.ingest import DeadLetter, IngestCore, Raw
from streams.statestore import StateMap
from streams.sweep import SWEEP_INTERVAL_S, sweep
from streams.topics import key_partition
from streams.windows import pin_of_event

LISTING_TYPES = frozenset(
    {"listing_created", "listing_updated", "price_changed", "listing_removed", "listing_reported"})


@functools.lru_cache(maxsize=1 << 16)
def partition_of(key: bytes, partitions: int) -> int:
    """The partition a record with ``key`` lands on in a topic of ``partitions``, as the
    worker reads it (Kafka's default partitioner, murmur2); cached, as a file's keys
    (stream and listing ids) come again and again.

    >>> partition_of(b"st-1", 4) == key_partition(b"st-1", 4)
    True
    """
    return key_partition(key, partitions)


def route(event: object) -> tuple[str, bytes]:
    """The input topic and key an event belongs to (a reviewer's verdict: a record with
    a ``verdict`` and no ``event_type``); anything but a JSON object goes to the
    livestream topic without a key, where the core dead-letters it.

    >>> route({"event_type": "price_changed", "listing_id": "li-1"})
    ('listing.events', b'li-1')
    >>> route({"signal_id": "sig_1", "verdict": "false_positive", "ts": 1})
    ('governance.verdicts', b'sig_1')
    >>> route([1, 2])
    ('livestream.events', b'')
    """
    if not isinstance(event, dict):
        return LIVESTREAM_TOPIC, b""
    if "verdict" in event and "event_type" not in event:
        return VERDICTS_TOPIC, str(event.get("signal_id", "")).encode()
    if event.get("event_type") in LISTING_TYPES:
        return LISTING_TOPIC, str(event.get("listing_id", "")).encode()
    return LIVESTREAM_TOPIC, str(event.get("stream_id", "")).encode()


@dataclass
class ReplayResult:
    signals: list[Signal] = field(default_factory=list)
    dead: list[DeadLetter] = field(default_factory=list)
    processed: int = 0
    duplicates: int = 0
    windows: int = 0
    forgotten: int = 0  # entity states the sweeps forgot (TTL and cap)
    terms_forgotten: int = 0  # of them, term states beyond max_term_states
    #: verdicts read, by what they did: ``counted`` (confirmed, needs_more_data), an
    #: action of ``riskstream_verdict_actions_total``, or ``unknown`` (a signal this
    #: replay did not open)
    verdicts: dict[str, int] = field(default_factory=dict)
    #: listings' pins read, by what they did (as ``riskstream_pins_total`` counts them)
    pins: dict[str, int] = field(default_factory=dict)


def replay(
    records: Iterable[tuple[str, bytes, bytes]],
    policy: Policy,
    partitions: int = 4,
    batch: int = 2000,
    flush: bool = False,
    max_term_states: int = MAX_TERM_STATES,
) -> ReplayResult:
    """Run ``(topic, key, value_bytes)`` records through ingest and detection.

    With ``flush`` the windows still open at the end are closed too. States are
    swept (``streams.sweep``) whenever the newest judged window's end has moved
    ``SWEEP_INTERVAL_S`` past the last sweep's, and once at the end. A file has no
    wall clock, so a signal's ``emitted_ts`` is the replay's own: the newest event
    time read when it was emitted (for a window's signal, at least the window's end),
    when a worker reading the same events as they happened would have sent it.
    """
    engine = Engine(policy)
    states = StateMap()  # as the worker holds them, encoded
    core = IngestCore(window_ms=policy.windows.size_s * 1000,
                      lateness_ms=policy.windows.allowed_lateness_s * 1000,
                      young_days=policy.young_account_days,
                      terms=engine.watches("term"), clusters=engine.watches("account_cluster"),
                      segments=engine.watches("segment"), category_of=states.stream_category)
    result = ReplayResult()
    pending: dict[tuple[str, int], list[Raw]] = {}
    offsets: dict[tuple[str, int], int] = {}

    # the clock of the merger's settle time is the newest event time read, as if paced
    merger = Mergers(settle_ms=SETTLE_MS)
    newest = {"window_end": -1, "swept": -1}  # event time, as the worker's sweep reads it
    refs: dict[str, SignalRef] = {}  # the signals opened so far, for verdicts on them
    # verdicts read, by time, each waiting for the first window that closes after it
    verdicts: list[tuple[int, int, Verdict]] = []
    # listings' pins read, by listing, each waiting for the first window of its listing
    # that closes after it, or for every partition to have been read past it
    pins: dict[bytes, list[tuple[int, int, Pin]]] = {}
    pin_times: list[tuple[int, int, bytes]] = []
    lateness_ms = policy.windows.allowed_lateness_s * 1000
    read = itertools.count()  # verdicts of the same time: in the file's order

    def clock() -> int:
        """The replay's time, for the signals it emits: the newest event time read."""
        return max(core.newest_ts, 0)

    def emit(signals: list[Signal]) -> None:
        result.signals.extend(signals)
        for s in signals:
            refs[s.signal_id] = SignalRef(s.signal_type, s.entity_type, s.entity_id)

    def act(until_ts: int | None) -> None:
        """Act on the verdicts read up to ``until_ts`` (all, if None), as the worker
        acts on one when it reads it: live, before any window that closes later."""
        while verdicts and (until_ts is None or verdicts[0][0] <= until_ts):
            v = heapq.heappop(verdicts)[2]
            ref = refs.get(v.signal_id)
            if v.verdict not in ENDING_VERDICTS:
                done = "counted"
            elif ref is None:
                done = "unknown"
            else:
                key = ref.entity_key.encode()
                state = states.get(key)
                if state is None:
                    done = "untracked"
                else:
                    signals = engine.mute(ref.mute(v.signal_id, v.verdict, v.ts, v.reviewer),
                                          state, clock())
                    states.set(key, state)
                    emit(signals)
                    done = action_of(v.verdict, bool(signals))
            result.verdicts[done] = result.verdicts.get(done, 0) + 1

    def pins_of(key: bytes, until_ts: int) -> None:
        """Note the pins of listing ``key`` read up to ``until_ts``, in time order, as
        the worker judging the listing notes each when it is read."""
        waiting = pins.get(key)
        if not waiting:
            return
        waiting.sort()
        while waiting and waiting[0][0] <= until_ts:
            p = waiting.pop(0)[2]
            state = states.get(key)
            noted = engine.pin(p, state, clock())
            if not noted.stale:
                states.set(key, noted.state)
            emit(noted.signals)
            done = pin_action(not noted.stale, state is not None, bool(noted.signals))
            result.pins[done] = result.pins.get(done, 0) + 1
        if not waiting:
            del pins[key]

    def pins_until(until_ts: int | None) -> None:
        """Note every pin read up to ``until_ts`` (all, if None): once every partition
        has been read past a pin, no window that closes before it is still to come."""
        while pin_times and (until_ts is None or pin_times[0][0] <= until_ts):
            ts, _, key = heapq.heappop(pin_times)
            pins_of(key, ts)

    def read_past() -> int:
        """The event time every input partition read so far has been read past."""
        reached = [core.reached(*tp) for tp in offsets if tp[0] != VERDICTS_TOPIC]
        return min((r for r in reached if r is not None), default=-1)

    def detect(aggs: list[WindowAggregate], closed: tuple[str, int] | None = None,
               first_uses: Iterable[FirstUse] = ()) -> None:
        """Run closed windows through the engine; partial windows of spread entities
        (and texts one account used) wait in the merger until every partition has
        closed them."""
        now = core.newest_ts
        for use in first_uses:
            merger.add(use, now)
        whole = []
        for agg in aggs:
            result.windows += 1
            if not engine.wants(agg):
                continue
            if agg.entity_type in SPREAD_ENTITY_TYPES:
                merger.add(agg, now)
            else:
                whole.append(agg)
        if closed is not None:  # (topic, window end every partition of it has closed)
            whole += merger.ready_before(*closed)
        judge(whole)

    def judge(whole: list[WindowAggregate]) -> None:
        merger.take_lone()  # texts only one account used: nothing to judge or acknowledge
        for agg in whole:
            if not engine.wants(agg):  # e.g. one account's text on two partitions
                continue
            if verdicts and verdicts[0][0] < agg.window_end + lateness_ms:
                act(agg.window_end + lateness_ms - 1)  # this window closed after them
            key = agg.key.encode()
            if key in pins:  # a listing pinned before this window closed
                pins_of(key, agg.window_end + lateness_ms - 1)
            out = engine.process(agg, states.get(key), max(clock(), agg.window_end))
            if out.stale:
                continue
            states.set(key, out.state)
            emit(out.signals)
            newest["window_end"] = max(newest["window_end"], agg.window_end)

    def expire() -> None:
        """The worker's timed sweep, at the newest judged window's end but no later
        than the earliest window the merger holds; run between batches, when every
        partition has been read as far, as the worker reads them in step."""
        if newest["window_end"] < 0:
            return
        newest["swept"] = newest["window_end"]
        now = sweep_time(newest["window_end"], merger.oldest_start())
        swept = sweep(states, engine, now, clock(), max_term_states)
        emit(swept.signals)
        swept.apply_to(states)
        result.forgotten += len(swept.forget)
        result.terms_forgotten += swept.terms_forgotten

    def drain(tp: tuple[str, int]) -> None:
        out = core.process(tp[0], tp[1], pending.pop(tp))
        result.processed += out.processed
        result.duplicates += out.duplicates
        result.dead.extend(out.dead)
        detect(out.closed, (tp[0], core.closed_everywhere(tp[0], partitions)), out.first_uses)

    held = 0
    for topic, key, value in records:
        tp = (topic, partition_of(key, partitions))
        offset = offsets.get(tp, 0)
        offsets[tp] = offset + 1
        if topic == VERDICTS_TOPIC:  # a reviewer's: waits for the windows up to its time
            try:
                verdict = decode_verdict(value)
                heapq.heappush(verdicts, (verdict.ts, next(read), verdict))
            except BadRecord as exc:
                result.dead.append(DeadLetter(topic, tp[1], offset, key, value, exc.kind,
                                              str(exc)))
            continue
        if topic == LIVESTREAM_TOPIC and b"product_pin" in value:  # its listing's: waits too
            try:
                event = decode(topic, value)
            except BadRecord:  # the core dead-letters it
                event = None
            if isinstance(event, ProductPin):
                p = pin_of_event(event)
                seq = next(read)
                pins.setdefault(p.entity_key.encode(), []).append((p.ts, seq, p))
                heapq.heappush(pin_times, (p.ts, seq, p.entity_key.encode()))
        pending.setdefault(tp, []).append(Raw(offset, key, value))
        held += 1
        if held >= batch:  # every partition up to here: folded in step, as the worker does
            for tp in list(pending):
                drain(tp)
            held = 0
            # a partition with no events closes nothing: its windows wait the settle time
            judge(merger.ready(core.newest_ts))
            pins_until(read_past())
            if newest["window_end"] - newest["swept"] >= SWEEP_INTERVAL_S * 1000:
                expire()
    for tp in list(pending):
        drain(tp)
    if flush:
        detect(core.close_all(), first_uses=core.take_first_uses())
    # partials some partition has closed: all there will be
    judge(merger.drain())
    pins_until(None)
    act(None)  # the file's last verdicts: the worker would act on them as it reads them
    expire()  # windows judged since the last sweep may share its window end
    return result


def read_jsonl(path: str) -> Iterable[tuple[str, bytes, bytes]]:
    """Records from a file of one event per line (as ``riskstream simulate --out`` writes).

    A line that is not JSON is passed on as it is, for the core to dead-letter with
    its reason, as the worker does with such a record.
    """
    with open(path, "rb") as fh:
        for line in fh:
            line = line.strip()
            if line:
                try:
                    event = orjson.loads(line)
                except orjson.JSONDecodeError:
                    event = None
                topic, key = route(event)
                yield topic, key, line


def event_ts(value: bytes) -> int | None:
    """A record's event time, if it has one.

    >>> event_ts(b'{"ts": 1767225600000}'), event_ts(b'oops'), event_ts(b'[1]')
    (1767225600000, None, None)
    """
    try:
        ts = orjson.loads(value).get("ts")
    except (orjson.JSONDecodeError, AttributeError):
        return None
    return ts if type(ts) is int else None


def event_hours(path: str) -> float:
    """Hours of event time a file of events spans, first to last ``ts`` (lines that
    are not events with a ``ts`` are left out).

    >>> import tempfile
    >>> with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as fh:
    ...     _ = fh.write('{"ts": 0}\\nnot json\\n{"ts": 5400000}\\n{"ts": "x"}\\n')
    >>> event_hours(fh.name)
    1.5
    """
    with open(path, "rb") as fh:
        stamps = [ts for ts in map(event_ts, fh) if ts is not None]
    return (max(stamps) - min(stamps)) / 3_600_000 if stamps else 0.0


def replayed_signals(path: str, policy: Policy, flush: bool, max_term_states: int
                     ) -> list[dict[str, Any]]:
    """The signals a replay of the events file ``path`` gives, as on the wire: a
    function of plain arguments, to run in another process beside a replay."""
    result = replay(read_jsonl(path), policy, flush=flush, max_term_states=max_term_states)
    return [s.to_dict() for s in result.signals]
