"""Per-partition tumbling event-time windows: fold events in, closed aggregates out.

Pure Python, no Kafka: one :class:`PartitionWindows` per input partition. A
window ``[start, start + size)`` closes once the partition's newest event time
passes ``start + size + allowed_lateness``; an event for a window that has
already closed raises ``BadRecord("late", ...)``. Each bucket of windows
remembers the first input offset folded into it, so the caller can commit input
offsets only up to the oldest open window and rebuild the rest from the topic
after a crash.

>>> import orjson
>>> from streams.contract import decode, LIVESTREAM_TOPIC
>>> def ev(i, ts, **kw):
...     base = {"schema_version": 1, "event_id": f"e{i}", "ts": ts, "stream_id": "s1",
...             "seller_id": "x", "region": "US", "event_type": "viewer_snapshot", "viewers": 100}
...     return decode(LIVESTREAM_TOPIC, orjson.dumps(base | kw))
>>> pw = PartitionWindows(size_ms=60_000, lateness_ms=5_000, young_days=7)
>>> pw.fold(ev(1, 1_000), offset=0)
>>> pw.fold(ev(2, 30_000, event_type="report", user_id="u", reason="fraud"), offset=1)
>>> pw.fold(ev(3, 64_000), offset=2)
>>> pw.close_ready(), pw.commit_offset(next_offset=3)
([], 0)
>>> pw.fold(ev(4, 66_000), offset=3)
>>> [(a.entity_id, a.window_start, a.features["n_report"]) for a in pw.close_ready()]
[('s1', 0, 1.0)]
>>> pw.commit_offset(next_offset=4)
2
"""

from __future__ import annotations

from signals.aggregate import WindowAggregate
from signals.record import MAX_SAMPLE_IDS
from streams import contract as c
from streams.errors import BadRecord
from streams.recent import Recent

_TAG = {cls: cls.__struct_config__.tag for cls in (*c.LiveEvent.__args__, *c.ListingEvent.__args__)}
_SNAPSHOT_SAMPLES = 5
STREAM_CATEGORIES = 200_000  # streams per partition whose category is remembered
_PRICE_TAGS = frozenset(("listing_created", "listing_updated", "price_changed"))


class _Acc:
    """One entity's open window: counters and small samples, nothing per event kept."""

    __slots__ = (
        "actors",
        "aged",
        "amounts",
        "context",
        "counts",
        "ended",
        "entity_id",
        "entity_type",
        "price_last",
        "price_min",
        "price_ref",
        "reasons",
        "region",
        "reporters",
        "samples",
        "viewers_max",
        "viewers_n",
        "viewers_sum",
        "young",
        "young_purchases",
    )

    def __init__(self, entity_type: str, entity_id: str, region: str) -> None:
        self.entity_type = entity_type
        self.entity_id = entity_id
        self.region = region
        self.context: dict[str, str] = {}
        self.counts: dict[str, int] = {}
        self.viewers_sum = 0
        self.viewers_n = 0
        self.viewers_max = 0
        self.actors: set[str] = set()
        self.reporters: set[str] = set()
        self.young = 0
        self.young_purchases = 0
        self.price_min = -1.0  # listings: lowest price set in the window (-1: none)
        self.price_last = -1.0
        self.price_ref = -1.0  # the price before the window's first change, when known
        self.aged = 0
        self.reasons: dict[str, int] = {}
        self.amounts: dict[float, int] = {}
        self.samples: dict[str, list[str]] = {}
        self.ended = False

    def sample(self, kind: str, event_id: str, limit: int = MAX_SAMPLE_IDS) -> None:
        ids = self.samples.get(kind)
        if ids is None:
            self.samples[kind] = [event_id]
        elif len(ids) < limit:
            ids.append(event_id)

    def aggregate(self, window_start: int, window_end: int) -> WindowAggregate:
        features = {f"n_{k}": float(v) for k, v in self.counts.items()}
        if self.viewers_n:
            features["viewers_mean"] = self.viewers_sum / self.viewers_n
            features["viewers_max"] = float(self.viewers_max)
        features["distinct_actors"] = float(len(self.actors))
        features["young_actor_events"] = float(self.young)
        features["aged_actor_events"] = float(self.aged)
        if self.reporters:
            features["distinct_reporters"] = float(len(self.reporters))
        if self.amounts:
            total = sum(self.amounts.values())
            features["purchase_amount_sum"] = sum(a * n for a, n in self.amounts.items())
            features["purchase_top_amount_share"] = max(self.amounts.values()) / total
            features["young_purchases"] = float(self.young_purchases)
        if self.price_min >= 0:
            features["price_min"] = self.price_min
            features["price_last"] = self.price_last
            if self.price_ref >= 0:
                features["price_reference"] = self.price_ref
        breakdown = {"report_reasons": self.reasons} if self.reasons else {}
        return WindowAggregate(
            entity_type=self.entity_type, entity_id=self.entity_id, region=self.region,
            window_start=window_start, window_end=window_end, features=features,
            context=self.context, samples=self.samples, breakdown=breakdown, ended=self.ended,
        )


class _Bucket:
    __slots__ = ("accs", "first_offset")

    def __init__(self, first_offset: int) -> None:
        self.first_offset = first_offset
        self.accs: dict[str, _Acc] = {}


class PartitionWindows:
    """The open windows of one input partition."""

    def __init__(self, size_ms: int, lateness_ms: int, young_days: int) -> None:
        self.size_ms = size_ms
        self.lateness_ms = lateness_ms
        self.young_days = young_days
        self.max_ts = -1
        self._buckets: dict[int, _Bucket] = {}
        # streams are keyed to one partition: each partition learns its streams'
        # categories from stream_start, for the per-segment (category x region) windows
        self._categories = Recent(STREAM_CATEGORIES)

    @property
    def open_windows(self) -> int:
        return sum(len(b.accs) for b in self._buckets.values())

    def fold(self, event: c.LiveEvent | c.ListingEvent, offset: int) -> None:
        """Fold one event of either topic (the ingest loop calls the typed ones)."""
        if isinstance(event, c._LiveEvent):
            self.fold_live(event, offset)
        else:
            self.fold_listing(event, offset)

    def _bucket(self, ts: int, offset: int) -> _Bucket:
        start = ts - ts % self.size_ms
        bucket = self._buckets.get(start)
        if bucket is not None:
            if ts > self.max_ts:
                self.max_ts = ts
            return bucket
        if start + self.size_ms + self.lateness_ms <= self.max_ts:
            raise BadRecord(
                "late",
                f"ts {ts} falls in window [{start}, {start + self.size_ms}) which closed at "
                f"event time {start + self.size_ms + self.lateness_ms} (newest seen {self.max_ts})",
            )
        if ts > self.max_ts:
            self.max_ts = ts
        bucket = self._buckets[start] = _Bucket(offset)
        return bucket

    def fold_live(self, ev: c._LiveEvent, offset: int) -> None:
        """Fold a ``livestream.events`` event into its stream's window."""
        accs = self._bucket(ev.ts, offset).accs
        acc = accs.get(ev.stream_id)
        if acc is None:
            acc = accs[ev.stream_id] = _Acc("stream", ev.stream_id, ev.region)
        tag = _TAG[type(ev)]
        counts = acc.counts
        counts[tag] = counts.get(tag, 0) + 1
        if tag == "viewer_snapshot":
            viewers = ev.viewers  # type: ignore[attr-defined]
            acc.viewers_sum += viewers
            acc.viewers_n += 1
            if viewers > acc.viewers_max:
                acc.viewers_max = viewers
            acc.sample("viewer_snapshot", ev.event_id, _SNAPSHOT_SAMPLES)
            return
        if not acc.context:
            acc.context["seller_id"] = ev.seller_id
        user = ev.user_id
        young = False
        if user is not None:
            acc.actors.add(user)
            age = ev.account_age_days
            if age is not None:
                if age <= self.young_days:
                    young = True
                    acc.young += 1
                    acc.sample("young_actor", ev.event_id)
                else:
                    acc.aged += 1
        if tag == "report":
            reason = ev.reason  # type: ignore[attr-defined]
            acc.reasons[reason] = acc.reasons.get(reason, 0) + 1
            if user is not None:
                acc.reporters.add(user)
            acc.sample("report", ev.event_id)
            category = self._categories.get(ev.stream_id)
            if category is not None:
                self._fold_segment(accs, ev, category, reason)
        elif tag == "purchase":
            amount = ev.amount  # type: ignore[attr-defined]
            acc.amounts[amount] = acc.amounts.get(amount, 0) + 1
            if young:
                acc.young_purchases += 1
            acc.sample("purchase", ev.event_id)
        elif tag == "stream_start":
            acc.context["category"] = ev.category  # type: ignore[attr-defined]
            self._categories[ev.stream_id] = ev.category  # type: ignore[attr-defined]
            acc.sample("stream_start", ev.event_id, 1)
        elif tag == "stream_end":
            acc.ended = True

    def _fold_segment(self, accs: dict, ev: c._LiveEvent, category: str, reason: str) -> None:
        """A report also counts for its segment (category x region), across streams."""
        segment = f"{category}|{ev.region}"
        key = ("segment", segment)
        acc = accs.get(key)
        if acc is None:
            acc = accs[key] = _Acc("segment", segment, ev.region)
            acc.context["category"] = category
        acc.counts["report"] = acc.counts.get("report", 0) + 1
        acc.reasons[reason] = acc.reasons.get(reason, 0) + 1
        acc.actors.add(ev.stream_id)
        acc.sample("report", ev.event_id)

    def fold_listing(self, ev: c._ListingEvent, offset: int) -> None:
        """Fold a ``listing.events`` event into its seller's window."""
        accs = self._bucket(ev.ts, offset).accs
        acc = accs.get(ev.seller_id)
        if acc is None:
            acc = accs[ev.seller_id] = _Acc("seller", ev.seller_id, ev.region)
        tag = _TAG[type(ev)]
        acc.counts[tag] = acc.counts.get(tag, 0) + 1
        if "category" not in acc.context:
            acc.context["category"] = ev.category
        age = ev.seller_account_age_days
        if age is not None:
            acc.context["seller_account_age_days"] = str(age)
        if tag == "listing_reported":
            reason = ev.reason  # type: ignore[attr-defined]
            acc.reasons[reason] = acc.reasons.get(reason, 0) + 1
            acc.sample("report", ev.event_id)
        else:
            acc.sample(tag, ev.event_id)
        if tag in _PRICE_TAGS:
            self._fold_price(accs, ev, tag)

    def _fold_price(self, accs: dict, ev: c._ListingEvent, tag: str) -> None:
        """The listing's own window (key ``("listing", id)``): its prices, for price moves."""
        key = ("listing", ev.listing_id)
        acc = accs.get(key)
        if acc is None:
            acc = accs[key] = _Acc("listing", ev.listing_id, ev.region)
            acc.context["seller_id"] = ev.seller_id
            acc.context["category"] = ev.category
        acc.counts[tag] = acc.counts.get(tag, 0) + 1
        price = ev.price  # type: ignore[attr-defined]
        if acc.price_ref < 0 and tag == "price_changed":
            acc.price_ref = ev.previous_price  # type: ignore[attr-defined]
        if acc.price_min < 0 or price < acc.price_min:
            acc.price_min = price
        acc.price_last = price
        acc.sample("price", ev.event_id)

    def close_ready(self) -> list[WindowAggregate]:
        """Close every window whose end plus the allowed lateness has passed."""
        horizon = self.max_ts - self.lateness_ms - self.size_ms
        ready = [start for start in self._buckets if start <= horizon]
        return self._close(sorted(ready))

    def close_all(self) -> list[WindowAggregate]:
        """Close every open window (end of a finite replay)."""
        return self._close(sorted(self._buckets))

    def _close(self, starts: list[int]) -> list[WindowAggregate]:
        out = []
        for start in starts:
            bucket = self._buckets.pop(start)
            end = start + self.size_ms
            out.extend(acc.aggregate(start, end) for acc in bucket.accs.values())
        return out

    def commit_offset(self, next_offset: int) -> int:
        """The input offset safe to commit: the oldest open window's first record."""
        if not self._buckets:
            return next_offset
        return min(b.first_offset for b in self._buckets.values())
