"""Windows of entities whose events are spread over several input partitions.

``listing.events`` is keyed by listing, so one seller's listings land on every
partition, and each partition closes its own partial window of that seller.
The partials are keyed by entity on the windows topic, so they meet in one
place, where a :class:`Merger` adds them up before the engine sees the
window: counts and sums add, samples and context are united.

A merged window is released as soon as every input partition has closed it:
each partition reports how far it has closed its windows (the worker sends a
small watermark record to the windows topic, a replay knows it directly), see
:meth:`Merger.watermark` and :meth:`Merger.ready_before`. As a fallback (a
partition that never reports, e.g. one with no events at all) a window is
also released once its first partial has waited ``settle_ms`` (``SETTLE_MS`` in
the worker, of wall time; a replay counts it in event time).

A partial may arrive twice (an input partition re-read after a crash closes a
window again; the worker reads windows records again after a restart). Given
the input partition it came from (``source``), a merger keeps one partial per
source and window, so a repeat is not counted twice.

>>> def part(n, ids):
...     return WindowAggregate(entity_type="seller", entity_id="sl-1", region="US",
...         window_start=0, window_end=60_000, features={"n_listing_created": n},
...         samples={"listing_created": ids})
>>> m = Merger(settle_ms=2_000)
>>> m.add(part(2.0, ["a", "b"]), now_ms=0), m.add(part(1.0, ["c"]), now_ms=500)
(True, True)
>>> m.ready(now_ms=1_000)
[]
>>> [(w.features["n_listing_created"], w.samples["listing_created"]) for w in m.ready(2_000)]
[(3.0, ['a', 'b', 'c'])]
"""

from __future__ import annotations

import functools
from collections.abc import Iterable

import msgspec

from signals.aggregate import FirstUse, WindowAggregate
from signals.record import (
    MAX_ACCOUNTS,
    MAX_CONTEXTS,
    MAX_PLACES,
    MAX_SAMPLE_IDS,
    MAX_TEXTS,
)
from signals.state import packed

#: entity types whose windows arrive in partials (their events are keyed otherwise),
#: and the input topics whose partitions each send one
SPREAD_SOURCES: dict[str, tuple[str, ...]] = {
    "seller": ("listing.events",),
    "segment": ("livestream.events",),
    "account_cluster": ("livestream.events",),
    "term": ("livestream.events", "listing.events"),
}
SPREAD_ENTITY_TYPES = frozenset(SPREAD_SOURCES)

_MAX_FEATURES = frozenset(("viewers_max",))
_MIN_FEATURES = frozenset(("first_ts",))
#: sample lists that are sets (united, not appended) with their own caps, and the
#: feature that counts their distinct members
_SETS = {"account": ("distinct_accounts", MAX_ACCOUNTS),
         "stream": ("distinct_streams", MAX_PLACES),
         "listing": ("distinct_listings", MAX_PLACES),
         "seller": ("distinct_sellers", MAX_PLACES),
         "context": ("distinct_texts", MAX_CONTEXTS),
         "text": (None, MAX_TEXTS)}

SETTLE_MS = 120_000  # fallback: partial windows of a spread entity wait at most this


def _sellers_counted(part: WindowAggregate) -> WindowAggregate:
    """A term's part written before sellers were counted (it has listings but no
    ``distinct_sellers``) with each of its listings counted as a seller, as its
    version counted them; merged as it is with a newer part, its titles would count
    for nothing. Its listing ids then stand in the merged ``seller`` sample: such
    parts come only from workers not yet upgraded.

    >>> old = WindowAggregate(entity_type="term", entity_id="show|DE", region="DE",
    ...     window_start=0, window_end=60_000, samples={"listing": ["li-1", "li-2"]},
    ...     features={"distinct_listings": 2.0, "distinct_texts": 2.0})
    >>> new = WindowAggregate(entity_type="term", entity_id="show|DE", region="DE",
    ...     window_start=0, window_end=60_000, samples={"listing": ["li-3"], "seller": ["s"]},
    ...     features={"distinct_listings": 1.0, "distinct_sellers": 1.0})
    >>> merge(old, new).features["distinct_sellers"], merge(new, old).features["distinct_sellers"]
    (3.0, 3.0)
    >>> merge(new, new).features["distinct_sellers"]
    1.0
    """
    f = part.features
    if part.entity_type != "term" or "distinct_sellers" in f or not f.get("distinct_listings"):
        return part
    return msgspec.structs.replace(
        part, features={**f, "distinct_sellers": f["distinct_listings"]},
        samples={**part.samples, "seller": list(part.samples.get("listing", ()))})


def merge(a: WindowAggregate, b: WindowAggregate) -> WindowAggregate:
    """Two partial windows of one entity and one window start, as one."""
    a, b = _sellers_counted(a), _sellers_counted(b)
    features = dict(a.features)
    for k, v in b.features.items():
        if k in _MAX_FEATURES:
            features[k] = max(features.get(k, v), v)
        elif k in _MIN_FEATURES:
            features[k] = min(features.get(k, v), v)
        else:
            features[k] = features.get(k, 0.0) + v
    samples = {k: list(v) for k, v in a.samples.items()}
    for k, ids in b.samples.items():
        kept = samples.get(k, [])
        if k in _SETS:
            counted, cap = _SETS[k]
            if len(kept) < cap:
                have = set(kept)
                kept = (kept + [i for i in ids if i not in have])[:cap]
            if counted is not None:
                features[counted] = float(len(kept))
            samples[k] = kept
        else:
            samples[k] = (kept + ids)[:MAX_SAMPLE_IDS]
    breakdown = {k: dict(v) for k, v in a.breakdown.items()}
    for k, counts in b.breakdown.items():
        into = breakdown.setdefault(k, {})
        for name, n in counts.items():
            into[name] = into.get(name, 0) + n
    return msgspec.structs.replace(
        a, features=features, samples=samples, breakdown=breakdown,
        context=a.context | b.context, ended=a.ended or b.ended)


_pack_use = functools.partial(packed, msgspec.msgpack.Encoder())
_unpack_use = msgspec.msgpack.Decoder(FirstUse).decode


class _Lone:
    """A :class:`~signals.aggregate.FirstUse` held packed (its msgpack bytes, ~210 B)
    until another part of its window arrives: decoded, it takes ~590 B, and most
    first uses never meet another part.

    >>> use = FirstUse("ab", 0, 60_000, "e1", 1, "u1", "s1", "US", False, "dm me")
    >>> lone = _Lone(use)
    >>> lone.window_end, lone.unpack() == use
    (60000, True)
    """

    __slots__ = ("raw", "window_end")

    def __init__(self, use: FirstUse) -> None:
        self.raw = _pack_use(use)
        self.window_end = use.window_end

    def unpack(self) -> FirstUse:
        return _unpack_use(self.raw)


Part = WindowAggregate | FirstUse
MergeKey = tuple[str, int]  # (entity key, window start)


def _window(part: WindowAggregate | FirstUse | _Lone) -> WindowAggregate:
    if isinstance(part, _Lone):
        part = part.unpack()
    return part.as_window() if isinstance(part, FirstUse) else part


class Merger:
    """Pending partial windows, keyed by entity and window start."""

    def __init__(self, settle_ms: int, topics: tuple[str, ...] = ("",)) -> None:
        self.settle_ms = settle_ms
        self.topics = topics
        # (entity key, window start) -> (first partial's arrival, merged, its sources);
        # sources a tuple: a few at most, and most texts' windows hold one part
        self._pending: dict[MergeKey, tuple[int, WindowAggregate | _Lone, tuple[str, ...]]] = {}
        self._lone: list[MergeKey] = []
        # (input topic, partition) -> window end closed up to; and each topic's partitions
        self._closed: dict[tuple[str, int], int] = {}
        self._partitions: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self._pending)

    def oldest_start(self) -> int | None:
        """The start of the earliest window held, or None if none is.

        >>> m = Merger(settle_ms=60_000)
        >>> m.oldest_start() is None
        True
        >>> for start in (120_000, 60_000):
        ...     _ = m.add(WindowAggregate(entity_type="seller", entity_id="s", region="US",
        ...           window_start=start, window_end=start + 60_000, features={}), now_ms=0)
        >>> m.oldest_start()
        60000
        """
        return min((start for _, start in self._pending), default=None)

    def watermark(self, partition: int, partitions: int, closed_until: int, topic: str = ""
                  ) -> list[WindowAggregate]:
        """Input ``partition`` (of ``partitions``) of ``topic`` has closed every window
        ending at or before ``closed_until``: release the merged windows every partition
        of every source topic has closed.

        >>> m = Merger(settle_ms=60_000)
        >>> m.add(WindowAggregate(entity_type="seller", entity_id="s", region="US",
        ...       window_start=0, window_end=60_000, features={}), now_ms=0)
        True
        >>> m.watermark(0, 2, 70_000), len(m)
        ([], 1)
        >>> [w.window_end for w in m.watermark(1, 2, 61_000)], len(m)
        ([60000], 0)
        """
        if closed_until > self._closed.get((topic, partition), -1):
            self._closed[(topic, partition)] = closed_until
        self._partitions[topic] = partitions
        if len(self._closed) < sum(self._partitions.get(t, 1 << 30) for t in self.topics):
            return []
        return self.ready_before(min(self._closed.values()))

    def add(self, agg: Part, now_ms: int, source: str = "", key: MergeKey | None = None
            ) -> bool:
        """Hold a partial window; ``False`` if one from the same ``source`` (an input
        partition, e.g. ``"listing.events:2"``) is already held for its window, and
        this one was left out. An empty ``source`` is never a repeat. A
        :class:`~signals.aggregate.FirstUse` is held packed until another part of its
        window arrives. ``key``, if given, is ``(agg.key, agg.window_start)`` as the
        caller built it for its own bookkeeping: the merger then keeps that object
        rather than a copy (tens of thousands of first uses wait at a time).

        >>> m = Merger(settle_ms=0)
        >>> part = WindowAggregate(entity_type="seller", entity_id="s", region="US",
        ...     window_start=0, window_end=60_000, features={"n_listing_created": 2.0})
        >>> m.add(part, 0, "listing.events:1"), m.add(part, 0, "listing.events:1")
        (True, False)
        >>> m.add(part, 0, "listing.events:3")
        True
        >>> [w.features["n_listing_created"] for w in m.drain()]
        [4.0]
        """
        if key is None:
            key = (agg.key, agg.window_start)
        held = self._pending.get(key)
        if held is None:
            part = _Lone(agg) if isinstance(agg, FirstUse) else agg
            self._pending[key] = (now_ms, part, (source,) if source else ())
            return True
        first, merged, sources = held
        if source:
            if source in sources:
                return False
            sources += (source,)
        self._pending[key] = (first, merge(_window(merged), _window(agg)), sources)
        return True

    def _release(self, keys: list[tuple[str, int]]) -> list[WindowAggregate]:
        out = []
        for k in keys:
            part = self._pending.pop(k)[1]
            if isinstance(part, _Lone):  # one account's text, on no other partition
                self._lone.append(k)
            else:
                out.append(part)
        out.sort(key=lambda a: a.window_start)
        return out

    def take_lone(self) -> list[MergeKey]:
        """The (entity key, window start) of the windows released since the last call
        that held a single :class:`~signals.aggregate.FirstUse`: no window to judge (one
        account is no cluster), but the records that carried them can be acknowledged.

        >>> from signals.aggregate import FirstUse
        >>> m = Merger(settle_ms=0)
        >>> m.add(FirstUse("ab", 0, 60_000, "e1", 1, "u1", "s1", "US", False, "t"), 0)
        True
        >>> m.drain(), m.take_lone(), m.take_lone()
        ([], [('account_cluster:fp-ab', 0)], [])
        """
        out, self._lone = self._lone, []
        return out

    def ready(self, now_ms: int) -> list[WindowAggregate]:
        """Merged windows whose first partial arrived at least ``settle_ms`` ago."""
        return self._release([k for k, (t, _, _) in self._pending.items()
                              if now_ms - t >= self.settle_ms])

    def ready_before(self, window_end_ms: int) -> list[WindowAggregate]:
        """Merged windows that end at or before ``window_end_ms`` (every partition
        has closed them)."""
        return self._release([k for k, (_, a, _) in self._pending.items()
                              if a.window_end <= window_end_ms])

    def drain(self) -> list[WindowAggregate]:
        return self._release(list(self._pending))


class Mergers:
    """One :class:`Merger` per spread entity type, each released by its source topic.

    >>> m = Mergers(settle_ms=60_000)
    >>> m.add(WindowAggregate(entity_type="segment", entity_id="beauty|US", region="US",
    ...       window_start=0, window_end=60_000, features={"n_report": 2.0}), now_ms=0)
    True
    >>> m.watermark("listing.events", 0, 1, 70_000), len(m)
    ([], 1)
    >>> [w.entity_id for w in m.watermark("livestream.events", 0, 1, 70_000)]
    ['beauty|US']
    """

    def __init__(self, settle_ms: int) -> None:
        self._by_type = {t: Merger(settle_ms, topics) for t, topics in SPREAD_SOURCES.items()}
        self._closed_topic: dict[str, int] = {}

    def __len__(self) -> int:
        return sum(len(m) for m in self._by_type.values())

    def oldest_start(self) -> int | None:
        """See :meth:`Merger.oldest_start`."""
        return held_since(m.oldest_start() for m in self._by_type.values())

    def add(self, agg: Part, now_ms: int, source: str = "", key: MergeKey | None = None
            ) -> bool:
        return self._by_type[agg.entity_type].add(agg, now_ms, source, key)

    def watermark(self, topic: str, partition: int, partitions: int, closed_until: int
                  ) -> list[WindowAggregate]:
        return [w for m in self._by_type.values() if topic in m.topics
                for w in m.watermark(partition, partitions, closed_until, topic)]

    def ready(self, now_ms: int) -> list[WindowAggregate]:
        return [w for m in self._by_type.values() for w in m.ready(now_ms)]

    def ready_before(self, topic: str, window_end_ms: int) -> list[WindowAggregate]:
        """Every partition of ``topic`` has closed the windows ending by ``window_end_ms``
        (a replay knows it directly): release those whose every source topic has."""
        self._closed_topic[topic] = max(window_end_ms, self._closed_topic.get(topic, -1))
        out = []
        for m in self._by_type.values():
            if topic in m.topics and all(t in self._closed_topic for t in m.topics):
                out += m.ready_before(min(self._closed_topic[t] for t in m.topics))
        return out

    def drain(self) -> list[WindowAggregate]:
        return [w for m in self._by_type.values() for w in m.drain()]

    def take_lone(self) -> list[MergeKey]:
        """See :meth:`Merger.take_lone`."""
        return [k for m in self._by_type.values() for k in m.take_lone()]


def held_since(starts: Iterable[int | None]) -> int | None:
    """The earliest of some mergers' :meth:`~Merger.oldest_start`, or None.

    >>> held_since([None, 120_000, 60_000]), held_since([None])
    (60000, None)
    """
    return min((s for s in starts if s is not None), default=None)


def sweep_time(newest_end: int, oldest_held: int | None) -> int:
    """The event time a sweep of entity states runs at: the newest judged window's
    end, but no later than the start of the earliest window still held for merging,
    so an entity whose window waits here is not forgotten as silent meanwhile.

    >>> sweep_time(3_600_000, None), sweep_time(3_600_000, 3_480_000)
    (3600000, 3480000)
    """
    return newest_end if oldest_held is None else min(newest_end, oldest_held)
