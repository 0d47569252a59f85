"""Detection quality against the simulator's labels, per signal type.

``riskstream bench scenarios`` (signals a live worker sent) and ``riskstream
replay --labels`` (signals a backtest opened) count it the same way:

* **precision** — opened signals on a labelled entity of their type, over all
  opened signals of that type (a signal a scenario causes on purpose besides,
  one of its ``related``, counts as neither);
* **recall** — labelled scenarios with at least one opened signal of their
  type on their entity, opened after the scenario started;
* **delay** — from the scenario's start to its first such signal: the signal
  window's end plus the allowed lateness, when a live worker closes it;
* **false signals per hour** — opened signals matching no label, per hour of
  simulated traffic;
* **paged** — labelled scenarios whose signals reached a severity that pages
  on-call (:data:`PAGING_SEVERITIES`, as ``deploy/prometheus/alerts.yml`` pages:
  an open at that severity, or an update rising to it), and the median delay
  from the scenario's start to that record's window end plus the lateness.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import orjson
from rich.console import Console

from streams.bench.figures import percentile, show
from streams.errors import ConfigError
from streams.simulate import SCENARIOS, explained, matches

#: the severities whose signals page on-call, opened or risen to (deploy/prometheus/alerts.yml)
PAGING_SEVERITIES = ("high", "critical")
#: the columns of a table of quality per signal type
COLUMNS = ("signal type", "P", "R", "found", "delay p50/p90", "false opens", "side effects",
           "paged, p50")
#: what the table's less obvious columns count
COLUMN_NOTE = ("false opens: on no labelled entity; side effects: on an entity a scenario "
               "affects besides, such as a report_spike on a stream of a segment's surge")
#: what a label must hold to be scored against, and of what type
LABEL_FIELDS = {"scenario": (str, "a string"), "entity_type": (str, "a string"),
                "entity_id": (str, "a string"), "start_ts": (int, "epoch ms")}


def score(labels: list[dict[str, Any]], signals: list[dict[str, Any]], lateness_ms: int
          ) -> dict[str, dict[str, Any]]:
    """Per signal type: matched and unmatched opens, the opens a scenario caused
    besides (``side``), scenarios found, delays (s), scenarios that paged and the
    delays to that (s), the unmatched opens themselves (``false``) and how many of
    them paged, and the labels of scenarios not found (``missed``).

    >>> labels = [{"scenario": "report_spike", "entity_type": "stream", "entity_id": "s1",
    ...            "start_ts": 0}]
    >>> signals = [{"signal_type": "report_spike", "entity_id": "s1", "status": "open",
    ...             "window_end": 120_000}, {"signal_type": "report_spike",
    ...             "entity_id": "s2", "status": "open", "window_end": 60_000}]
    >>> r = score(labels, signals, 10_000)["report_spike"]
    >>> r["tp"], r["fp"], r["found"], r["delays"], [s["entity_id"] for s in r["false"]]
    (1, 1, 1, [130.0], ['s2'])
    >>> score(labels, [], 10_000)["report_spike"]["missed"] == labels
    True
    >>> risen = dict(signals[0], status="update", severity="high", window_end=240_000)
    >>> r = score(labels, [*signals, risen], 10_000)["report_spike"]
    >>> r["paged"], r["page_delays"], r["false_paged"]
    (1, [250.0], 0)
    """
    out: dict[str, dict[str, Any]] = {}
    for kind in {lb["scenario"] for lb in labels} | {s["signal_type"] for s in signals}:
        out[kind] = {"tp": 0, "fp": 0, "side": 0, "found": 0, "labels": 0, "delays": [],
                     "paged": 0, "page_delays": [], "false": [], "false_paged": 0,
                     "missed": []}
    paging = [s for s in signals
              if s["status"] in ("open", "update") and s.get("severity") in PAGING_SEVERITIES]
    paging_ids = {s["signal_id"] for s in paging if "signal_id" in s}
    for s in signals:
        if s["status"] != "open":
            continue
        if any(matches(lb, s) for lb in labels):
            out[s["signal_type"]]["tp"] += 1
        elif explained(labels, s):  # a scenario's deliberate side signal is neither
            out[s["signal_type"]]["side"] += 1
        else:
            out[s["signal_type"]]["fp"] += 1
            out[s["signal_type"]]["false"].append(s)
            out[s["signal_type"]]["false_paged"] += s.get("signal_id") in paging_ids
    for lb in labels:
        r = out[lb["scenario"]]
        r["labels"] += 1
        # an episode opened before the scenario started is not its detection
        opens = [s["window_end"] for s in signals if s["status"] == "open" and matches(lb, s)
                 and s["window_end"] > lb["start_ts"]]
        if opens:
            r["found"] += 1
            r["delays"].append((min(opens) + lateness_ms - lb["start_ts"]) / 1000.0)
        else:
            r["missed"].append(lb)
        pages = [s["window_end"] for s in paging if matches(lb, s)
                 and s["window_end"] > lb["start_ts"]]
        if pages:
            r["paged"] += 1
            r["page_delays"].append((min(pages) + lateness_ms - lb["start_ts"]) / 1000.0)
    return out


@dataclass
class Tally:
    """One signal type's counts, summed over runs (:func:`score`'s results).

    >>> none: dict[str, Any] = {"tp": 0, "fp": 0, "side": 0, "found": 0, "labels": 0,
    ...                         "delays": [], "paged": 0, "page_delays": [], "false_paged": 0}
    >>> t = Tally()
    >>> t.add(none | {"tp": 2, "fp": 1, "found": 2, "labels": 2, "delays": [70.0, 130.0],
    ...               "paged": 1, "page_delays": [190.0]})
    >>> t.figures(hours=2.0)["precision"], t.figures(hours=2.0)["paged"]
    (0.6666666666666666, 0.5)
    >>> t.cells(hours=2.0)
    ('0.67', '1.00', '2/2', '100 / 124 s', '1 (0.50/h)', '0', '1/2, 190 s')
    >>> t.add(none | {"side": 2, "false_paged": 1})
    >>> t.cells(hours=2.0)[4:6]  # a scenario's side effects are neither right nor wrong
    ('1 (0.50/h), 1 paged', '2')
    """

    tp: int = 0
    fp: int = 0
    side: int = 0
    found: int = 0
    labels: int = 0
    delays: list[float] = field(default_factory=list)
    paged: int = 0
    page_delays: list[float] = field(default_factory=list)
    false_paged: int = 0

    def add(self, r: dict[str, Any]) -> None:
        self.tp += r["tp"]
        self.fp += r["fp"]
        self.side += r["side"]
        self.found += r["found"]
        self.labels += r["labels"]
        self.delays += r["delays"]
        self.paged += r["paged"]
        self.page_delays += r["page_delays"]
        self.false_paged += r["false_paged"]

    def figures(self, hours: float) -> dict[str, float]:
        """The summary's figures: ``nan`` where there was nothing to divide by."""
        opened = self.tp + self.fp
        return {
            "precision": self.tp / opened if opened else math.nan,
            "recall": self.found / self.labels if self.labels else math.nan,
            "delay_p50_s": percentile(self.delays, 50),
            "delay_p90_s": percentile(self.delays, 90),
            "false_per_hour": self.fp / hours if hours > 0 else math.nan,
            "paged": self.paged / self.labels if self.labels else math.nan,
            "page_delay_p50_s": percentile(self.page_delays, 50),
        }

    def cells(self, hours: float) -> tuple[str, ...]:
        """The figures as the cells of a row of :data:`COLUMNS`, after the type."""
        f = self.figures(hours)
        delay = (f"{f['delay_p50_s']:.0f} / {f['delay_p90_s']:.0f} s" if self.delays
                 else "none")
        paged = f"{self.paged}/{self.labels}" + (
            f", {f['page_delay_p50_s']:.0f} s" if self.page_delays else "")
        return (two(f["precision"]), two(f["recall"]), f"{self.found}/{self.labels}", delay,
                self.false_cell(hours), str(self.side), paged)

    def false_cell(self, hours: float) -> str:
        """How many opens were false, per hour, and how many of them paged."""
        per_hour = two(self.fp / hours if hours > 0 else math.nan)
        return f"{self.fp} ({per_hour}/h)" + (
            f", {self.false_paged} paged" if self.false_paged else "")

    def unscored(self, why: str, hours: float) -> tuple[str, ...]:
        """The cells of a type with no scenario to score (``why``): its opens are all
        false or side effects.

        >>> Tally(fp=1).unscored("not injected", 0.5)
        ('', '', 'not injected', '', '1 (2.00/h)', '0', '')
        """
        return ("", "", why, "", self.false_cell(hours), str(self.side), "")


def false_row(signal: dict[str, Any], prefix: str = "") -> tuple[str, str, str]:
    """A false open as a table row: where, its score, and what it saw.

    >>> false_row({"signal_type": "price_anomaly", "entity_id": "li-1", "score": 0.6175,
    ...     "observed": {"price": 6.76}, "baseline": {"band_mean": 3.8}}, "seed 7007 ")
    ('seed 7007 price_anomaly li-1', '0.62', 'observed price=6.76; baseline band_mean=3.8')
    >>> false_row({"signal_type": "t", "entity_id": "e", "score": 0.7, "observed": {"n": 4},
    ...     "baseline": {}})[2]
    'observed n=4'
    """
    def brief(values: dict[str, Any]) -> str:
        return ", ".join(f"{k}={v}" for k, v in list(values.items())[:4])

    seen = [f"{part} {brief(signal[part])}" for part in ("observed", "baseline")
            if signal.get(part)]
    return (f"{prefix}{signal['signal_type']} {signal['entity_id']}",
            f"{signal['score']:.2f}", "; ".join(seen))


def _when(ts_ms: int) -> str:
    """
    >>> _when(1_767_225_610_000)
    '2026-01-01 00:00:10Z'
    """
    return time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime(ts_ms / 1000))


def two(x: float) -> str:
    """A ratio to two places; ``n/a`` when there was nothing to divide by.

    >>> two(0.951), two(float("nan"))
    ('0.95', 'n/a')
    """
    return "n/a" if math.isnan(x) else f"{x:.2f}"


def read_labels(path: str) -> list[dict[str, Any]]:
    """Scenario labels, one JSON object a line (as ``riskstream simulate --labels``
    writes them); a line that is not one, or lacks a field scoring needs, is refused
    naming the line and the field.

    >>> import tempfile
    >>> with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as fh:
    ...     _ = fh.write('{"scenario": "report_spike", "entity_type": "stream", '
    ...                  '"entity_id": "st-1", "start_ts": 0}\\n{"scenario": "x"}\\n')
    >>> try:
    ...     read_labels(fh.name)
    ... except ConfigError as e:
    ...     print(str(e).replace(fh.name, "FILE"))
    --labels FILE: line 2: no entity_type (a string)
    """
    labels = []
    with open(path, "rb") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                label = orjson.loads(line)
            except orjson.JSONDecodeError as e:
                raise ConfigError(f"--labels {path}: line {n}: not JSON ({e})") from e
            if not isinstance(label, dict):
                raise ConfigError(f"--labels {path}: line {n}: not a JSON object")
            for name, (kind, what) in LABEL_FIELDS.items():
                if not isinstance(label.get(name), kind):
                    raise ConfigError(f"--labels {path}: line {n}: no {name} ({what})")
            labels.append(label)
    return labels


def show_quality(labels: list[dict[str, Any]], signals: list[dict[str, Any]],
                 lateness_ms: int, hours: float, title: str, console: Console
                 ) -> dict[str, dict[str, float]]:
    """Print the quality of ``signals`` against ``labels`` per signal type (the
    scenario bench's table), the false signals and the scenarios missed; return the
    figures of each labelled type, as ``bench scenarios --summary`` writes them.

    >>> label = {"scenario": "report_spike", "entity_type": "stream", "entity_id": "s1",
    ...          "region": "US", "start_ts": 0}
    >>> sig = {"signal_type": "listing_burst", "entity_id": "se-1", "status": "open",
    ...        "window_end": 60_000, "score": 0.7, "observed": {"new_listings": 9}}
    >>> console = Console(width=120, color_system=None)
    >>> with console.capture() as out:
    ...     figures = show_quality([label], [sig], 10_000, 0.5, "quality", console)
    >>> figures["report_spike"]["recall"], list(figures)
    (0.0, ['report_spike'])
    >>> for line in out.get().splitlines():  # the rows, spaces squeezed
    ...     if line.startswith("│") and ("report_spike" in line or "listing_burst" in line):
    ...         print(" ".join(line.split()))
    │ report_spike │ n/a │ 0.00 │ 0/1 │ none │ 0 (0.00/h) │ 0 │ 0/1 │
    │ listing_burst │ │ │ no label │ │ 1 (2.00/h) │ 0 │ │
    │ listing_burst se-1 │ 0.70 │ observed new_listings=9 │
    │ report_spike s1 │ started 1970-01-01 00:00:00Z │ region US │
    """
    totals: dict[str, Tally] = {}
    false: list[dict[str, Any]] = []
    missed: list[dict[str, Any]] = []
    for kind, r in score(labels, signals, lateness_ms).items():
        totals.setdefault(kind, Tally()).add(r)
        false += r["false"]
        missed += r["missed"]
    labelled = {lb["scenario"] for lb in labels}
    known = [k for k in SCENARIOS if k in totals] + sorted(set(totals) - set(SCENARIOS))
    rows = []
    for kind in known:
        t = totals[kind]
        if kind in labelled:
            rows.append((kind, *t.cells(hours)))
        else:
            rows.append((kind, *t.unscored("no label", hours)))
    missed_rows = [(f"{lb['scenario']} {lb['entity_id']}", f"started {_when(lb['start_ts'])}",
                    f"region {lb.get('region', '?')}") for lb in missed]
    tables: list[tuple[str, list[tuple[str, ...]], tuple[str, ...]]] = [
        (title, rows, COLUMNS),
        ("false signals: opened on no labelled entity", [false_row(s) for s in false], ()),
        ("scenarios missed: no signal of their type opened on their entity after it started",
         list(missed_rows), ())]
    # headings printed apart from their tables, so that a long one is not wrapped to a
    # table's width
    for heading, table, columns in tables:
        if table:
            console.print(heading + (f" ({COLUMN_NOTE})" if columns else ""),
                          highlight=False, soft_wrap=True)
            show("", table, console, columns)
    return {kind: totals[kind].figures(hours) for kind in known if kind in labelled}
