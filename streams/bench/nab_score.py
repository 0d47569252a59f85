"""The NAB score (Lavin & Ahmad 2015, and the NAB documentation), written for riskstream.

Per data file, each row gets a weight as if it were a detection:

* inside a labelled anomaly window, ``tp * S(p) / S(-1)`` where ``p`` runs from
  -1 at the window's left edge towards 0 at its right edge, and ``S`` is the
  scaled sigmoid ``S(p) = 2 / (1 + exp(5p)) - 1`` (``-1`` for ``p >= 3``), so the
  earliest detection in a window earns the whole ``tp`` weight;
* outside every window, ``fp * S(p)`` where ``p`` is the distance past the end of
  the previous window in units of that window's width (less than one) — a false
  positive just after a window costs little, one far from it (or before the
  first window) costs the whole ``fp`` weight;
* the first ``min(floor(0.15 n), 750)`` rows (the probationary period) are not
  scored at all.

At a threshold, every row whose anomaly score reaches it is a detection: a
window counts the best (earliest) of its detections or ``-fn`` if it has none,
and every detection outside a window adds its (negative) weight. The threshold
is chosen per profile to maximise the corpus total, and the total is
normalised so that the null detector (a constant score) gets 0 and the perfect
detector (exactly each window's first row) gets 100.

>>> profile = {"tpWeight": 1.0, "fpWeight": 0.11, "fnWeight": 1.0}
>>> rows = prepare_rows(20, [(10, 14)], probation=0)
>>> left_edge = [1.0 if i == 10 else 0.0 for i in range(20)]
>>> round(total_at(left_edge, rows, profile, 0.5), 4)  # a detection at the left edge
1.0
>>> round(total_at([0.0] * 20, rows, profile, 0.5), 4)  # a missed window
-1.0
"""

from __future__ import annotations

import math
from dataclasses import dataclass


def scaled_sigmoid(position: float) -> float:
    """NAB's scaled sigmoid of a relative position (see the module docstring).

    >>> round(scaled_sigmoid(-1.0), 5), scaled_sigmoid(0.0), scaled_sigmoid(3.0)
    (0.98661, 0.0, -1.0)
    """
    if position >= 3.0:
        return -1.0
    return 2.0 / (1.0 + math.exp(5.0 * position)) - 1.0


MAX_TP = scaled_sigmoid(-1.0)


def probation_length(n: int, percent: float = 0.15) -> int:
    """
    >>> probation_length(1000), probation_length(22695)
    (150, 750)
    """
    return int(min(math.floor(percent * n), percent * 5000))


@dataclass(frozen=True)
class Rows:
    """The scoring frame of one data file: for each row, its window (or None) and
    its unweighted position value; probationary rows are marked ``scored=False``."""

    window: list[int | None]
    sigmoid: list[float]
    scored: list[bool]
    windows: int  # windows with at least one scored row


def prepare_rows(n: int, windows: list[tuple[int, int]], probation: int) -> Rows:
    """``windows`` are inclusive ``(first_row, last_row)`` pairs in time order."""
    window: list[int | None] = [None] * n
    sigmoid = [0.0] * n
    prev_right: int | None = None
    prev_width = 0.0
    w_iter = iter(enumerate(windows))
    current = next(w_iter, None)
    i = 0
    while i < n:
        if current is not None and i == current[1][0]:
            k, (left, right) = current
            width = float(right - left + 1)
            for j in range(left, right + 1):
                window[j] = k
                sigmoid[j] = scaled_sigmoid(-(right - j + 1) / width) / MAX_TP
            prev_right, prev_width = right, width
            current = next(w_iter, None)
            i = right + 1
            continue
        if prev_right is None:
            sigmoid[i] = -1.0
        else:
            sigmoid[i] = scaled_sigmoid(abs(prev_right - i) / max(prev_width - 1.0, 1.0))
        i += 1
    scored = [i >= probation for i in range(n)]
    counted = {window[i] for i in range(n) if scored[i] and window[i] is not None}
    return Rows(window, sigmoid, scored, len(counted))


def total_at(scores: list[float], rows: Rows, profile: dict[str, float],
             threshold: float) -> float:
    """The raw NAB score of one file at one threshold."""
    best: dict[int, float] = {}
    fp = 0.0
    for i, s in enumerate(scores):
        if not rows.scored[i] or s < threshold:
            continue
        w = rows.window[i]
        if w is None:
            fp += rows.sigmoid[i] * profile["fpWeight"]
        else:
            value = rows.sigmoid[i] * profile["tpWeight"]
            if value > best.get(w, -math.inf):
                best[w] = value
    counted = {w for i, w in enumerate(rows.window) if rows.scored[i] and w is not None}
    return fp + sum(best.get(w, -profile["fnWeight"]) for w in counted)


def counts_at(files: list[tuple[list[float], Rows]], threshold: float
              ) -> tuple[int, int, int]:
    """At ``threshold``: the windows with a detection, the windows scored, and the
    detections outside every window (false positives), over the corpus.

    >>> rows = prepare_rows(20, [(10, 14)], probation=5)
    >>> at = [3, 8, 12, 13, 18]  # probationary, false, found twice, false
    >>> counts_at([([0.9 if i in at else 0.0 for i in range(20)], rows)], 0.5)
    (1, 1, 2)
    """
    found = scored = false = 0
    for scores, rows in files:
        hit: set[int] = set()
        for i, s in enumerate(scores):
            if s >= threshold and rows.scored[i]:
                w = rows.window[i]
                if w is None:
                    false += 1
                else:
                    hit.add(w)
        found += len(hit)
        scored += rows.windows
    return found, scored, false


def sweep(files: list[tuple[list[float], Rows]], profile: dict[str, float]
          ) -> tuple[float, float]:
    """The best corpus total over every threshold, and that threshold.

    All files' rows are swept together from the highest score down, so each
    distinct score is tried as a threshold exactly (no search heuristics).
    """
    events: list[tuple[float, int, int]] = []
    for f, (scores, rows) in enumerate(files):
        for i, s in enumerate(scores):
            if rows.scored[i]:
                events.append((s, f, i))
    events.sort(key=lambda e: -e[0])
    best_in: dict[tuple[int, int], float] = {}
    total = -sum(rows.windows for _, rows in files) * profile["fnWeight"]
    best_total, best_threshold = total, math.inf
    k = 0
    while k < len(events):
        threshold = events[k][0]
        while k < len(events) and events[k][0] == threshold:
            _, f, i = events[k]
            rows = files[f][1]
            w = rows.window[i]
            if w is None:
                total += rows.sigmoid[i] * profile["fpWeight"]
            else:
                value = rows.sigmoid[i] * profile["tpWeight"]
                old = best_in.get((f, w))
                if old is None:
                    total += value + profile["fnWeight"]
                    best_in[(f, w)] = value
                elif value > old:
                    total += value - old
                    best_in[(f, w)] = value
            k += 1
        if total > best_total:
            best_total, best_threshold = total, threshold
    return best_total, best_threshold


def normalised(raw: float, null: float, perfect: float) -> float:
    """
    >>> normalised(5.0, -10.0, 10.0)
    75.0
    """
    return 100.0 * (raw - null) / (perfect - null)


def corpus_scores(files: list[tuple[list[float], Rows]], profile: dict[str, float],
                  threshold: float | None = None) -> dict[str, float]:
    """Raw, null, perfect and normalised scores of a detector over a corpus, at the
    best threshold (NAB's way) or at the ``threshold`` given."""
    if threshold is None:
        raw, threshold = sweep(files, profile)
    else:
        raw = sum(total_at(scores, rows, profile, threshold) for scores, rows in files)
    null, _ = sweep([([0.5] * len(s), rows) for s, rows in files], profile)
    perfect_files = []
    for scores, rows in files:
        firsts = [0.0] * len(scores)
        seen: set[int] = set()
        for i, w in enumerate(rows.window):
            if w is not None and rows.scored[i] and w not in seen:
                seen.add(w)
                firsts[i] = 1.0
        perfect_files.append((firsts, rows))
    perfect, _ = sweep(perfect_files, profile)
    return {"raw": raw, "null": null, "perfect": perfect, "threshold": threshold,
            "score": normalised(raw, null, perfect)}
