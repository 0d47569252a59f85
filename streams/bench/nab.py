"""``riskstream bench nab``: the production univariate detector over the NAB corpus.

Every series is run in streaming order (each point scored before it is
learned) through :data:`NAB_DETECTOR` built from the bundled default policy —
the same class and parameters the worker uses for the metric-series signals,
nothing tuned per file or per category, no labels read while scoring. Results
are written in NAB's layout and scored with :mod:`streams.bench.nab_score`::

    riskstream bench nab --data ../shared/datasets/nab --out nab-results

``--score DIR`` instead scores result files already in NAB's layout (another
detector's, from NAB's own runner, or an earlier ``--out``), so any detector
is scored by the same code::

    riskstream bench nab --data ../shared/datasets/nab --score nab-results/record
"""

from __future__ import annotations

import csv
import functools
import math
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from detectors.base import Detector
from signals.catalogue import CATALOGUE
from signals.lifecycle import Lifecycle
from signals.policy import Policy, SignalPolicy, load_policy, off_side
from streams.bench.figures import show
from streams.bench.nab_score import (
    Rows,
    corpus_scores,
    counts_at,
    prepare_rows,
    probation_length,
)
from streams.errors import ConfigError

NAB_SIGNAL = "purchase_anomaly"  # the metric-series signal whose detector NAB measures
PROFILES = ("standard", "reward_low_FP_rate", "reward_low_FN_rate")
SUMMARY_NAMES = {"standard": "standard", "reward_low_FP_rate": "reward_low_FP",
                 "reward_low_FN_rate": "reward_low_FN"}


def production_detector(policy: Policy | None = None) -> Callable[[], Detector]:
    """A maker of fresh instances of the detector ``policy`` (default: the bundled
    one) gives ``NAB_SIGNAL``, with its parameters."""
    sp = (policy or load_policy()).signals[NAB_SIGNAL]
    return functools.partial(CATALOGUE[NAB_SIGNAL].detectors[sp.detector], **sp.params)


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.strip())


def read_series(path: Path) -> tuple[list[str], list[float]]:
    with path.open(newline="") as fh:
        reader = csv.DictReader(fh)
        stamps, values = [], []
        for row in reader:
            stamps.append(row["timestamp"])
            values.append(float(row["value"]))
    return stamps, values


def run_series(values: list[float], direction: str = "both",
               make: Callable[[], Detector] | None = None,
               worker: SignalPolicy | None = None, window_ms: int = 60_000) -> list[float]:
    """Score each value, then learn it: a fresh production detector per series.

    With ``direction`` ``up`` or ``down``, a value on the other side of the
    detector's level scores 0, as the signal's ``direction`` does in the worker.
    With ``worker`` (a signal's policy), each value is a window of ``window_ms``
    and is learned only when the worker's engine would learn it: when it scored
    below ``resolve_score``, or after more than ``adopt_after_windows`` in a row
    that did not (see :class:`Lifecycle`). ``make``: the
    detector (default: the bundled policy's, see :func:`production_detector`).

    >>> sp = load_policy().signals[NAB_SIGNAL]
    >>> shift = [1.0] * 6 + [50.0] * 3
    >>> run_series(shift)[-3:] == run_series(shift, worker=sp)[-3:]
    False
    >>> drop = [5.0, 6.0] * 5 + [-40.0]
    >>> run_series(drop)[-1] > 0.9, run_series(drop, direction="up")[-1]
    (True, 0.0)
    """
    det = (make or production_detector())()
    life = Lifecycle()
    out = []
    for i, v in enumerate(values):
        x = {"value": v}
        score = det.score_one(x)
        score = min(max(score, 0.0), 1.0) if math.isfinite(score) else 1.0
        if score > 0.0 and off_side(direction, det.side(x)):
            score = 0.0
        out.append(score)
        if worker is None:
            det.learn_one(x)
            continue
        life.step_as(worker, score, i * window_ms, (i + 1) * window_ms)
        if life.learn:
            det.learn_one(x)
    return out


def _counts(files: list[tuple[list[float], Rows]], threshold: float) -> str:
    """What the detections at ``threshold`` found, for the table.

    >>> _counts([([0.9, 0.0, 0.9], prepare_rows(3, [(2, 2)], probation=0))], 0.5)
    '1 of 1 windows found, 1 false positive'
    """
    found, scored, false = counts_at(files, threshold)
    return (f"{found} of {scored} windows found, "
            f"{false} false positive{'' if false == 1 else 's'}")


def labelled_series(data_dir: Path) -> Iterator[tuple[str, list[str], list[float], Rows]]:
    """Each labelled series of the corpus: its path under ``data/``, stamps,
    values, and its rows as the scorer takes them (windows, probation)."""
    windows = orjson.loads((data_dir / "labels" / "combined_windows.json").read_bytes())
    for rel in sorted(windows):
        stamps, values = read_series(data_dir / "data" / rel)
        index = {_time(t): i for i, t in enumerate(stamps)}
        limits = [(index[_time(a)], index[_time(b)]) for a, b in windows[rel]]
        yield rel, stamps, values, prepare_rows(len(values), limits,
                                                probation_length(len(values)))


def _same_time(a: str, b: datetime) -> bool:
    """Whether NAB timestamp ``a`` names time ``b``; text that is no time does not.

    >>> b = _time("2015-01-01 00:00:00.000000")
    >>> _same_time("2015-01-01 00:00:00", b), _same_time("yesterday", b)
    (True, False)
    """
    try:
        return _time(a) == b
    except ValueError:
        return False


def read_scores(path: Path, stamps: list[str]) -> list[float]:
    """The ``anomaly_score`` column of a NAB result file, checked row by row
    against its data file's ``stamps``; a file that does not fit is refused
    with its name and line.

    >>> import tempfile
    >>> f = Path(tempfile.mkdtemp()) / "r.csv"
    >>> _ = f.write_text("timestamp,value,anomaly_score\\n2015-01-01 00:00:00,3,0.5\\n")
    >>> read_scores(f, ["2015-01-01 00:00:00"])
    [0.5]
    >>> read_scores(f, ["2015-01-01 00:05:00"])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    streams.errors.ConfigError: --score: ...r.csv line 2: timestamp 2015-01-01 00:00:00, \
its data file has 2015-01-01 00:05:00
    >>> f.unlink(); f.parent.rmdir()
    """
    if not path.is_file():
        raise ConfigError(f"--score: {path}: no such file (one result file per data file, "
                          "<category>/<detector>_<file>)")
    times = [_time(t) for t in stamps]
    scores: list[float] = []
    with path.open(newline="") as fh:
        reader = csv.DictReader(fh)
        if "anomaly_score" not in (reader.fieldnames or []):
            raise ConfigError(f"--score: {path}: no anomaly_score column")
        for line, row in enumerate(reader, start=2):
            where = f"--score: {path} line {line}"
            if len(scores) == len(stamps):
                raise ConfigError(f"{where}: more rows than its data file's {len(stamps)}")
            stamp = row.get("timestamp")
            if stamp is not None and not _same_time(stamp, times[len(scores)]):
                raise ConfigError(f"{where}: timestamp {stamp}, its data file has "
                                  f"{stamps[len(scores)]}")
            try:
                score = float(row["anomaly_score"])
            except (TypeError, ValueError):
                raise ConfigError(f"{where}: anomaly_score {row['anomaly_score']!r} is not "
                                  "a number") from None
            if not 0.0 <= score <= 1.0:
                raise ConfigError(f"{where}: anomaly_score {score} is not in [0, 1]")
            scores.append(score)
    if len(scores) != len(stamps):
        raise ConfigError(f"--score: {path}: {len(scores)} rows, its data file has "
                          f"{len(stamps)}")
    return scores


def _best_rows(files: list[tuple[list[float], Rows]], profiles: dict[str, Any]
               ) -> tuple[dict[str, float], list[tuple[str, str, str]]]:
    """Each profile's score at its best threshold: the summary and the table rows."""
    results: dict[str, float] = {}
    rows = []
    for profile in PROFILES:
        r = corpus_scores(files, profiles[profile]["CostMatrix"])
        results[SUMMARY_NAMES[profile]] = round(r["score"], 2)
        rows.append((profile, f"{r['score']:.1f}",
                     f"raw {r['raw']:.2f} (null {r['null']:.2f}, perfect {r['perfect']:.2f}), "
                     f"threshold {r['threshold']:.4f}: {_counts(files, r['threshold'])}"))
    return results, rows


def _profiles(data_dir: Path) -> dict[str, Any]:
    profiles: dict[str, Any] = orjson.loads((data_dir / "config" / "profiles.json").read_bytes())
    return profiles


def _write_summary(summary: str | None, results: dict[str, float]) -> None:
    if summary:
        Path(summary).write_bytes(orjson.dumps(results, option=orjson.OPT_INDENT_2))


def score_results(data_dir: Path, results_dir: Path, summary: str | None = None
                  ) -> dict[str, float]:
    """Score result files already in NAB's layout under ``results_dir`` (named
    after their detector, as NAB names them) and print the table."""
    name = results_dir.resolve().name
    files = []
    for rel, stamps, _values, rows_of_file in labelled_series(data_dir):
        category, fname = rel.split("/", 1)
        scores = read_scores(results_dir / category / f"{name}_{fname}", stamps)
        files.append((scores, rows_of_file))
    results, rows = _best_rows(files, _profiles(data_dir))
    show(f"NAB, {len(files)} series, result files of {name} in {results_dir}", rows)
    _write_summary(summary, results)
    return results


def run_nab(data_dir: Path, out_dir: Path, summary: str | None = None,
            policy: Policy | None = None) -> dict[str, Any]:
    profiles = _profiles(data_dir)
    policy = policy or load_policy()
    sp = policy.signals[NAB_SIGNAL]
    name, make = sp.detector, production_detector(policy)
    files: list[tuple[list[float], Rows]] = []
    one_side: list[tuple[list[float], Rows]] = []  # with the signal's direction
    gated: list[tuple[list[float], Rows]] = []  # learned as the worker learns
    for rel, stamps, values, rows_of_file in labelled_series(data_dir):
        scores = run_series(values, make=make)
        category, fname = rel.split("/", 1)
        target = out_dir / name / category / f"{name}_{fname}"
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["timestamp", "value", "anomaly_score"])
            w.writerows(zip(stamps, values, scores, strict=True))
        files.append((scores, rows_of_file))
        one_side.append((run_series(values, sp.direction, make), rows_of_file))
        gated.append((run_series(values, sp.direction, make, worker=sp,
                                 window_ms=policy.windows.size_s * 1000), rows_of_file))
    results, rows = _best_rows(files, profiles)
    at_open = _counts(files, sp.open_score)  # the same for every profile
    for profile in PROFILES:  # where the worker opens, rather than at NAB's best threshold
        r = corpus_scores(files, profiles[profile]["CostMatrix"], threshold=sp.open_score)
        rows.append((f"{profile}, at the signal's open_score", f"{r['score']:.1f}",
                     f"threshold {sp.open_score}: {at_open}"))
    for label, variant, note in (
            ("with the signal's direction", one_side,
             f"only deviations {sp.direction} score, as {NAB_SIGNAL} opens"),
            ("and learning as the worker does", gated,
             f"also only values scoring below resolve_score {sp.resolve_score} are learned"
             + (f", or after {sp.adopt_after_windows} in a row that were not"
                if sp.adopt_after_windows else ""))):
        for profile in PROFILES:
            r = corpus_scores(variant, profiles[profile]["CostMatrix"])
            rows.append((f"{profile}, {label}", f"{r['score']:.1f}", note))
    show(f"NAB, {len(files)} series, detector {name} (policy of {NAB_SIGNAL}); "
         f"results in {out_dir / name}", rows)
    _write_summary(summary, results)
    return results
