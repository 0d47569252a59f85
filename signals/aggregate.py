"""The closed-window aggregate: what the deciding stage receives for one entity.

The ingest stage folds raw events into one of these per entity per closed
event-time window; detectors read its ``features``, signals copy its samples
and context into their evidence.

>>> agg = WindowAggregate(entity_type="stream", entity_id="s1", region="US",
...     window_start=0, window_end=60_000, features={"reports": 2.0})
>>> decode_batch(encode_batch([agg])) == [agg]
True
"""

from __future__ import annotations

from typing import ClassVar

import msgspec


class WindowAggregate(msgspec.Struct, kw_only=True, frozen=True):
    entity_type: str
    entity_id: str
    region: str
    window_start: int
    window_end: int
    features: dict[str, float]
    context: dict[str, str] = {}
    samples: dict[str, list[str]] = {}
    breakdown: dict[str, dict[str, int]] = {}
    ended: bool = False

    @property
    def key(self) -> str:
        """The entity's key: in the state store, and hashed to its windows-topic partition."""
        return f"{self.entity_type}:{self.entity_id}"


_encoder = msgspec.json.Encoder()

#: key of the records that carry many closed windows of one windows-topic partition
BATCH_KEY = b"\x00batch"
_batch_decoder = msgspec.json.Decoder(list[WindowAggregate])
#: header of those records naming the input partition their windows were closed in
SOURCE_HEADER = "source"


def encode_batch(aggs: list[WindowAggregate]) -> bytes:
    """Several windows in one record (the detect stage pays its per-record cost once)."""
    return _encoder.encode(aggs)


def decode_batch(raw: bytes) -> list[WindowAggregate]:
    return _batch_decoder.decode(raw)


class FirstUse(msgspec.Struct, array_like=True, frozen=True):
    """A comment text (its ``fp`` fingerprint) that one account used in an input
    partition's window: that partition's share of a possible account cluster, which
    other partitions' shares may join. Sent compactly, many to a record, and made a
    :class:`WindowAggregate` only where it meets another part (see
    :class:`signals.merge.Merger`): most texts are used once.

    >>> use = FirstUse("ab12", 0, 60_000, "e1", 1_000, "u1", "s1", "US", True, "dm me")
    >>> decode_first_uses(encode_first_uses([use])) == [use]
    True
    >>> w = use.as_window()
    >>> w.key, w.features["distinct_accounts"], w.samples["account"], w.breakdown
    ('account_cluster:fp-ab12', 1.0, ['u1'], {'regions': {'US': 1}})
    """

    fp: str
    window_start: int
    window_end: int
    event_id: str
    ts: int
    account: str
    stream: str | None
    region: str
    young: bool
    text: str  # as sampled: cut to the sample length

    entity_type: ClassVar[str] = "account_cluster"

    @property
    def key(self) -> str:
        return f"account_cluster:fp-{self.fp}"

    def as_window(self) -> WindowAggregate:
        """The window of this one use, as the ingest stage builds a cluster's."""
        samples = {"event": [self.event_id], "account": [self.account], "text": [self.text]}
        if self.stream is not None:
            samples["stream"] = [self.stream]
        return WindowAggregate(
            entity_type="account_cluster", entity_id=f"fp-{self.fp}", region=self.region,
            window_start=self.window_start, window_end=self.window_end,
            features={"n_use": 1.0, "young_actor_events": 1.0 if self.young else 0.0,
                      "first_ts": float(self.ts), "distinct_accounts": 1.0,
                      "distinct_texts": 0.0,
                      "distinct_streams": 0.0 if self.stream is None else 1.0,
                      "distinct_listings": 0.0, "distinct_sellers": 0.0},
            samples=samples, breakdown={"regions": {self.region: 1}})


#: key of the records that carry many first uses of texts (see :class:`FirstUse`)
FIRST_USES_KEY = b"\x00first-uses"
_first_uses_decoder = msgspec.json.Decoder(list[FirstUse])


def encode_first_uses(uses: list[FirstUse]) -> bytes:
    return _encoder.encode(uses)


def decode_first_uses(raw: bytes) -> list[FirstUse]:
    return _first_uses_decoder.decode(raw)


#: key of the small records that report an input partition's closed-window progress
WATERMARK_KEY = b"\x00watermark"


class Watermark(msgspec.Struct, frozen=True):
    """Partition ``partition`` (of ``partitions``) of input ``topic`` closed every window
    ending by ``closed_until``.

    >>> decode_watermark(encode_watermark("listing.events", 2, 4, 60_000)).partition
    2
    """

    topic: str
    partition: int
    partitions: int
    closed_until: int


_wm_decoder = msgspec.json.Decoder(Watermark)


def encode_watermark(topic: str, partition: int, partitions: int, closed_until: int) -> bytes:
    return _encoder.encode(Watermark(topic, partition, partitions, closed_until))


def decode_watermark(raw: bytes) -> Watermark:
    return _wm_decoder.decode(raw)
