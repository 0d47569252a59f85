"""The demo's screen stays readable in a narrow terminal."""

from __future__ import annotations

import time
from collections import deque

import pytest
from rich.console import Console

from streams.demo import _render, why

SIGNALS = [
    {"emitted_ts": 1_700_000_000_000, "signal_type": "coordinated_comments", "status": "update",
     "entity_type": "account_cluster", "entity_id": "fp-0b0db3ac0fc6e365", "severity": "critical",
     "score": 0.91, "observed": {"uses": 23, "accounts": 13, "streams": 5},
     "baseline": {"expected_count": 0.332, "usual_rate": 0.332, "prior": 0.3}},
    {"emitted_ts": 1_700_000_000_000, "signal_type": "segment_report_surge", "status": "open",
     "entity_type": "segment", "entity_id": "fashion/sneakers|US", "severity": "medium",
     "score": 0.8, "observed": {"reported_streams": 5, "reports": 12, "viewers": 1491},
     "baseline": {"rate": 0.3315, "exposure": 1.115, "cusum": 21.17, "expected_count": 0.494}},
]


@pytest.mark.parametrize("width", [80, 120])
def test_each_signal_shows_its_fields_entity_and_whole_why_within_the_width(width: int) -> None:
    console = Console(width=width, color_system=None)
    with console.capture() as out:
        console.print(_render(deque(SIGNALS), {}, time.monotonic(), "http://127.0.0.1:9308/m"))
    text = out.get()
    assert max(len(line) for line in text.splitlines()) <= width
    for sig in SIGNALS:
        first = next(line for line in text.splitlines() if sig["entity_id"] in line)
        for field in (sig["signal_type"], sig["status"], sig["severity"], f'{sig["score"]:.2f}'):
            assert field in first.split()
        # every word of why it fired, however the terminal wraps it
        assert all(word in text.split() for word in why(sig).split())
