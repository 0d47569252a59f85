"""Builders of valid contract events for tests."""

from __future__ import annotations

from typing import Any

import msgspec
import orjson

from signals.policy import Policy

BASE_TS = 1_767_225_600_000


def live(event_type: str = "viewer_snapshot", **kw: Any) -> dict[str, Any]:
    ev: dict[str, Any] = {"schema_version": 1, "event_id": "e1", "event_type": event_type,
                          "ts": BASE_TS, "stream_id": "s1", "seller_id": "x1", "region": "US"}
    extra: dict[str, dict[str, Any]] = {
        "viewer_snapshot": {"viewers": 100},
        "stream_start": {"title": "live", "category": "beauty/skincare"},
        "comment": {"user_id": "u1", "text": "hi"},
        "like": {"user_id": "u1", "count": 2},
        "share": {"user_id": "u1"},
        "gift": {"user_id": "u1", "value": 1.5, "currency": "USD"},
        "follow": {"user_id": "u1"},
        "product_pin": {"listing_id": "l1", "price": 9.5, "currency": "USD"},
        "purchase": {"user_id": "u1", "order_id": "o1", "listing_id": "l1", "amount": 9.5,
                     "currency": "USD"},
        "report": {"user_id": "u1", "reason": "counterfeit"},
    }
    ev.update(extra.get(event_type, {}))
    ev.update(kw)
    return ev


def listing(event_type: str = "listing_created", **kw: Any) -> dict[str, Any]:
    ev: dict[str, Any] = {"schema_version": 1, "event_id": "l-e1", "event_type": event_type,
                          "ts": BASE_TS, "listing_id": "l1", "seller_id": "x1", "region": "US",
                          "category": "fashion/sneakers"}
    extra: dict[str, dict[str, Any]] = {
        "listing_created": {"title": "shoe", "price": 100.0, "currency": "USD"},
        "listing_updated": {"title": "shoe", "price": 100.0, "currency": "USD"},
        "price_changed": {"price": 90.0, "previous_price": 100.0, "currency": "USD"},
        "listing_reported": {"user_id": "u1", "reason": "fraud"},
    }
    ev.update(extra.get(event_type, {}))
    ev.update(kw)
    return ev


def raw(ev: dict[str, Any]) -> bytes:
    return orjson.dumps(ev)


def without_param(policy: Policy, signal: str, param: str) -> Policy:
    """``policy`` with one detector parameter of ``signal`` left to its default."""
    sp = policy.signals[signal]
    signals = dict(policy.signals)
    signals[signal] = msgspec.structs.replace(
        sp, params={k: v for k, v in sp.params.items() if k != param})
    return msgspec.structs.replace(policy, signals=signals)
