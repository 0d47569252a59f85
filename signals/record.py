"""The ``risk.signals`` record, exactly as the wire contract states it."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from typing import Annotated, Any, Literal, get_args

import msgspec
import orjson

SCHEMA_VERSION = 1
Severity = Literal["low", "medium", "high", "critical"]
Status = Literal["open", "update", "resolved"]
EntityType = Literal["stream", "seller", "listing", "term", "segment", "account_cluster"]
SEVERITIES: tuple[str, ...] = get_args(Severity)
STATUSES: tuple[str, ...] = get_args(Status)
ENTITY_TYPES: tuple[str, ...] = get_args(EntityType)
MAX_SAMPLE_IDS = 20
#: the largest whole number a record holds: JSON sets no bound, but its readers (and
#: orjson) take at most 64 bits
INT64_MAX = 2**63 - 1
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


_Text = Annotated[str, msgspec.Meta(min_length=1)]
_Ts = Annotated[int, msgspec.Meta(ge=0)]


class SignalRecord(msgspec.Struct, frozen=True, kw_only=True):
    """A ``risk.signals`` record as it is on the wire, one each time a signal opens,
    materially changes or resolves."""  # Signal is checked against it; `riskstream
    # schema risk.signals` prints it as a JSON Schema

    schema_version: Literal[1]
    signal_id: _Text
    signal_type: _Text
    status: Status
    entity_type: EntityType
    entity_id: _Text
    region: Annotated[str, msgspec.Meta(pattern="^[A-Z]{2}$")]
    severity: Severity
    score: Annotated[float, msgspec.Meta(ge=0.0, le=1.0)]
    detector: _Text
    detector_version: _Text
    window_start: _Ts
    window_end: _Ts
    observed: dict[str, Any]
    baseline: dict[str, Any]
    evidence: dict[str, Any]
    first_seen_ts: _Ts
    emitted_ts: _Ts


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
        """A record the contract does not allow is refused, naming the field.

        >>> Signal(signal_id="sig_1", signal_type="report_spike", status="opened",
        ...        entity_type="stream", entity_id="st-1", region="US", severity="high",
        ...        score=0.9, detector="poisson_rate", detector_version="1", window_start=0,
        ...        window_end=60_000, first_seen_ts=0, emitted_ts=70_000)
        Traceback (most recent call last):
        ...
        ValueError: not a risk.signals record: Invalid enum value 'opened' - at `$.status`
        """
        try:
            msgspec.convert(self, SignalRecord, from_attributes=True)  # 2 µs; 50 from a dict
        except msgspec.ValidationError as exc:
            raise ValueError(f"not a risk.signals record: {exc}") from None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self) -> bytes:
        return orjson.dumps(self.to_dict())
