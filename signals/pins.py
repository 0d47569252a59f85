"""Listings pinned in live streams (no Kafka in it).

A ``product_pin`` event travels on ``livestream.events``, keyed by its stream, so
the worker that reads it is not the one that judges the listing. The ingest stage
sends a :class:`Pin` to the listing's windows partition (the key
:data:`PIN_KEY`, the pin in the header :data:`PIN_HEADER`, the value an empty
batch of windows, as for a reviewer's mute), and the detect stage hands it to
:meth:`signals.engine.Engine.pin`: a bait price on a listing pinned in a live
stream reaches that stream's whole audience at once, so the policy's
``pinned.severity`` is the least severity of its ``price_anomaly``.

>>> pin = Pin(listing_id="li-1", stream_id="st-1", ts=60_500, price=6.0, currency="USD",
...           event_id="ev-9")
>>> decode_pin(encode_pin(pin)) == pin, pin.entity_key
(True, 'listing:li-1')
>>> pin_of(pin.context(), "li-1") == pin
True
"""

from __future__ import annotations

import msgspec

#: key of the windows-topic records that carry a :class:`Pin` to its listing's owner, in
#: their header :data:`PIN_HEADER`; their value is an empty batch of windows, all a
#: worker of an earlier version (which knows no pin) sees in them
PIN_KEY = b"\x00pin"
PIN_HEADER = "pin"
PIN_VALUE = b"[]"
#: what the worker judging a pin's listing did with it (``riskstream_pins_total``):
#: ``held`` in a state made for it (its listing had none yet), ``kept`` in its
#: listing's state, ``raised`` an open signal too, or ``ignored`` (no ``pinned`` in the
#: policy, or a newer pin is kept)
PIN_ACTIONS = ("held", "kept", "raised", "ignored")
#: the entity context keys a pin is kept under in its listing's state
_CTX = {"stream_id": "pin_stream", "ts": "pin_ts", "price": "pin_price",
        "currency": "pin_currency", "event_id": "pin_event"}


class Pin(msgspec.Struct, frozen=True, kw_only=True):
    """One ``product_pin`` event, as its listing's worker needs it."""

    listing_id: str
    stream_id: str
    ts: int  # the event's, epoch ms
    price: float
    currency: str
    event_id: str

    @property
    def entity_key(self) -> str:
        """The listing's key in the state store (``WindowAggregate.key``)."""
        return f"listing:{self.listing_id}"

    def context(self) -> dict[str, str]:
        """The pin as entity context (the state keeps context as text)."""
        return {_CTX[name]: str(getattr(self, name)) for name in _CTX}

    def evidence(self) -> dict[str, object]:
        """What a reviewer reads of the pin in a signal's evidence."""
        return {"stream_id": self.stream_id, "pinned_ts": self.ts, "price": self.price,
                "currency": self.currency, "event_id": self.event_id}


def pin_of(context: dict[str, str], listing_id: str) -> Pin | None:
    """The newest pin kept in an entity's context, or None."""
    if _CTX["ts"] not in context:
        return None
    return Pin(listing_id=listing_id, stream_id=context[_CTX["stream_id"]],
               ts=int(context[_CTX["ts"]]), price=float(context[_CTX["price"]]),
               currency=context[_CTX["currency"]], event_id=context[_CTX["event_id"]])


def pin_action(noted: bool, tracked: bool, raised: bool) -> str:
    """What the worker did with a pin (:data:`PIN_ACTIONS`): whether it was ``noted``
    (the policy raises signals for pins, and no newer pin is kept), its listing was
    ``tracked`` (had a state), and an open signal was ``raised``.

    >>> pin_action(True, False, False), pin_action(True, True, True), pin_action(False, True, False)
    ('held', 'raised', 'ignored')
    """
    if not noted:
        return "ignored"
    if not tracked:
        return "held"
    return "raised" if raised else "kept"


#: a pin as the bytes of its record's header, and back
encode_pin = msgspec.json.Encoder().encode
decode_pin = msgspec.json.Decoder(Pin).decode
