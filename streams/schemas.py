"""JSON Schemas of the records on each topic of the wire contract, made from the very
types the worker decodes and writes with (msgspec), so they cannot drift from it:
for the services that produce events or verdicts to check their records before
sending, and for those that read ``risk.signals`` or ``riskstream.dlq`` to generate
their types (``riskstream schema TOPIC``).

What a schema cannot say, the worker still checks (``EVENTS.md``, "Bad records"):
a listing event with a price needs its ``currency``, an event's time may be at most
an hour ahead of and 7 days behind the newest seen, and a record is at most 1 MiB.
"""

from __future__ import annotations

import inspect
from typing import Any

import msgspec

from signals.record import SignalRecord
from streams.contract import (
    LISTING_TOPIC,
    LIVESTREAM_TOPIC,
    VERDICTS_TOPIC,
    ListingEvent,
    LiveEvent,
    Verdict,
)
from streams.topics import DLQ_TOPIC, SIGNALS_TOPIC

DRAFT = "https://json-schema.org/draft/2020-12/schema"


class DeadLetterRecord(msgspec.Struct, frozen=True, kw_only=True):
    """A ``riskstream.dlq`` record: an input record that could not be used, and why."""

    source_topic: str
    partition: int
    offset: int
    key: str | None  # as sent, or base64 when not UTF-8
    error: str  # one line: which field, what was expected
    raw: str | None  # the record's bytes, likewise


INPUTS = (LIVESTREAM_TOPIC, LISTING_TOPIC, VERDICTS_TOPIC)
#: each topic's record type, and what the topic carries
TOPICS: dict[str, tuple[Any, str]] = {
    LIVESTREAM_TOPIC: (LiveEvent, "an event of a live session, keyed by stream_id"),
    LISTING_TOPIC: (ListingEvent, "an event of a listing, keyed by listing_id"),
    VERDICTS_TOPIC: (Verdict, "what a reviewer or enforcement decided about a signal, "
                              "keyed by signal_id"),
    SIGNALS_TOPIC: (SignalRecord, "a signal that opened, materially changed or resolved, "
                                  "keyed by its entity_id"),
    DLQ_TOPIC: (DeadLetterRecord, "an input record that could not be used, with the reason"),
}


def schema(topic: str) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a record on ``topic``.

    >>> s = schema("governance.verdicts")
    >>> s["title"], s["$defs"]["Verdict"]["properties"]["verdict"]["enum"]
    ('governance.verdicts record', ['confirmed', 'duplicate', 'false_positive', 'needs_more_data'])
    """
    kind, what = TOPICS[topic]
    extra = ("Fields not listed are allowed, and ignored." if topic in INPUTS else
             "Later versions may add fields: ignore those not listed.")
    out: dict[str, Any] = {"$schema": DRAFT, "title": f"{topic} record",
                           "description": f"One record of the Kafka topic {topic}: {what}. "
                                          f"{extra}"}
    made = msgspec.json.schema(kind)
    for part in made.get("$defs", {}).values():  # docstrings, as written in the code
        if "description" in part:
            part["description"] = " ".join(inspect.cleandoc(part["description"]).split())
    return out | made
