"""Which signals two runs over the same events opened: the same ones, and those only
one of them did. A signal's id names its type, entity and first window, so two runs
that open the same detection give it the same id (``signals.record.signal_id``).

Used to try a policy change on recorded events (``riskstream replay --against``) and
to check that a live run and a replay agree (``riskstream bench scenarios --replay``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from signals.record import SEVERITIES


@dataclass
class Opened:
    """The signals of one type that opened in the first run, the second, or both."""

    same: list[dict[str, Any]] = field(default_factory=list)
    only_first: list[dict[str, Any]] = field(default_factory=list)
    only_second: list[dict[str, Any]] = field(default_factory=list)

    def counts(self) -> tuple[int, int, int]:
        """``(same, only first, only second)``."""
        return len(self.same), len(self.only_first), len(self.only_second)


def compare_opened(first: list[dict[str, Any]], second: list[dict[str, Any]]
                   ) -> dict[str, Opened]:
    """Per signal type, in name order: the ``open`` records (as on ``risk.signals``) by id
    in both runs, only the first, only the second; updates and resolutions are left out.

    >>> one = [{"signal_type": "report_spike", "signal_id": "a", "status": "open"},
    ...        {"signal_type": "report_spike", "signal_id": "b", "status": "open"},
    ...        {"signal_type": "report_spike", "signal_id": "b", "status": "resolved"}]
    >>> two = [{"signal_type": "report_spike", "signal_id": "b", "status": "open"},
    ...        {"signal_type": "price_anomaly", "signal_id": "c", "status": "open"}]
    >>> {kind: opened.counts() for kind, opened in compare_opened(one, two).items()}
    {'price_anomaly': (0, 0, 1), 'report_spike': (1, 1, 0)}
    """
    def opened(signals: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
        return {(s["signal_type"], s["signal_id"]): s for s in signals if s["status"] == "open"}

    a, b = opened(first), opened(second)
    out: dict[str, Opened] = {kind: Opened() for kind in sorted({kind for kind, _ in a | b})}
    for key, sig in a.items():
        (out[key[0]].same if key in b else out[key[0]].only_first).append(sig)
    for key, sig in b.items():
        if key not in a:
            out[key[0]].only_second.append(sig)
    return out


def peak_severity(signals: list[dict[str, Any]]) -> dict[str, str]:
    """The highest severity each signal id reached, over its ``open`` and ``update``
    records (an update is sent when the severity rises), as on ``risk.signals``.

    >>> peak_severity([{"signal_id": "a", "status": "open", "severity": "low"},
    ...                {"signal_id": "a", "status": "update", "severity": "high"},
    ...                {"signal_id": "a", "status": "resolved", "severity": "low"}])
    {'a': 'high'}
    """
    rank = {name: n for n, name in enumerate(SEVERITIES)}
    peak: dict[str, str] = {}
    for s in signals:
        if s["status"] in ("open", "update"):
            before = peak.get(s["signal_id"])
            if before is None or rank[s["severity"]] > rank[before]:
                peak[s["signal_id"]] = s["severity"]
    return peak


def resolved_at(signals: list[dict[str, Any]]) -> dict[str, int]:
    """The end of the window each signal id resolved with (its ``resolved`` record's
    ``window_end``); an id still open when the run ended has none.

    >>> resolved_at([{"signal_id": "a", "status": "open", "window_end": 60_000},
    ...              {"signal_id": "a", "status": "resolved", "window_end": 300_000},
    ...              {"signal_id": "b", "status": "open", "window_end": 120_000}])
    {'a': 300000}
    """
    return {s["signal_id"]: s["window_end"] for s in signals if s["status"] == "resolved"}


#: what two runs' records of one signal are compared by
Record = tuple[str, str, float, int, int]  # status, severity, score, window start, end


def records_by_id(signals: list[dict[str, Any]]) -> dict[str, list[Record]]:
    """Each signal id's records, in the order sent, as :data:`Record`: statuses,
    severities, scores and windows (evidence aside: which sample ids a merged window
    keeps may differ)."""
    out: dict[str, list[Record]] = {}
    for s in signals:
        out.setdefault(s["signal_id"], []).append(
            (s["status"], s["severity"], s["score"], s["window_start"], s["window_end"]))
    return out


def first_differences(first: list[dict[str, Any]], second: list[dict[str, Any]]
                      ) -> dict[str, tuple[Record | None, Record | None]]:
    """For each signal id both runs sent records for, but not the same ones: the first
    record that differs in each run (None: that run sent no more).

    >>> a = [{"signal_id": "a", "status": "open", "severity": "high", "score": 0.7545,
    ...       "window_start": 0, "window_end": 60}]
    >>> first_differences(a, [dict(a[0], score=0.7446)])
    {'a': (('open', 'high', 0.7545, 0, 60), ('open', 'high', 0.7446, 0, 60))}
    >>> first_differences(a, a + [dict(a[0], status="resolved")])["a"][0] is None
    True
    """
    a, b = records_by_id(first), records_by_id(second)
    out: dict[str, tuple[Record | None, Record | None]] = {}
    for sid in a.keys() & b.keys():
        if a[sid] != b[sid]:
            at = next((n for n, (x, y) in enumerate(zip(a[sid], b[sid], strict=False))
                       if x != y), min(len(a[sid]), len(b[sid])))
            out[sid] = (a[sid][at] if at < len(a[sid]) else None,
                        b[sid][at] if at < len(b[sid]) else None)
    return out
