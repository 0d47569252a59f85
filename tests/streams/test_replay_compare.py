"""``riskstream replay --against POLICY``: the signals two policies open on the same
recorded events, side by side, as a program manager tries a change before deploying it."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import orjson
from rich.console import Console

from signals.policy import load_policy
from streams.cli import main
from streams.replay import read_jsonl, replay
from streams.replay_compare import show_comparison
from streams.simulate import SimConfig, Simulator, matches


def _row(text: str, kind: str) -> list[str]:
    line = next(line for line in text.splitlines() if line.startswith(f"│ {kind} "))
    return [cell.strip() for cell in line.strip("│").split("│")][1:]


def _simulated(tmp_path: Path, *scenarios: str) -> tuple[Path, Simulator]:
    """Half an hour of the simulator's traffic at 80 events/s with ``scenarios``, as a file."""
    sim = Simulator(SimConfig(seed=9, rate=80, duration_s=1800, scenarios=scenarios))
    events = tmp_path / "events.jsonl"
    events.write_bytes(b"".join(orjson.dumps(e) + b"\n" for _, _, e in sim.events()))
    return events, sim


def _changed(text: str, kind: str, next_kind: str, old: str, new: str) -> str:
    """The policy ``text`` with ``old`` replaced by ``new`` in signal ``kind``'s section
    (up to ``next_kind``'s), where it must occur once."""
    at, end = text.index(f"  {kind}:\n"), text.index(f"  {next_kind}:\n")
    assert text[at:end].count(old) == 1
    return text[:at] + text[at:end].replace(old, new) + text[end:]


def _against_bundled(tmp_path: Path, events: Path, candidate: Path, capsys: Any) -> str:
    """What ``replay --policy candidate --against`` (a copy of the bundled policy) prints."""
    in_use = tmp_path / "in_use.yaml"
    in_use.write_text(resources.files("signals").joinpath("default_policy.yaml").read_text())
    assert main(["replay", str(events), "--policy", str(candidate), "--against", str(in_use),
                 "--out", str(tmp_path / "s.jsonl")]) == 0
    return str(capsys.readouterr().err)


def test_a_signal_switched_off_in_the_policy_in_use_shows_as_the_candidates_own(
        tmp_path: Path, capsys: Any) -> None:
    events, sim = _simulated(tmp_path, "report_spike", "price_anomaly")
    bundled = resources.files("signals").joinpath("default_policy.yaml").read_text()
    in_use = tmp_path / "in_use.yaml"  # the same, with report_spike switched off
    in_use.write_text(bundled.replace("  report_spike:\n", "  report_spike:\n    enabled: false\n"))
    out = tmp_path / "signals.jsonl"
    assert main(["replay", str(events), "--against", str(in_use), "--out", str(out)]) == 0
    err = capsys.readouterr().err
    spike = next(lb for lb in sim.labels() if lb["scenario"] == "report_spike")
    opened = [s for s in map(orjson.loads, out.read_bytes().splitlines())
              if s["status"] == "open"]
    spikes = sum(s["signal_type"] == "report_spike" for s in opened)
    assert any(matches(spike, s) for s in opened)
    # --against, --policy, same, same but another severity, same but another end, same
    # entity other window, only --against, only --policy
    assert _row(err, "report_spike") == ["0", str(spikes), "0", "0", "0", "0", "0", str(spikes)]
    prices = sum(s["signal_type"] == "price_anomaly" for s in opened)
    assert prices >= 1
    assert _row(err, "price_anomaly") == [str(prices), str(prices), str(prices), "0", "0", "0",
                                          "0", "0"]
    listed = err[err.index("only under --policy the bundled policy:"):]
    assert f"report_spike {spike['entity_id']} ({spike['region']}), window from " in listed
    assert "only under --against" not in err


def test_the_same_detections_graded_otherwise_are_counted_and_listed(
        tmp_path: Path, capsys: Any) -> None:
    events, _ = _simulated(tmp_path, "price_anomaly")
    bundled_text = resources.files("signals").joinpath("default_policy.yaml").read_text()
    candidate = tmp_path / "critical.yaml"  # every price_anomaly critical from its open
    candidate.write_text(_changed(
        bundled_text, "price_anomaly", "listing_burst",
        "severity: {low: 0.6, medium: 0.75, high: 0.9, critical: 0.97}",
        "severity: {low: 0.6, medium: 0.6, high: 0.6, critical: 0.6}"))
    bundled = [s.to_dict() for s in replay(read_jsonl(str(events)), load_policy(None)).signals]
    peaks: dict[str, str] = {}
    for s in bundled:  # the highest severity each price_anomaly reached, by hand
        if s["signal_type"] == "price_anomaly" and s["status"] != "resolved":
            peaks[s["signal_id"]] = max(peaks.get(s["signal_id"], "low"), s["severity"],
                                        key=["low", "medium", "high", "critical"].index)
    below = [sid for sid, peak in peaks.items() if peak != "critical"]
    assert below  # the injected bait opens below critical under the bundled bands
    err = _against_bundled(tmp_path, events, candidate, capsys)
    n = str(len(peaks))
    assert _row(err, "price_anomaly") == [n, n, n, str(len(below)), "0", "0", "0", "0"]
    listed = err[err.index("the same signal, another highest severity:"):].splitlines()[1:]
    assert len(listed) == len(below)
    assert all(line.endswith(", --policy critical") and "price_anomaly li-" in line
               for line in listed)


def _open(entity: str, window_start: int) -> dict[str, Any]:
    return {"signal_type": "report_spike", "signal_id": f"sig_{entity}_{window_start}",
            "status": "open", "entity_id": entity, "region": "US",
            "window_start": window_start, "severity": "low", "score": 0.7}


def test_the_same_entity_opened_at_another_window_is_told_apart_from_each_policys_own() -> None:
    against = [_open("st-1", 120_000), _open("st-2", 0)]
    policy = [_open("st-1", 60_000), _open("st-3", 0), _open("st-2", 0)]
    console = Console(width=160, color_system=None)
    with console.capture() as out:
        show_comparison(against, policy, ("old.yaml", "new.yaml"), console)
    text = out.get()
    assert _row(text, "report_spike") == ["2", "3", "1", "0", "0", "1", "0", "1"]
    assert "only under --against" not in text
    assert "only under --policy new.yaml:\n  report_spike st-3 (US)" in text


def test_the_same_detections_ending_otherwise_are_counted_and_listed(
        tmp_path: Path, capsys: Any) -> None:
    events, _ = _simulated(tmp_path, "report_spike")
    bundled_text = resources.files("signals").joinpath("default_policy.yaml").read_text()
    candidate = tmp_path / "slow.yaml"  # a spike resolves after 6 quiet windows, not 2
    candidate.write_text(_changed(bundled_text, "report_spike", "viewer_inflation",
                                  "resolve_after_windows: 2\n", "resolve_after_windows: 6\n"))
    runs = [[s.to_dict() for s in replay(read_jsonl(str(events)), load_policy(p)).signals]
            for p in (None, str(candidate))]

    def spikes(signals: list[dict[str, Any]], status: str) -> dict[str, int]:
        return {s["signal_id"]: s["window_end"] for s in signals
                if s["signal_type"] == "report_spike" and s["status"] == status}

    opened = spikes(runs[0], "open")
    assert opened and opened.keys() == spikes(runs[1], "open").keys()
    ends = [spikes(run, "resolved") for run in runs]
    other = [sid for sid in opened if ends[0].get(sid) != ends[1].get(sid)]
    assert other and all(ends[0][sid] < ends[1].get(sid, 2**62) for sid in other)
    err = _against_bundled(tmp_path, events, candidate, capsys)
    n = str(len(opened))
    assert _row(err, "report_spike") == [n, n, n, "0", str(len(other)), "0", "0", "0"]
    listed = err[err.index("the same signal, another end:"):].splitlines()[1:]
    assert len(listed) == len(other)
    assert all("report_spike st-" in line and ": --against resolved with the window to " in line
               for line in listed)


def test_a_bad_policy_to_compare_against_is_refused_before_anything_runs(
        tmp_path: Path, capsys: Any) -> None:
    events = tmp_path / "events.jsonl"
    events.write_bytes(b"")
    assert main(["replay", str(events), "--against", "/dev/null"]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("riskstream: policy /dev/null: ")
    assert "processed=" not in captured.err and captured.out == ""
