"""The input wire contract (``../shared/contracts/EVENTS.md``) as typed records.

Decoding and validation are one pass with msgspec: a record that is not JSON,
not an object, lacks a required field, has a wrong type, a value out of range,
an unknown ``event_type`` or an over-long string raises :class:`BadRecord` whose
message names the field and what was expected. Unknown extra fields are ignored.

>>> ev = decode(LIVESTREAM_TOPIC, b'{"schema_version": 1, "event_id": "e1", "event_type": "report",'
...     b' "ts": 1700000000000, "stream_id": "s1", "seller_id": "x", "region": "US",'
...     b' "user_id": "u1", "reason": "counterfeit", "extra": true}')
>>> type(ev).__name__, ev.reason
('Report', 'counterfeit')
>>> decode(LIVESTREAM_TOPIC, b'{"schema_version": 1, "event_id": "e1", "event_type": "report"}')
Traceback (most recent call last):
...
streams.errors.BadRecord: missing_field: Object missing required field `ts`
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal

import msgspec

from signals.record import INT64_MAX
from streams.errors import BadRecord

LIVESTREAM_TOPIC = "livestream.events"
LISTING_TOPIC = "listing.events"
VERDICTS_TOPIC = "governance.verdicts"
INPUT_TOPICS = (LIVESTREAM_TOPIC, LISTING_TOPIC)
MAX_RECORD_BYTES = 1024 * 1024

Id = Annotated[str, msgspec.Meta(min_length=1, max_length=256)]
EventId = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
Region = Annotated[str, msgspec.Meta(pattern="^[A-Z]{2}$")]
Currency = Annotated[str, msgspec.Meta(pattern="^[A-Z]{3}$")]
# a larger whole number is out of range: JSON sets no bound, but the contract's
# readers (and orjson) take at most 64 bits
Ts = Annotated[int, msgspec.Meta(ge=0, le=INT64_MAX)]
NonNegInt = Annotated[int, msgspec.Meta(ge=0, le=INT64_MAX)]
Amount = Annotated[float, msgspec.Meta(ge=0)]
Category = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Reason = Literal[
    "counterfeit", "prohibited_item", "misleading_claim", "offplatform_redirect",
    "harassment", "fraud", "other",
]
REASONS: tuple[str, ...] = Reason.__args__  # type: ignore[attr-defined]


class _Event(msgspec.Struct, frozen=True, kw_only=True, tag_field="event_type"):
    schema_version: Literal[1]
    event_id: EventId
    ts: Ts
    region: Region


class _LiveEvent(_Event, frozen=True, kw_only=True):
    stream_id: Id
    seller_id: Id
    user_id: Id | None = None
    account_age_days: NonNegInt | None = None


class StreamStart(_LiveEvent, frozen=True, kw_only=True, tag="stream_start"):
    title: str
    category: Category


class StreamEnd(_LiveEvent, frozen=True, kw_only=True, tag="stream_end"):
    pass


class ViewerSnapshot(_LiveEvent, frozen=True, kw_only=True, tag="viewer_snapshot"):
    viewers: NonNegInt


class Comment(_LiveEvent, frozen=True, kw_only=True, tag="comment"):
    user_id: Id
    text: Annotated[str, msgspec.Meta(max_length=2000)]


class Like(_LiveEvent, frozen=True, kw_only=True, tag="like"):
    user_id: Id
    count: Annotated[int, msgspec.Meta(ge=1, le=INT64_MAX)]


class Share(_LiveEvent, frozen=True, kw_only=True, tag="share"):
    user_id: Id


class Gift(_LiveEvent, frozen=True, kw_only=True, tag="gift"):
    user_id: Id
    value: Amount
    currency: Currency


class Follow(_LiveEvent, frozen=True, kw_only=True, tag="follow"):
    user_id: Id


class ProductPin(_LiveEvent, frozen=True, kw_only=True, tag="product_pin"):
    listing_id: Id
    price: Amount
    currency: Currency


class Purchase(_LiveEvent, frozen=True, kw_only=True, tag="purchase"):
    user_id: Id
    order_id: Id
    listing_id: Id
    amount: Amount
    currency: Currency


class Report(_LiveEvent, frozen=True, kw_only=True, tag="report"):
    user_id: Id
    reason: Reason


LiveEvent = (
    StreamStart | StreamEnd | ViewerSnapshot | Comment | Like | Share | Gift | Follow
    | ProductPin | Purchase | Report
)


class _ListingEvent(_Event, frozen=True, kw_only=True):
    listing_id: Id
    seller_id: Id
    category: Category
    currency: Currency | None = None
    image_hash: Annotated[str, msgspec.Meta(pattern="^[0-9a-fA-F]+$", max_length=256)] | None = None
    seller_account_age_days: NonNegInt | None = None


Title = Annotated[str, msgspec.Meta(max_length=500)]


class ListingCreated(_ListingEvent, frozen=True, kw_only=True, tag="listing_created"):
    title: Title
    price: Amount


class ListingUpdated(_ListingEvent, frozen=True, kw_only=True, tag="listing_updated"):
    title: Title
    price: Amount


class PriceChanged(_ListingEvent, frozen=True, kw_only=True, tag="price_changed"):
    price: Amount
    previous_price: Amount


class ListingRemoved(_ListingEvent, frozen=True, kw_only=True, tag="listing_removed"):
    pass


class ListingReported(_ListingEvent, frozen=True, kw_only=True, tag="listing_reported"):
    user_id: Id
    reason: Reason


ListingEvent = ListingCreated | ListingUpdated | PriceChanged | ListingRemoved | ListingReported

VerdictKind = Literal["confirmed", "false_positive", "duplicate", "needs_more_data"]


class Verdict(msgspec.Struct, frozen=True, kw_only=True):
    """What a reviewer or an enforcement service decided about a signal
    (``governance.verdicts``, keyed by ``signal_id``)."""

    schema_version: Literal[1]
    signal_id: Id
    verdict: VerdictKind
    ts: Ts
    reviewer: Id | None = None
    note: Annotated[str, msgspec.Meta(max_length=2000)] | None = None


_DECODERS = {
    LIVESTREAM_TOPIC: msgspec.json.Decoder(LiveEvent),
    LISTING_TOPIC: msgspec.json.Decoder(ListingEvent),
}
_VERDICT_DECODER = msgspec.json.Decoder(Verdict)
PRICED = (ListingCreated, ListingUpdated, PriceChanged)  # a price needs its currency


def error_kind(message: str) -> str:
    """A bounded error kind for metrics, from a msgspec message."""
    if message.startswith("JSON is malformed") or message.startswith("Input data was truncated"):
        return "not_json"
    if message.startswith("Expected `object`"):
        return "not_object"
    if "missing required field" in message:
        return "missing_field"
    if "`$.event_type`" in message:
        return "unknown_event_type"
    if "of length" in message:
        return "too_long" if "<=" in message else "out_of_range"
    if message.startswith("Expected `") and ", got `" in message:
        return "wrong_type"
    return "out_of_range"


def fast_decoder(topic: str) -> Callable[[bytes], LiveEvent | ListingEvent]:
    """The bare msgspec decoder of ``topic``: for the hot loop, which must still send
    whatever this raises on (or anything over :data:`MAX_RECORD_BYTES`, or a listing
    with a price and no currency) through :func:`decode` for the error it gets."""
    return _DECODERS[topic].decode


def _checked(decoder: msgspec.json.Decoder[Any], raw: bytes | None) -> Any:
    """``raw`` decoded by ``decoder``, or :class:`BadRecord` naming the field."""
    if raw is None:
        raise BadRecord("not_json", "record has no value (a tombstone)")
    if len(raw) > MAX_RECORD_BYTES:
        raise BadRecord("too_large", f"record is {len(raw)} bytes, over the 1 MiB limit")
    try:
        return decoder.decode(raw)
    except msgspec.DecodeError as exc:  # ValidationError is a subclass
        message = str(exc)
        if message.startswith("Invalid enum value") and "schema_version" in message:
            message = f"unsupported schema_version, expected 1 - {message}"
            raise BadRecord("out_of_range", message) from None
        raise BadRecord(error_kind(message), message) from None


def decode(topic: str, raw: bytes | None) -> LiveEvent | ListingEvent:
    """Decode and validate one record of an input topic, or raise :class:`BadRecord`."""
    event: LiveEvent | ListingEvent = _checked(_DECODERS[topic], raw)
    if isinstance(event, PRICED) and event.currency is None:
        raise BadRecord("missing_field",
                        "Object missing required field `currency` (a price is given)")
    return event


def decode_verdict(raw: bytes | None) -> Verdict:
    """Decode and validate one ``governance.verdicts`` record, or raise :class:`BadRecord`.

    >>> decode_verdict(b'{"schema_version": 1, "signal_id": "sig_1", "verdict": "confirmed",'
    ...                b' "ts": 1700000000000}').verdict
    'confirmed'
    >>> decode_verdict(b'{"schema_version": 1, "signal_id": "sig_1", "verdict": "spam",'
    ...                b' "ts": 1700000000000}')
    Traceback (most recent call last):
    ...
    streams.errors.BadRecord: out_of_range: Invalid enum value 'spam' - at `$.verdict`
    """
    verdict: Verdict = _checked(_VERDICT_DECODER, raw)
    return verdict


def verdict_record(signal_id: str, verdict: str, ts: int, reviewer: str | None = None,
                   note: str | None = None) -> dict[str, Any]:
    """A ``governance.verdicts`` record, checked as the worker checks one: what it would
    dead-letter raises :class:`BadRecord` here instead.

    >>> verdict_record("sig_1", "confirmed", 1700000000000, reviewer="ana")["reviewer"]
    'ana'
    >>> verdict_record("", "confirmed", 1700000000000)
    Traceback (most recent call last):
    ...
    streams.errors.BadRecord: out_of_range: Expected `str` of length >= 1 - at `$.signal_id`
    """
    fields = {"schema_version": 1, "signal_id": signal_id, "verdict": verdict, "ts": ts,
              "reviewer": reviewer, "note": note}
    record = {k: v for k, v in fields.items() if v is not None}
    _checked(_VERDICT_DECODER, msgspec.json.encode(record))
    return record
