"""The ingest core: a batch of raw input records in; closed windows and dead letters out.

Pure Python with no Kafka in it, shared by the worker (records from aiokafka
``getmany``) and by file replays. Every record is either folded into a window,
skipped as a re-sent duplicate of an ``event_id`` already seen, or returned as a
:class:`DeadLetter` with a one-line reason; the counts say which.

>>> core = IngestCore(window_ms=60_000, lateness_ms=0, young_days=7)
>>> out = core.process("livestream.events", 0, [Raw(0, b"s1", b"not json")])
>>> out.dead[0].to_dict()["error"]
'not_json: JSON is malformed: invalid character (byte 4)'
>>> out.processed, out.dead_by_kind
(0, {'not_json': 1})
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import msgspec
import orjson

from signals.aggregate import FirstUse, WindowAggregate
from signals.pins import Pin
from streams.contract import (
    LISTING_TOPIC,
    LIVESTREAM_TOPIC,
    MAX_RECORD_BYTES,
    PRICED,
    decode,
    fast_decoder,
)
from streams.errors import BadRecord
from streams.price_bands import PriceBands
from streams.recent import Recent
from streams.windows import PartitionWindows, StreamStart

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS


class Raw(NamedTuple):
    """The parts of an input record the core reads (aiokafka's ConsumerRecord has them)."""

    offset: int
    key: bytes | None
    value: bytes | None


def _text(data: bytes | None) -> str | None:
    if data is None:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return base64.b64encode(data).decode("ascii")


@dataclass(frozen=True)
class DeadLetter:
    """One record for ``riskstream.dlq``, exactly as the contract states it."""

    source_topic: str
    partition: int
    offset: int
    key: bytes | None
    raw: bytes | None
    kind: str
    error: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "source_topic": self.source_topic, "partition": self.partition,
            "offset": self.offset, "key": _text(self.key), "error": self.error,
            "raw": _text(self.raw),
        }

    def to_json(self) -> bytes:
        return orjson.dumps(self.to_dict())


@dataclass
class BatchOutput:
    closed: list[WindowAggregate] = field(default_factory=list)
    dead: list[DeadLetter] = field(default_factory=list)
    processed: int = 0
    duplicates: int = 0
    dead_by_kind: dict[str, int] = field(default_factory=dict)
    # streams whose category this batch learned: to store before committing past them
    started: list[StreamStart] = field(default_factory=list)
    # listings pinned in live streams: for the detect stage of each listing
    pins: list[Pin] = field(default_factory=list)
    # texts one account used in a closed window: for the detect stage's merge
    first_uses: list[FirstUse] = field(default_factory=list)
    consumed: int = 0  # records taken from the front of the batch (see ``until_ts``)
    head_ts: int | None = None  # event time of the record it stopped at, if it stopped
    last_ts: int | None = None  # event time of the last record folded, if any was


class _Partition:
    __slots__ = ("ids", "windows")

    def __init__(self, windows: PartitionWindows, ids: Recent) -> None:
        self.windows = windows
        self.ids = ids


class IngestCore:
    """Validation, de-duplication and window folding for every partition of a worker."""

    def __init__(
        self,
        window_ms: int,
        lateness_ms: int,
        young_days: int,
        max_future_ms: int = HOUR_MS,
        max_past_ms: int = 7 * DAY_MS,
        dedup_capacity: int = 100_000,
        terms: bool = True,
        clusters: bool = True,
        segments: bool = True,
        category_of: Callable[[str], str | None] | None = None,
    ) -> None:
        self.window_ms = window_ms
        self.terms = terms  # fold comment and title terms (for emerging_term)
        self.clusters = clusters  # fold comment fingerprints (for coordinated_comments)
        self.segments = segments  # fold reports and audiences per segment (segment_report_surge)
        self.category_of = category_of  # a stream's category when its start was not seen
        self.lateness_ms = lateness_ms
        self.young_days = young_days
        self.max_future_ms = max_future_ms
        self.max_past_ms = max_past_ms
        self.dedup_capacity = dedup_capacity
        self.newest_ts = -1
        self._parts: dict[tuple[str, int], _Partition] = {}
        # categories' price bands, learned from the listings of every partition here
        self.price_bands = PriceBands()

    def _part(self, topic: str, partition: int) -> _Partition:
        part = self._parts.get((topic, partition))
        if part is None:
            part = self._parts[(topic, partition)] = _Partition(
                PartitionWindows(self.window_ms, self.lateness_ms, self.young_days,
                                 terms=self.terms, clusters=self.clusters,
                                 segments=self.segments, category_of=self.category_of,
                                 price_bands=self.price_bands),
                Recent(self.dedup_capacity),
            )
        return part

    def process(
        self, topic: str, partition: int, records: list[Any], now_ms: int | None = None,
        until_ts: int | None = None,
    ) -> BatchOutput:
        """Fold one partition's batch (in offset order); close the windows it completes.

        ``now_ms`` (the live worker passes its clock; replays pass nothing) also
        anchors the future-time rule: after a quiet spell of more than
        ``max_future_ms``, events newer than the newest seen but not ahead of the
        clock are accepted instead of being rejected until the end of time.
        ``until_ts``: stop before the first event later than this (the live worker
        folds its partitions in step, :mod:`streams.align`); ``consumed`` then says
        how many records were taken and ``head_ts`` the time of the one stopped at.
        """
        part = self._part(topic, partition)
        windows, seen = part.windows, part.ids.seen
        # the topic decides the event classes ``fast`` decodes
        fold: Callable[[Any, int], None] = (
            windows.fold_live if topic == LIVESTREAM_TOPIC else windows.fold_listing)
        fast = fast_decoder(topic)
        priced = topic == LISTING_TOPIC
        out = BatchOutput()
        dead_by_kind = out.dead_by_kind
        newest = self.newest_ts
        future_limit, past_limit = self._limits(newest, now_ms)
        processed = duplicates = 0
        last_ts = None
        until = 2**63 if until_ts is None else until_ts
        consumed = len(records)
        for i, rec in enumerate(records):
            raw = rec.value
            try:
                try:
                    if raw is None or len(raw) > MAX_RECORD_BYTES:
                        raise ValueError
                    event = fast(raw)
                    if priced and type(event) in PRICED and \
                            event.currency is None:  # type: ignore[union-attr]
                        raise ValueError
                except (msgspec.DecodeError, ValueError):
                    event = decode(topic, raw)  # raises the BadRecord naming the fault
                ts = event.ts
                if ts > future_limit:
                    raise BadRecord("ts_future", f"`$.ts` {ts} is more than "
                                    f"{self.max_future_ms // 1000}s after the newest event "
                                    f"time seen or the clock "
                                    f"({future_limit - self.max_future_ms})")
                if ts < past_limit:
                    raise BadRecord("ts_past", f"`$.ts` {ts} is more than "
                                    f"{self.max_past_ms // 1000}s before the newest event "
                                    f"time seen ({newest})")
                if ts > until:
                    consumed, out.head_ts = i, ts
                    break
                if seen(event.event_id):
                    duplicates += 1
                    continue
                fold(event, rec.offset)
            except BadRecord as exc:
                out.dead.append(DeadLetter(topic, partition, rec.offset, rec.key, raw,
                                           exc.kind, str(exc)))
                dead_by_kind[exc.kind] = dead_by_kind.get(exc.kind, 0) + 1
                continue
            processed += 1
            last_ts = ts
            if ts > newest:
                newest = ts
                future_limit, past_limit = self._limits(newest, now_ms)
        self.newest_ts = newest
        out.consumed = consumed
        out.processed = processed
        out.duplicates = duplicates
        out.closed = windows.close_ready()
        out.last_ts = last_ts
        if windows.started:
            out.started, windows.started = windows.started, []
        if windows.pins:
            out.pins, windows.pins = windows.pins, []
        if windows.first_uses:
            out.first_uses, windows.first_uses = windows.first_uses, []
        return out

    def advance(self, topic: str, partition: int, ts: int) -> BatchOutput:
        """Move a quiet partition's event time on to ``ts`` (:mod:`streams.idle`) and
        close the windows that completes. A partition with no event yet is left.

        >>> core = IngestCore(window_ms=60_000, lateness_ms=10_000, young_days=7)
        >>> ev = {"schema_version": 1, "event_id": "e1", "event_type": "like", "ts": 5_000,
        ...       "stream_id": "s1", "seller_id": "x", "region": "US", "user_id": "u1", "count": 1}
        >>> out = core.process("livestream.events", 0, [Raw(0, b"s1", orjson.dumps(ev))])
        >>> out.closed, out.last_ts, core.advance("livestream.events", 0, 69_999).closed
        ([], 5000, [])
        >>> [w.entity_id for w in core.advance("livestream.events", 0, 70_000).closed]
        ['s1']
        >>> core.commit_offset("livestream.events", 0, 1), core.reached("livestream.events", 0)
        (1, 70000)
        """
        out = BatchOutput()
        part = self._parts.get((topic, partition))
        if part is not None:
            out.closed = part.windows.advance(ts)
            out.first_uses, part.windows.first_uses = part.windows.first_uses, []
        return out

    def _limits(self, newest: int, now_ms: int | None) -> tuple[int, int]:
        """The event times beyond which a record is too far in the future or past."""
        reference = newest if now_ms is None else max(newest, now_ms)
        future = reference + self.max_future_ms if reference >= 0 else 2**63
        past = newest - self.max_past_ms if newest >= 0 else -(2**63)
        return future, past

    def commit_offset(self, topic: str, partition: int, next_offset: int) -> int:
        """The offset of ``(topic, partition)`` that is safe to commit."""
        part = self._parts.get((topic, partition))
        return next_offset if part is None else part.windows.commit_offset(next_offset)

    def reached(self, topic: str, partition: int) -> int | None:
        """The newest event time ``(topic, partition)`` has folded (None: none yet)."""
        part = self._parts.get((topic, partition))
        return None if part is None or part.windows.max_ts < 0 else part.windows.max_ts

    def closed_until(self, topic: str, partition: int) -> int:
        """The window end up to which this partition has closed its windows (-1: none)."""
        part = self._parts.get((topic, partition))
        if part is None or part.windows.max_ts < 0:
            return -1
        return part.windows.max_ts - self.lateness_ms

    def closed_everywhere(self, topic: str, partitions: int) -> int:
        """The window end up to which all ``partitions`` partitions of ``topic`` have
        closed their windows (-1 until each has seen an event)."""
        ends = [p.windows.max_ts - self.lateness_ms
                for (t, _), p in self._parts.items() if t == topic and p.windows.max_ts >= 0]
        return min(ends) if len(ends) >= partitions else -1

    def drop(self, topic: str, partition: int) -> None:
        """Forget a partition (revoked in a rebalance): its new owner rebuilds it."""
        self._parts.pop((topic, partition), None)

    def close_all(self) -> list[WindowAggregate]:
        """Close every open window of every partition (end of a finite replay)."""
        return [agg for part in self._parts.values() for agg in part.windows.close_all()]

    def take_first_uses(self) -> list[FirstUse]:
        """The texts one account used in windows :meth:`close_all` closed."""
        out = []
        for part in self._parts.values():
            out += part.windows.first_uses
            part.windows.first_uses = []
        return out

    @property
    def open_windows(self) -> int:
        return sum(p.windows.open_windows for p in self._parts.values())

    def take_terms_dropped(self) -> int:
        """Term uses dropped (a window held its most terms) since the last call."""
        out = 0
        for part in self._parts.values():
            out += part.windows.terms_dropped
            part.windows.terms_dropped = 0
        return out
