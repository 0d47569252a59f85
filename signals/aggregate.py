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
