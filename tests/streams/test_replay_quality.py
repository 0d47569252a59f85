"""``riskstream replay --labels FILE``: a backtest's precision, recall, delay and false
signals per type against the simulator's labels, counted as ``bench scenarios`` counts
them, for a program manager trying a policy change on labelled traffic."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import orjson
import pytest

from streams.cli import main
from streams.quality import score
from streams.simulate import SimConfig, Simulator


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, list[dict[str, Any]]]:
    """Half an hour of traffic with a report spike and a price anomaly, and its labels."""
    root = tmp_path_factory.mktemp("labelled")
    sim = Simulator(SimConfig(seed=9, rate=80, duration_s=1800,
                              scenarios=("report_spike", "price_anomaly")))
    events, labels = root / "events.jsonl", root / "labels.jsonl"
    events.write_bytes(b"".join(orjson.dumps(e) + b"\n" for _, _, e in sim.events()))
    labels.write_bytes(b"".join(orjson.dumps(lb) + b"\n" for lb in sim.labels()))
    return events, labels, sim.labels()


def _row(text: str, kind: str, after: str) -> list[str]:
    """The cells of ``kind``'s row in the first table printed after ``after``."""
    text = text[text.index(after):]
    line = next(line for line in text.splitlines() if line.startswith(f"│ {kind} "))
    return [cell.strip() for cell in line.strip("│").split("│")][1:]


def test_each_policy_is_scored_against_the_labels_and_the_summary_holds_the_candidates(
        run: tuple[Path, Path, list[dict[str, Any]]], tmp_path: Path, capsys: Any) -> None:
    events, labels, plan = run
    bundled = resources.files("signals").joinpath("default_policy.yaml").read_text()
    in_use = tmp_path / "in_use.yaml"  # the same, with report_spike switched off
    in_use.write_text(bundled.replace("  report_spike:\n", "  report_spike:\n    enabled: false\n"))
    out, summary = tmp_path / "signals.jsonl", tmp_path / "summary.json"
    assert main(["replay", str(events), "--against", str(in_use), "--labels", str(labels),
                 "--summary", str(summary), "--out", str(out)]) == 0
    err = capsys.readouterr().err
    signals = [orjson.loads(line) for line in out.read_bytes().splitlines()]
    expected = score(plan, signals, 10_000)  # the bundled policy's lateness
    figures = orjson.loads(summary.read_bytes())
    assert set(figures) == {"report_spike", "price_anomaly"}  # the labelled types
    for kind in figures:
        assert figures[kind]["recall"] == 1.0 and figures[kind]["precision"] == 1.0
        assert figures[kind]["delay_p50_s"] == expected[kind]["delays"][0] > 0
        assert figures[kind]["false_per_hour"] == 0.0
        # paged: a record about the scenario at high or critical, opened or risen to
        label = next(lb for lb in plan if lb["scenario"] == kind)
        paging = [s for s in signals if s["signal_type"] == kind and s["status"] != "resolved"
                  and s["entity_id"] == label["entity_id"]
                  and s["severity"] in ("high", "critical")]
        assert figures[kind]["paged"] == (1.0 if paging else 0.0)
        if paging:
            first = min(s["window_end"] for s in paging)
            assert figures[kind]["page_delay_p50_s"] == (first + 10_000
                                                         - label["start_ts"]) / 1000
    assert figures["report_spike"]["paged"] == 1.0  # this run's spike reaches high
    assert "0.50 h of events" in err
    against, policy = f"quality under --against {in_use}", "quality under --policy"
    assert _row(err, "report_spike", against)[:3] == ["n/a", "0.00", "0/1"]  # switched off
    assert _row(err, "price_anomaly", against)[:3] == ["1.00", "1.00", "1/1"]
    assert _row(err, "report_spike", policy)[:3] == ["1.00", "1.00", "1/1"]
    spike = next(lb for lb in plan if lb["scenario"] == "report_spike")
    missed = err[err.index("scenarios missed"):err.index(policy)]
    assert f"report_spike {spike['entity_id']}" in missed
    assert "scenarios missed" not in err[err.index(policy):]


def test_a_signal_no_label_explains_is_counted_and_listed_as_false(
        run: tuple[Path, Path, list[dict[str, Any]]], tmp_path: Path, capsys: Any) -> None:
    events, _, plan = run
    spikes_only = tmp_path / "labels.jsonl"  # the price anomaly left unlabelled
    spikes_only.write_bytes(b"".join(orjson.dumps(lb) + b"\n" for lb in plan
                                     if lb["scenario"] == "report_spike"))
    summary = tmp_path / "summary.json"
    assert main(["replay", str(events), "--labels", str(spikes_only), "--summary", str(summary),
                 "--out", str(tmp_path / "signals.jsonl")]) == 0
    err = capsys.readouterr().err
    precision, recall, found, delay, false, _, paged = _row(err, "price_anomaly", "quality under")
    # the bait is pinned in a live stream, so it opened at high: a false alarm that pages
    assert (precision, recall, found, delay, false, paged) == ("", "", "no label", "",
                                                               "1 (2.00/h), 1 paged", "")
    listing = next(lb for lb in plan if lb["scenario"] == "price_anomaly")["entity_id"]
    assert _row(err, f"price_anomaly {listing}", "false signals")[1]  # its score
    assert set(orjson.loads(summary.read_bytes())) == {"report_spike"}


@pytest.mark.parametrize(("line", "field"), [
    (b'{"scenario": "report_spike", "entity_type": "stream", "entity_id": "st-1"}',
     "no start_ts (epoch ms)"),
    (b'{"scenario": "report_spike", "entity_type": "stream", "start_ts": 0}',
     "no entity_id (a string)"),
    (b'["report_spike"]', "not a JSON object"),
    (b'{"scenario": ', "not JSON"),
])
def test_a_bad_labels_file_is_refused_naming_the_line_and_field_before_anything_runs(
        run: tuple[Path, Path, list[dict[str, Any]]], tmp_path: Path, capsys: Any,
        line: bytes, field: str) -> None:
    events, labels, _ = run
    bad = tmp_path / "labels.jsonl"
    bad.write_bytes(labels.read_bytes() + b"\n" + line + b"\n")
    lines = len(labels.read_bytes().splitlines()) + 2  # the blank line counts
    out = tmp_path / "signals.jsonl"
    assert main(["replay", str(events), "--labels", str(bad), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"riskstream: --labels {bad}: line {lines}: {field}")
    assert "processed=" not in err and not out.exists()


def test_a_summary_without_labels_is_refused(
        run: tuple[Path, Path, list[dict[str, Any]]], tmp_path: Path, capsys: Any) -> None:
    events, _, _ = run
    assert main(["replay", str(events), "--summary", str(tmp_path / "s.json")]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("riskstream: --summary: needs --labels")
    assert captured.out == ""
