"""Decoding and validation: every rule of the contract's "Bad records" list."""

from __future__ import annotations

import json

import pytest

from streams.contract import LISTING_TOPIC, LIVESTREAM_TOPIC, decode
from streams.errors import BadRecord
from tests.streams.events import listing, live, raw

LIVE_TYPES = ["stream_start", "stream_end", "viewer_snapshot", "comment", "like", "share", "gift",
              "follow", "product_pin", "purchase", "report"]
LISTING_TYPES = ["listing_created", "listing_updated", "price_changed", "listing_removed",
                 "listing_reported"]


@pytest.mark.parametrize("event_type", LIVE_TYPES)
def test_every_live_event_type_decodes(event_type: str) -> None:
    ev = decode(LIVESTREAM_TOPIC, raw(live(event_type)))
    assert ev.event_id == "e1" and ev.stream_id == "s1"


@pytest.mark.parametrize("event_type", LISTING_TYPES)
def test_every_listing_event_type_decodes(event_type: str) -> None:
    assert decode(LISTING_TOPIC, raw(listing(event_type))).listing_id == "l1"


def test_unknown_extra_fields_are_ignored() -> None:
    assert decode(LIVESTREAM_TOPIC, raw(live(new_field={"a": 1}))).ts > 0


def test_optional_account_age() -> None:
    assert decode(LIVESTREAM_TOPIC, raw(live("comment", account_age_days=3))).account_age_days == 3


def _bad(topic: str, data: bytes) -> BadRecord:
    with pytest.raises(BadRecord) as info:
        decode(topic, data)
    return info.value


@pytest.mark.parametrize(
    ("data", "kind", "mentions"),
    [
        (b"\xff\xfe not json", "not_json", "malformed"),
        (b'{"truncated": ', "not_json", ""),
        (b"[1, 2]", "not_object", "object"),
        (b'"a string"', "not_object", "object"),
        (raw({k: v for k, v in live().items() if k != "ts"}), "missing_field", "`ts`"),
        (raw({k: v for k, v in live("comment").items() if k != "user_id"}), "missing_field",
         "`user_id`"),
        (raw(live(ts="1767225600000")), "wrong_type", "$.ts"),
        (raw(live(ts=1.5)), "wrong_type", "$.ts"),
        (raw(live(viewers=True)), "wrong_type", "$.viewers"),
        (raw(live(viewers=-1)), "out_of_range", "$.viewers"),
        (raw(live("like", count=0)), "out_of_range", "$.count"),
        (raw(live("purchase", amount=-3)), "out_of_range", "$.amount"),
        (raw(live(account_age_days=-1)), "out_of_range", "$.account_age_days"),
        (raw(live(region="usa")), "out_of_range", "$.region"),
        (raw(live("report", reason="spam")), "out_of_range", "$.reason"),
        (raw(live(schema_version=2)), "out_of_range", "schema_version"),
        (raw(live(event_type="teleport")), "unknown_event_type", "$.event_type"),
        (raw(live(event_id="x" * 65)), "too_long", "$.event_id"),
        (raw(live("comment", text="y" * 2001)), "too_long", "$.text"),
        (raw(live(event_id="")), "out_of_range", "$.event_id"),
    ],
)
def test_bad_records_name_the_field(data: bytes, kind: str, mentions: str) -> None:
    err = _bad(LIVESTREAM_TOPIC, data)
    assert err.kind == kind
    assert mentions in err.reason
    assert "\n" not in str(err)


def test_listing_rules() -> None:
    assert _bad(LISTING_TOPIC, raw(listing(title="t" * 501))).kind == "too_long"
    assert _bad(LISTING_TOPIC, raw(listing("price_changed", previous_price=None))).kind == \
        "wrong_type"
    no_currency = {k: v for k, v in listing().items() if k != "currency"}
    assert "currency" in _bad(LISTING_TOPIC, raw(no_currency)).reason
    assert _bad(LISTING_TOPIC, raw(live())).kind == "unknown_event_type"


def test_record_over_one_mib_is_refused_before_parsing() -> None:
    big = raw(live("comment", text="ok", pad="z" * (1024 * 1024)))
    assert _bad(LIVESTREAM_TOPIC, big).kind == "too_large"


@pytest.mark.parametrize(("topic", "event", "field"), [
    (LIVESTREAM_TOPIC, live("like", count=2**64), "count"),
    (LIVESTREAM_TOPIC, live("comment", account_age_days=10**25), "account_age_days"),
    (LIVESTREAM_TOPIC, live("viewer_snapshot", viewers=2**63), "viewers"),
    (LIVESTREAM_TOPIC, live(ts=2**63), "ts"),
    (LISTING_TOPIC, listing(seller_account_age_days=10**25), "seller_account_age_days"),
])
def test_a_whole_number_beyond_64_bits_is_out_of_range(topic: str, event: dict,
                                                       field: str) -> None:
    """JSON sets no bound, but no consumer reads more than 64 bits, and a seller's age of
    10**25 days once crashed the detect agent: orjson could not write it into the
    evidence of its listings' signals ("Integer exceeds 64-bit range")."""
    with pytest.raises(BadRecord) as info:
        decode(topic, json.dumps(event).encode())
    assert str(info.value) == (
        f"out_of_range: Expected `int` <= 9223372036854775807 - at `$.{field}`")
    assert decode(topic, json.dumps(event | {field: 2**63 - 1}).encode())
