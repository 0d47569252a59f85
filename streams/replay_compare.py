"""``riskstream replay --against POLICY``: what a policy change does on recorded events.

The events are replayed under both policies; per signal type the table gives how
many signals each opened, how many of those are the same detection in both (the
same signal id: same entity, same first window), how many of those reached another
highest severity or ended otherwise, and how many each opened that the other did
not; below it the first few of each kind, to look into.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from rich.console import Console
from rich.table import Table

from signals.compare import Opened, compare_opened, peak_severity, resolved_at

SHOWN = 5  # of each policy's own signals per type, listed under the table


def _when(ts_ms: int) -> str:
    """
    >>> _when(1_767_225_600_000)
    '2026-01-01 00:00Z'
    """
    return time.strftime("%Y-%m-%d %H:%MZ", time.gmtime(ts_ms / 1000))


def _where(sig: dict[str, Any]) -> str:
    """
    >>> _where({"signal_type": "report_spike", "entity_id": "st-1", "region": "US",
    ...         "window_start": 1_767_225_600_000})
    'report_spike st-1 (US), window from 2026-01-01 00:00Z'
    """
    return (f"{sig['signal_type']} {sig['entity_id']} ({sig['region']}), window from "
            f"{_when(sig['window_start'])}")


def _own(sig: dict[str, Any]) -> str:
    """
    >>> _own({"signal_type": "report_spike", "entity_id": "st-1", "region": "US",
    ...       "window_start": 1_767_225_600_000, "severity": "high", "score": 0.912})
    'report_spike st-1 (US), window from 2026-01-01 00:00Z, high 0.91'
    """
    return f"{_where(sig)}, {sig['severity']} {sig['score']:.2f}"


def _end(window_end: int | None) -> str:
    """
    >>> _end(1_767_227_460_000), _end(None)
    ('resolved with the window to 2026-01-01 00:31Z', 'still open at the end')
    """
    if window_end is None:
        return "still open at the end"
    return f"resolved with the window to {_when(window_end)}"


def by_entity(first: list[dict[str, Any]], second: list[dict[str, Any]]
              ) -> tuple[list[tuple[dict[str, Any], dict[str, Any]]],
                         list[dict[str, Any]], list[dict[str, Any]]]:
    """Signals opened on the same entity in each run but at another first window (a
    bar moved: the same detection, sooner or later), paired in the order they
    opened, and the rest of each run's own.

    >>> a = [{"entity_id": "st-1", "window_start": 60}, {"entity_id": "st-2", "window_start": 0}]
    >>> b = [{"entity_id": "st-1", "window_start": 0}]
    >>> pairs, only_a, only_b = by_entity(a, b)
    >>> [(x["window_start"], y["window_start"]) for x, y in pairs], only_a, only_b
    ([(60, 0)], [{'entity_id': 'st-2', 'window_start': 0}], [])
    """
    def grouped(sigs: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
        out: dict[str, list[dict[str, Any]]] = {}
        for sig in sorted(sigs, key=lambda s: s["window_start"]):
            out.setdefault(sig["entity_id"], []).append(sig)
        return out

    a, b = grouped(first), grouped(second)
    pairs = [pair for entity in a.keys() & b.keys()  # as many pairs as the fewer has
             for pair in zip(a[entity], b[entity], strict=False)]
    paired = {id(sig) for pair in pairs for sig in pair}
    return (sorted(pairs, key=lambda p: p[0]["window_start"]),
            [s for s in first if id(s) not in paired], [s for s in second if id(s) not in paired])


def show_comparison(against: list[dict[str, Any]], policy: list[dict[str, Any]],
                    names: tuple[str, str], console: Console) -> dict[str, Opened]:
    """Print the comparison of the signals opened under ``names[0]`` (``against``) and
    ``names[1]`` (``policy``), and return it. Of the same detections, those whose
    highest severity (over the signal's open and update records) differs are counted
    and listed too: severity decides who is paged; and so are those that resolved
    with another window, or in one run only (``resolve_score``,
    ``resolve_after_windows``): how long an enforcement service sees a signal open.

    >>> sig = {"signal_type": "report_spike", "signal_id": "a", "status": "open",
    ...        "entity_id": "st-1", "region": "US", "window_start": 0, "severity": "low",
    ...        "score": 0.61}
    >>> console = Console(width=100, color_system=None)
    >>> with console.capture() as out:
    ...     _ = show_comparison([], [sig], ("old.yaml", "new.yaml"), console)
    >>> for line in out.get().splitlines()[-2:]: print(line)  # under the table
    only under --policy new.yaml:
      report_spike st-1 (US), window from 1970-01-01 00:00Z, low 0.61
    >>> higher = [sig, dict(sig, status="update", severity="high")]
    >>> with console.capture() as out:
    ...     _ = show_comparison([sig], higher, ("old.yaml", "new.yaml"), console)
    >>> for line in out.get().splitlines()[-2:]: print(line)
    the same signal, another highest severity:
      report_spike st-1 (US), window from 1970-01-01 00:00Z: --against low, --policy high
    >>> ended = [sig, dict(sig, status="resolved", window_end=240_000)]
    >>> with console.capture() as out:
    ...     _ = show_comparison([sig], ended, ("old.yaml", "new.yaml"), console)
    >>> heading, line = out.get().splitlines()[-2:]
    >>> for text in (heading, *line.split(": ", 1)[1].split(", ")): print(text)
    the same signal, another end:
    --against still open at the end
    --policy resolved with the window to 1970-01-01 00:04Z
    """
    first, second = names
    compared = compare_opened(against, policy)
    peak_a, peak_b = peak_severity(against), peak_severity(policy)
    end_a, end_b = resolved_at(against), resolved_at(policy)
    console.print(f"signals opened under --against {first} and under --policy {second}, "
                  "the same events:", highlight=False, soft_wrap=True)
    table = Table()
    table.add_column("signal type", no_wrap=True)
    for name in ("--against", "--policy", "same", "same, other\nseverity", "same, other\nend",
                 "same entity,\nother window", "only\n--against", "only\n--policy"):
        table.add_column(name, justify="right")
    totals = [0] * 8
    own: dict[str, list[dict[str, Any]]] = {"--against": [], "--policy": []}
    regraded: list[dict[str, Any]] = []
    reended: list[dict[str, Any]] = []
    for kind, opened in compared.items():
        moved, only_a, only_b = by_entity(opened.only_first, opened.only_second)
        other = [sig for sig in opened.same
                 if peak_a[sig["signal_id"]] != peak_b[sig["signal_id"]]]
        ended = [sig for sig in opened.same
                 if end_a.get(sig["signal_id"]) != end_b.get(sig["signal_id"])]
        same = len(opened.same)
        row = [same + len(opened.only_first), same + len(opened.only_second), same,
               len(other), len(ended), len(moved), len(only_a), len(only_b)]
        totals = [t + x for t, x in zip(totals, row, strict=True)]
        table.add_row(kind, *map(str, row))
        own["--against"] += only_a[:SHOWN]
        own["--policy"] += only_b[:SHOWN]
        regraded += other[:SHOWN]
        reended += ended[:SHOWN]
    table.add_row("all", *map(str, totals))
    console.print(table)
    for (flag, listed), name, count in zip(own.items(), names, totals[6:], strict=True):
        if listed:
            console.print(f"only under {flag} {name}:", highlight=False)
            for sig in listed:
                console.print(f"  {_own(sig)}", highlight=False, soft_wrap=True)
            _more(console, count, len(listed))
    _side_by_side(console, "the same signal, another highest severity:", regraded, totals[3],
                  peak_a.__getitem__, peak_b.__getitem__)
    _side_by_side(console, "the same signal, another end:", reended, totals[4],
                  lambda sid: _end(end_a.get(sid)), lambda sid: _end(end_b.get(sid)))
    return compared


def _side_by_side(console: Console, heading: str, listed: list[dict[str, Any]], count: int,
                  against: Callable[[str], str], policy: Callable[[str], str]) -> None:
    """List the same signals told apart by what ``against`` and ``policy`` say of them."""
    if not listed:
        return
    console.print(heading, highlight=False)
    for sig in listed:
        sid = sig["signal_id"]
        console.print(f"  {_where(sig)}: --against {against(sid)}, --policy {policy(sid)}",
                      highlight=False, soft_wrap=True)
    _more(console, count, len(listed))


def _more(console: Console, count: int, shown: int) -> None:
    if count > shown:
        console.print(f"  and {count - shown} more (at most {SHOWN} of each type shown)",
                      highlight=False)
