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

import sys
from collections.abc import Callable
from functools import lru_cache
from operator import attrgetter
from typing import NamedTuple

import mmh3

from signals.aggregate import FirstUse, WindowAggregate
from signals.pins import Pin
from signals.record import (
    MAX_ACCOUNTS,
    MAX_CONTEXTS,
    MAX_PLACES,
    MAX_SAMPLE_IDS,
    MAX_TEXTS,
)
from signals.text import Spellings, fingerprint, terms, tokens
from streams import contract as c
from streams.errors import BadRecord
from streams.price_bands import PriceBands
from streams.recent import Recent
from streams.term_table import TermTable

_TAG = {cls: cls.__struct_config__.tag for cls in (*c.LiveEvent.__args__, *c.ListingEvent.__args__)}
_SNAPSHOT_SAMPLES = 5
STREAM_CATEGORIES = 200_000  # streams per partition whose category is remembered
_PRICE_TAGS = frozenset(("listing_created", "listing_updated", "price_changed"))
_TITLE_TAGS = frozenset(("listing_created", "listing_updated"))
TEXT_SAMPLE_CHARS = 200
MAX_TERMS = 50_000  # (term, region) counters per partition and window (streams.term_table)
SPELLINGS = 4_096  # plain spellings of code words a partition reads drawn-out ones by
_USES = attrgetter("count")  # a term counter's uses (a _TextAcc's count)


class StreamStart(NamedTuple):
    """A stream's category as its ``stream_start`` gave it: the worker stores it before
    committing past that event, so a restart that resumes after it still knows it."""

    stream_id: str
    region: str
    category: str
    ts: int


def pin_of_event(ev: c.ProductPin) -> Pin:
    """The :class:`~signals.pins.Pin` a ``product_pin`` event sends to its listing."""
    return Pin(listing_id=ev.listing_id, stream_id=ev.stream_id, ts=ev.ts, price=ev.price,
               currency=ev.currency, event_id=ev.event_id)


@lru_cache(maxsize=4096)
def category_words(category: str) -> frozenset[str]:
    """The words of a category's name. In a listing's or a stream's title they are no
    news: a region's first trading-card listings all say "cards", and that is not an
    emerging term.

    >>> sorted(category_words("collectibles/cards"))
    ['cards', 'collectibles']
    """
    return frozenset(tokens(category.replace("/", " ")))


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
            # amounts near the largest float add up past it, and JSON has no infinity:
            # the windows topic would carry null, which the detect stage cannot read
            features["purchase_amount_sum"] = min(sum(a * n for a, n in self.amounts.items()),
                                                  sys.float_info.max)
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


class _SegmentAcc(_Acc):
    """A segment's (category x region) window: its reports, which streams drew them,
    and its audience (each stream's mean viewers over the window, to a whole viewer,
    summed). Whole numbers add up the same in any order, so a window merged from
    partitions' parts is the same however they arrive (after a restart, too)."""

    __slots__ = ("stream_reports", "viewers")

    def __init__(self, segment: str, region: str, category: str) -> None:
        super().__init__("segment", segment, region)
        self.context["category"] = category
        self.viewers = 0
        self.stream_reports: dict[str, int] = {}

    def add_report(self, ev: c._LiveEvent, reason: str) -> None:
        self.counts["report"] = self.counts.get("report", 0) + 1
        self.reasons[reason] = self.reasons.get(reason, 0) + 1
        self.actors.add(ev.stream_id)
        self.stream_reports[ev.stream_id] = self.stream_reports.get(ev.stream_id, 0) + 1
        self.sample("report", ev.event_id)

    def aggregate(self, window_start: int, window_end: int) -> WindowAggregate:
        agg = super().aggregate(window_start, window_end)
        agg.features["viewers"] = float(self.viewers)
        if self.stream_reports:  # the most reported streams: what a surge is made of
            top = sorted(self.stream_reports.items(), key=lambda kv: (-kv[1], kv[0]))
            agg.breakdown["stream_reports"] = dict(top[:MAX_PLACES])
        return agg


class _ListingAcc(_Acc):
    """A listing's window; with its category's price band (log price of new listings:
    mean, std and how many learned) as it stood before the window's first price."""

    __slots__ = ("band", "seller_age")

    def __init__(self, listing_id: str, region: str,
                 band: tuple[float, float, int] | None) -> None:
        super().__init__("listing", listing_id, region)
        self.band = band
        self.seller_age = -1  # the seller's account age in days, as the last event gave it

    def aggregate(self, window_start: int, window_end: int) -> WindowAggregate:
        agg = super().aggregate(window_start, window_end)
        if self.seller_age >= 0:
            agg.features["seller_account_age_days"] = float(self.seller_age)
        if self.band is not None:
            mean, std, n = self.band
            agg.features.update(band_log_mean=mean, band_log_std=std, band_n=float(n))
        return agg


class _TextAcc:
    """A text entity's open window: a comment fingerprint (``account_cluster``) or a
    term in a region (``term``): who used it, where, and a few examples."""

    __slots__ = ("accounts", "contexts", "count", "entity_id", "entity_type", "first_ts", "ids",
                 "listings", "region", "regions", "sellers", "streams", "texts", "young")

    def __init__(self, entity_type: str, entity_id: str, region: str) -> None:
        self.entity_type = entity_type
        self.entity_id = entity_id
        self.region = region
        self.count = 0
        self.young = 0
        self.first_ts = 2**62
        self.accounts: set[str] = set()
        self.streams: set[str] = set()
        self.listings: set[str] = set()
        self.sellers: set[str] | None = None  # who wrote the titles (made when first needed)
        self.contexts: set[str] = set()  # distinct texts (hashes) a term was used in
        self.ids: list[str] = []
        self.texts: list[str] = []
        self.regions: dict[str, int] = {}

    def add(self, event_id: str, ts: int, account: str | None, stream: str | None,
            listing: str | None, young: bool, text: str, context: str | None) -> None:
        self.count += 1
        if young:
            self.young += 1
        if ts < self.first_ts:
            self.first_ts = ts
        if account is not None and len(self.accounts) < MAX_ACCOUNTS:
            self.accounts.add(account)
        if stream is not None:
            if len(self.streams) < MAX_PLACES:
                self.streams.add(stream)
        elif listing is not None:
            if len(self.listings) < MAX_PLACES:
                self.listings.add(listing)
            if account is not None:
                if self.sellers is None:
                    self.sellers = set()
                if len(self.sellers) < MAX_PLACES:
                    self.sellers.add(account)
        if context is not None and len(self.contexts) < MAX_CONTEXTS:
            self.contexts.add(context)
        if len(self.ids) < MAX_SAMPLE_IDS:
            self.ids.append(event_id)
            if len(self.texts) < MAX_TEXTS:
                sample = text[:TEXT_SAMPLE_CHARS]
                if sample not in self.texts:
                    self.texts.append(sample)

    def aggregate(self, window_start: int, window_end: int) -> WindowAggregate:
        samples = {"event": self.ids, "account": sorted(self.accounts), "text": self.texts}
        if self.contexts:
            samples["context"] = sorted(self.contexts)
        if self.streams:
            samples["stream"] = sorted(self.streams)
        if self.listings:
            samples["listing"] = sorted(self.listings)
        if self.sellers:
            samples["seller"] = sorted(self.sellers)
        return WindowAggregate(
            entity_type=self.entity_type, entity_id=self.entity_id, region=self.region,
            window_start=window_start, window_end=window_end,
            features={"n_use": float(self.count), "young_actor_events": float(self.young),
                      "first_ts": float(self.first_ts),
                      "distinct_accounts": float(len(self.accounts)),
                      "distinct_texts": float(len(self.contexts)),
                      "distinct_streams": float(len(self.streams)),
                      "distinct_listings": float(len(self.listings)),
                      "distinct_sellers": float(len(self.sellers or ()))},
            samples=samples, breakdown={"regions": self.regions} if self.regions else {})


#: a fingerprint's first use: (event_id, ts, account, stream, region, young, text)
_First = tuple[str, int, str, str | None, str, bool, str]
#: a window's key in its bucket: a stream's or seller's id, or (kind, ...) for the others
_Key = str | tuple[str, ...]


def _first_use(fp: str, first: _First) -> _TextAcc:
    """A fingerprint's window holding its first use, ``(event_id, ts, account, stream,
    region, young, text)``."""
    event_id, ts, account, stream, region, young, text = first
    acc = _TextAcc("account_cluster", f"fp-{fp}", region)
    acc.add(event_id, ts, account, stream, None, young, text, None)
    acc.regions[region] = 1
    return acc


class _Bucket:
    __slots__ = ("accs", "clusters", "first_fp", "first_offset", "terms")

    def __init__(self, first_offset: int) -> None:
        self.first_offset = first_offset
        self.accs: dict[_Key, _Acc] = {}
        self.terms: TermTable[_TextAcc] = TermTable(MAX_TERMS, _USES)  # "term|region" -> window
        self.clusters: dict[str, _TextAcc] = {}  # fingerprint -> its window
        # a fingerprint one account has used so far: not a cluster here (yet), kept small
        # and sent as a one-account part at close, to merge with other partitions' parts
        self.first_fp: dict[str, _First] = {}


class PartitionWindows:
    """The open windows of one input partition."""

    def __init__(self, size_ms: int, lateness_ms: int, young_days: int,
                 terms: bool = True, clusters: bool = True, segments: bool = True,
                 category_of: Callable[[str], str | None] | None = None,
                 price_bands: PriceBands | None = None) -> None:
        """``terms``, ``clusters`` and ``segments``: whether to do the work of
        ``emerging_term``, ``coordinated_comments`` and ``segment_report_surge`` (the
        worker skips it for a disabled signal). ``category_of``: where to look up the
        category of a stream whose ``stream_start`` this partition has not seen (the
        worker: the stream's stored state). ``price_bands``: the categories' price bands
        (:class:`~streams.price_bands.PriceBands`) to learn and read, shared by a
        worker's partitions; this partition's own if not given."""
        self.size_ms = size_ms
        self.terms = terms
        self.clusters = clusters
        self.segments = segments
        self.lateness_ms = lateness_ms
        self.young_days = young_days
        self.max_ts = -1
        self._buckets: dict[int, _Bucket] = {}
        # streams are keyed to one partition: each partition learns its streams'
        # categories from stream_start, for the per-segment (category x region) windows
        self._categories = Recent(STREAM_CATEGORIES)
        self._category_of = category_of
        # listings are keyed by listing_id, so every partition sees a random share of a
        # category's listings: enough to learn what its prices usually are
        self._bands = PriceBands() if price_bands is None else price_bands
        # how this partition's chat spells code words plainly: "mirrrrorgrade" is read
        # as the "mirrorgrade" it wrote, not as "mirorgrade" (signals.text.Spellings)
        self._spellings = Spellings(SPELLINGS)
        self.terms_dropped = 0  # term uses not counted: a window held MAX_TERMS others
        self.started: list[StreamStart] = []  # categories learned since the last batch
        self.pins: list[Pin] = []  # listings pinned since the last batch: for their owners
        # texts one account used in a window closed since the last batch (clusters on)
        self.first_uses: list[FirstUse] = []

    @property
    def open_windows(self) -> int:
        return sum(len(b.accs) + len(b.terms) + len(b.clusters) for b in self._buckets.values())

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
        bucket = self._bucket(ev.ts, offset)
        accs = bucket.accs
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
            if self.segments:
                category = self._category(ev.stream_id)
                if category is not None:
                    self._segment(accs, category, ev.region).add_report(ev, reason)
        elif tag == "purchase":
            amount = ev.amount  # type: ignore[attr-defined]
            acc.amounts[amount] = acc.amounts.get(amount, 0) + 1
            if young:
                acc.young_purchases += 1
            acc.sample("purchase", ev.event_id)
        elif tag == "comment":
            self._fold_text(bucket, ev.text,  # type: ignore[attr-defined]
                            ev.event_id, ev.ts, user, ev.stream_id, None, ev.region, young,
                            comment=True)
        elif tag == "stream_start":
            category = ev.category  # type: ignore[attr-defined]
            acc.context["category"] = category
            if self.segments and self._categories.get(ev.stream_id) != category:
                self.started.append(StreamStart(ev.stream_id, ev.region, category, ev.ts))
            self._categories[ev.stream_id] = category
            acc.sample("stream_start", ev.event_id, 1)
            self._fold_text(bucket, ev.title,  # type: ignore[attr-defined]
                            ev.event_id, ev.ts, ev.seller_id, ev.stream_id, None, ev.region,
                            False, comment=False,
                            category=ev.category)  # type: ignore[attr-defined]
        elif tag == "product_pin":
            self.pins.append(pin_of_event(ev))  # type: ignore[arg-type]
        elif tag == "stream_end":
            acc.ended = True

    def _fold_text(self, bucket: _Bucket, text: str, event_id: str, ts: int,
                   account: str | None, stream: str | None, listing: str | None, region: str,
                   young: bool, comment: bool, category: str | None = None) -> None:
        """A comment or title counts for each of its terms in its region (a title not
        for the words of its own ``category``), and a comment for its fingerprint
        (a one-account use is kept aside until a second account uses it). A term
        counts texts by their fingerprint, so a bot's varied copies of one text are
        one text to it, as exact copies are."""
        if not self.terms and not (comment and self.clusters):
            return
        toks = tokens(text, self._spellings)
        fp = fingerprint(toks)
        if self.terms:
            self._fold_terms(bucket, toks, fp, event_id, ts, account, stream, listing, region,
                             young, text,
                             frozenset() if category is None else category_words(category))
        if fp is None or not comment or account is None or not self.clusters:
            return
        acc = bucket.clusters.get(fp)
        if acc is None:
            first = bucket.first_fp.get(fp)
            if first is None:
                bucket.first_fp[fp] = (event_id, ts, account, stream, region, young, text)
                return
            if first[2] == account:
                return  # one account repeating itself is not coordination
            acc = bucket.clusters[fp] = _first_use(fp, first)
            del bucket.first_fp[fp]
        acc.add(event_id, ts, account, stream, None, young, text, None)
        acc.regions[region] = acc.regions.get(region, 0) + 1

    def _fold_terms(self, bucket: _Bucket, toks: list[str], fp: str | None, event_id: str,
                    ts: int, account: str | None, stream: str | None, listing: str | None,
                    region: str, young: bool, text: str, known: frozenset[str]) -> None:
        found = bucket.terms
        # tells texts apart: near copies by their fingerprint, short texts as written
        context = fp or f"{mmh3.hash(' '.join(toks), signed=False):08x}"
        suffix = "|" + region
        for term in terms(toks):
            if term in known:
                continue
            key = term + suffix
            acc = found.get(key)
            if acc is None:
                acc = found.admit(key, lambda: _TextAcc("term", key, region))  # noqa: B023
                if acc is None:
                    continue
            acc.add(event_id, ts, account, stream, listing, young, text, context)
        if found.uncounted:
            self.terms_dropped += found.uncounted
            found.uncounted = 0

    def _category(self, stream_id: str) -> str | None:
        category: str | None = self._categories.get(stream_id)
        if category is None and self._category_of is not None:
            category = self._category_of(stream_id)
            if category is not None:
                self._categories[stream_id] = category
        return category

    @staticmethod
    def _segment(accs: dict[_Key, _Acc], category: str, region: str) -> _SegmentAcc:
        """The window of a segment (category x region), across the partition's streams."""
        key = ("segment", category, region)
        acc: _SegmentAcc | None = accs.get(key)  # type: ignore[assignment]  # its key says
        if acc is None:
            acc = accs[key] = _SegmentAcc(f"{category}|{region}", region, category)
        return acc

    def _fold_exposure(self, accs: dict[_Key, _Acc]) -> None:
        """At close: each stream with a known category and viewer snapshots adds its
        mean audience (to a whole viewer) to its segment's."""
        for acc in list(accs.values()):
            if acc.entity_type == "stream" and acc.viewers_n:
                category = self._category(acc.entity_id)
                if category is not None:
                    self._segment(accs, category, acc.region).viewers += round(
                        acc.viewers_sum / acc.viewers_n)

    def fold_listing(self, ev: c._ListingEvent, offset: int) -> None:
        """Fold a ``listing.events`` event into its seller's window."""
        bucket = self._bucket(ev.ts, offset)
        accs = bucket.accs
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
        self._fold_seller_age(acc, age)
        if tag == "listing_reported":
            reason = ev.reason  # type: ignore[attr-defined]
            acc.reasons[reason] = acc.reasons.get(reason, 0) + 1
            acc.sample("report", ev.event_id)
        else:
            acc.sample(tag, ev.event_id)
        if tag in _PRICE_TAGS:
            self._fold_price(accs, ev, tag)
        if tag in _TITLE_TAGS:
            self._fold_text(bucket, ev.title,  # type: ignore[attr-defined]
                            ev.event_id, ev.ts, ev.seller_id, None, ev.listing_id, ev.region,
                            False, comment=False,
                            category=ev.category)

    def _fold_seller_age(self, acc: _Acc, age: int | None) -> None:
        """Count a listing event's seller as young or established (by its account age)."""
        if age is not None:
            if age <= self.young_days:
                acc.young += 1
            else:
                acc.aged += 1

    def _fold_price(self, accs: dict[_Key, _Acc], ev: c._ListingEvent, tag: str) -> None:
        """The listing's own window (key ``("listing", id)``): its prices, for price moves."""
        key = ("listing", ev.listing_id)
        band_key = f"{ev.category}|{ev.currency or ev.region}"
        acc: _ListingAcc | None = accs.get(key)  # type: ignore[assignment]  # its key says
        if acc is None:
            acc = accs[key] = _ListingAcc(ev.listing_id, ev.region, self._bands.snapshot(band_key))
            acc.context["seller_id"] = ev.seller_id
            acc.context["category"] = ev.category
        acc.counts[tag] = acc.counts.get(tag, 0) + 1
        age = ev.seller_account_age_days  # a bait price's seller: young or established
        if age is not None:  # a feature, not context: a listing's state need not keep it
            acc.seller_age = age
        self._fold_seller_age(acc, age)
        price = ev.price  # type: ignore[attr-defined]
        if tag == "listing_created":  # the band: what new listings of the category cost
            self._bands.learn(band_key, price, ev.seller_id)
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

    def advance(self, ts: int) -> list[WindowAggregate]:
        """Move event time on to ``ts`` with no event (a quiet partition,
        :mod:`streams.idle`); close the windows that completes."""
        if ts > self.max_ts >= 0:
            self.max_ts = ts
        return self.close_ready()

    def close_all(self) -> list[WindowAggregate]:
        """Close every open window (end of a finite replay)."""
        return self._close(sorted(self._buckets))

    def _close(self, starts: list[int]) -> list[WindowAggregate]:
        out: list[WindowAggregate] = []
        for start in starts:
            bucket = self._buckets.pop(start)
            end = start + self.size_ms
            if self.segments:
                self._fold_exposure(bucket.accs)
            out.extend(acc.aggregate(start, end) for acc in bucket.accs.values())
            out.extend(acc.aggregate(start, end) for acc in bucket.terms.values())
            out.extend(acc.aggregate(start, end) for acc in bucket.clusters.values())
            # a text one account used here may be a cluster's share of this partition:
            # its other accounts may all have posted on other partitions
            self.first_uses.extend(
                FirstUse(fp, start, end, event_id, ts, account, stream, region, young,
                         text[:TEXT_SAMPLE_CHARS])
                for fp, (event_id, ts, account, stream, region, young, text)
                in bucket.first_fp.items())
        return out

    def commit_offset(self, next_offset: int) -> int:
        """The input offset safe to commit: the oldest open window's first record."""
        if not self._buckets:
            return next_offset
        return min(b.first_offset for b in self._buckets.values())
