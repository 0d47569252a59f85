"""Small helpers shared by the benchmarks: quantiles, process readings, tables.

>>> percentile([5.0, 1.0, 3.0, 2.0, 4.0], 50)
3.0
>>> buckets = [(0.01, 50.0), (0.05, 90.0), (0.1, 100.0), (float("inf"), 100.0)]
>>> round(histogram_quantile(0.5, buckets), 4), round(histogram_quantile(0.95, buckets), 4)
(0.01, 0.075)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import psutil
from rich.console import Console
from rich.table import Table

from streams.localworker import Sample


def percentile(values: list[float], p: float) -> float:
    """The ``p``-th percentile by linear interpolation (numpy's default); nan if empty."""
    if not values:
        return math.nan
    xs = sorted(values)
    pos = (len(xs) - 1) * p / 100.0
    lo = math.floor(pos)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def histogram_quantile(q: float, buckets: list[tuple[float, float]]) -> float:
    """Prometheus's ``histogram_quantile``: ``buckets`` are ``(le, cumulative count)``,
    sorted by ``le`` and ending with ``+Inf``; linear interpolation inside a bucket."""
    total = buckets[-1][1]
    if total <= 0:
        return math.nan
    rank = q * total
    prev_le, prev_count = 0.0, 0.0
    for le, count in buckets:
        if count >= rank:
            if math.isinf(le):
                return prev_le
            if count == prev_count:
                return le
            return prev_le + (le - prev_le) * (rank - prev_count) / (count - prev_count)
        prev_le, prev_count = le, count
    return buckets[-1][0]


def histogram_buckets(samples: list[Sample], name: str) -> list[tuple[float, float]]:
    """The cumulative buckets of histogram ``name`` summed over its label sets."""
    sums: dict[float, float] = {}
    for n, labels, value in samples:
        if n == f"{name}_bucket":
            le = float(labels["le"])
            sums[le] = sums.get(le, 0.0) + value
    return sorted(sums.items())


def bucket_diff(after: list[tuple[float, float]],
                before: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """The observations made between two readings of the same histogram."""
    old = dict(before)
    return [(le, count - old.get(le, 0.0)) for le, count in after]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` (all its threads) so far."""
    t = psutil.Process(pid).cpu_times()
    return float(t.user + t.system)


def peak_rss_bytes(pid: int) -> int:
    """The process's peak resident set size (``VmHWM``)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmHWM for pid {pid}")


def rss_bytes(pid: int) -> int:
    return int(psutil.Process(pid).memory_info().rss)


def show(title: str, rows: Sequence[tuple[str, ...]], console: Console | None = None,
         columns: tuple[str, ...] = ()) -> None:
    """Print a table: by default three columns (what, figure, note); with ``columns``,
    those, the first a row's name and the others figures (aligned right)."""
    table = Table(title=title, title_justify="left")
    if columns:
        table.add_column(columns[0], no_wrap=True)
        for name in columns[1:]:
            table.add_column(name, justify="right")
    else:
        table.add_column("measure")
        table.add_column("figure", justify="right")
        table.add_column("how / note")
    for row in rows:
        table.add_row(*row)
    (console or Console(width=max(Console().width, 120))).print(table)


def top_frames(raw_profile: str, n: int = 15) -> list[tuple[str, float]]:
    """The ``n`` functions with the most self time in a py-spy ``--format raw`` profile.

    >>> top_frames("a (m.py:1);b (m.py:5) 3\\na (m.py:1) 1\\n", 2)
    [('b (m.py:5)', 0.75), ('a (m.py:1)', 0.25)]
    """
    self_time: dict[str, int] = {}
    total = 0
    for line in raw_profile.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        leaf = stack.split(";")[-1]
        self_time[leaf] = self_time.get(leaf, 0) + int(count)
        total += int(count)
    ranked = sorted(self_time.items(), key=lambda kv: -kv[1])[:n]
    return [(name, c / total) for name, c in ranked]
