"""Reading a record of the windows topic, or saying why it cannot be read.

The ingest stage writes five kinds of record to the windows topic, told apart by
their key: a batch of closed windows, the first uses of comment texts, an input
partition's watermark, and a reviewer's mute or a listing's pin (each in a header).
The detect stage reads each with :func:`read_windows_record` before it acts on any
part of it, so a record it cannot read (written by another version during a rolling
upgrade, or by anything else that writes there) is dead-lettered with its reason,
not left to crash the stage (Faust restarted it, and the record went unhandled).

>>> from signals.aggregate import WATERMARK_KEY, encode_watermark
>>> read_windows_record(WATERMARK_KEY, encode_watermark("listing.events", 2, 4, 60_000), None)
Watermark(topic='listing.events', partition=2, partitions=4, closed_until=60000)
>>> read_windows_record(b"stream:st-1", b"not json", None)
Traceback (most recent call last):
...
streams.errors.BadRecord: not_json: a windows batch: JSON is malformed: invalid character (byte 4)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

import msgspec

from signals.aggregate import (
    FIRST_USES_KEY,
    WATERMARK_KEY,
    FirstUse,
    Watermark,
    WindowAggregate,
    decode_batch,
    decode_first_uses,
    decode_watermark,
)
from signals.pins import PIN_HEADER, PIN_KEY, Pin, decode_pin
from signals.verdicts import MUTE_HEADER, MUTE_KEY, Mute, decode_mute
from streams.contract import error_kind
from streams.errors import BadRecord

T = TypeVar("T")
Headers = Sequence[tuple[str, bytes]] | None
WindowsRecord = list[Mute] | list[Pin] | Watermark | list[FirstUse] | list[WindowAggregate]


def _read(what: str, decode: Callable[[bytes], T], raw: bytes | None) -> T:
    """``decode(raw)``, or a :class:`BadRecord` that says what it was meant to be."""
    try:
        return decode(raw if raw is not None else b"")
    except msgspec.DecodeError as exc:  # ValidationError is a subclass
        raise BadRecord(error_kind(str(exc)), f"{what}: {exc}") from None


def _in_headers(what: str, name: str, decode: Callable[[bytes], T],
                headers: Headers) -> list[T]:
    return [_read(what, decode, value) for header, value in headers or () if header == name]


def read_windows_record(key: bytes | None, value: bytes | None,
                        headers: Headers) -> WindowsRecord:
    """What a windows-topic record holds, by its key: the mutes or pins in its headers,
    a watermark, first uses, or a batch of windows; :class:`BadRecord` if it does not
    hold what its key says.

    >>> read_windows_record(MUTE_KEY, b"[]", [("mute", b'{"entity_key": 5}')])
    ... # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    streams.errors.BadRecord: wrong_type: a reviewer's mute: Expected `str`, got `int` - at...
    """
    if key == MUTE_KEY:
        return _in_headers("a reviewer's mute", MUTE_HEADER, decode_mute, headers)
    if key == PIN_KEY:
        return _in_headers("a listing's pin", PIN_HEADER, decode_pin, headers)
    if key == WATERMARK_KEY:
        return _read("a watermark", decode_watermark, value)
    if key == FIRST_USES_KEY:
        return _read("first uses of texts", decode_first_uses, value)
    return _read("a windows batch", decode_batch, value)

