"""``riskstream bench scenarios`` end to end: its own broker, a worker on the given
policy, the chosen types injected and scored."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

import orjson
import yaml

from streams.cli import main


def test_bench_scenarios_scores_the_chosen_types_with_the_given_policy(
        tmp_path: Path, capsys) -> None:
    doc = yaml.safe_load(resources.files("signals").joinpath("default_policy.yaml").read_text())
    doc["signals"]["viewer_inflation"]["open_score"] = 0.9999  # a bar nothing clears
    policy = tmp_path / "policy.yaml"
    policy.write_text(yaml.safe_dump(doc))
    summary = tmp_path / "summary.json"
    assert main(["bench", "scenarios", "--seeds", "11", "--minutes", "20", "--rate", "60",
                 "--types", "report_spike,viewer_inflation", "--policy", str(policy),
                 "--summary", str(summary), "--workdir", str(tmp_path / "work"),
                 "--replay"]) == 0
    figures = orjson.loads(summary.read_bytes())
    assert set(figures) == {"report_spike", "viewer_inflation"}
    assert figures["report_spike"]["recall"] == 1.0  # both injected spikes found
    assert figures["report_spike"]["precision"] == 1.0
    assert figures["viewer_inflation"]["recall"] == 0.0  # the worker ran the given policy
    out = capsys.readouterr().out
    for kind in ("coordinated_comments", "segment_report_surge"):  # other enabled types
        assert re.search(rf"│ {kind} +│ +│ +│ not injected │ +│ +\d+ \(\d+\.\d\d/h\)", out)
    missed = out[out.index("scenarios missed"):]  # listed, so they can be looked into
    assert missed.count("seed 11 viewer_inflation") == 2 and "report_spike" not in missed
    # a backtest of the same events (on the same policy) opens the same signals
    spikes = figures["report_spike"]
    assert spikes["replay_same"] >= 2, spikes
    assert spikes["replay_only_live"] == spikes["replay_only_replay"] == 0, spikes
    # and sends the same records for them: updates, resolutions, scores and windows
    assert spikes["replay_same_records"] == spikes["replay_same"], spikes
    assert "live worker against a replay" in out
