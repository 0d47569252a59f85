"""A listing's pin, as it travels to the worker that judges the listing."""

from __future__ import annotations

from signals.aggregate import decode_batch
from signals.pins import PIN_KEY, PIN_VALUE, Pin, decode_pin, encode_pin, pin_of
from signals.verdicts import MUTE_KEY


def test_a_pin_record_is_an_empty_batch_of_windows_to_a_worker_that_knows_no_pin() -> None:
    # an earlier version decodes every windows record of an unknown key as a batch
    assert decode_batch(PIN_VALUE) == []
    assert PIN_KEY != MUTE_KEY
    pin = Pin(listing_id="li-1", stream_id="st-1", ts=1, price=0.5, currency="JPY",
              event_id="e-1")
    assert decode_pin(encode_pin(pin)) == pin  # the header's value


def test_a_pin_kept_as_context_reads_back_the_same() -> None:
    pin = Pin(listing_id="li-7", stream_id="st-2", ts=1_767_225_600_500, price=12.25,
              currency="EUR", event_id="ev-3")
    assert all(isinstance(v, str) for v in pin.context().values())  # as a state keeps it
    assert pin_of(pin.context(), "li-7") == pin
    assert pin_of({"category": "toys"}, "li-7") is None
