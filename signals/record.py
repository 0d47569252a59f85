"""The ``risk.signals`` record, exactly as the wire contract states it."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from typing import Any

import orjson

SCHEMA_VERSION = 1
SEVERITIES = ("low", "medium", "high", "critical")
STATUSES = ("open", "update", "resolved")
ENTITY_TYPES = ("stream", "seller", "listing", "term", "segment", "account_cluster")
MAX_SAMPLE_IDS = 20
# per text entity (comment fingerprint, term) and window: distinct members kept, whose
# counts stop there; the ingest stage keeps them and merging partials unites them
MAX_ACCOUNTS = 100
MAX_PLACES = 50  # streams, listings, and the sellers who wrote those listings
MAX_CONTEXTS = 30  # distinct texts (hashes) a term was used in
MAX_TEXTS = 3  # raw texts, as a reviewer's example


def signal_id(signal_type: str, entity_type: str, entity_id: str, episode_start: int) -> str:
    """Deterministic id of one detection episode: same inputs, same id.

    >>> signal_id("report_spike", "stream", "s1", 60_000)
    'sig_dd4aa2e438edf2e66962972a'
    """
    digest = hashlib.sha256(
        f"{signal_type}|{entity_type}|{entity_id}|{episode_start}".encode()
    ).hexdigest()
    return f"sig_{digest[:24]}"


@dataclass(frozen=True, kw_only=True)
class Signal:
    """One emission of a signal: it opened, materially changed, or resolved."""

    signal_id: str
    signal_type: str
    status: str
    entity_type: str
    entity_id: str
    region: str
    severity: str
    score: float
    detector: str
    detector_version: str
    window_start: int
    window_end: int
    observed: dict[str, Any] = field(default_factory=dict)
    baseline: dict[str, Any] = field(default_factory=dict)
    evidence: dict[str, Any] = field(default_factory=dict)
    first_seen_ts: int
    emitted_ts: int
    schema_version: int = SCHEMA_VERSION

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, not {self.status!r}")
        if self.severity not in SEVERITIES:
            raise ValueError(f"severity must be one of {SEVERITIES}, not {self.severity!r}")
        if self.entity_type not in ENTITY_TYPES:
            raise ValueError(f"entity_type must be one of {ENTITY_TYPES}, not {self.entity_type!r}")
        if not 0.0 <= self.score <= 1.0:
            raise ValueError(f"score must be in [0, 1], not {self.score}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self) -> bytes:
        return orjson.dumps(self.to_dict())
