from __future__ import annotations

import pytest

from streams.cli import main
from streams.config import Settings
from streams.errors import ConfigError


def test_env_prefix_and_overrides() -> None:
    s = Settings.from_env({"RISKSTREAM_BROKER": "h:1", "RISKSTREAM_PARTITIONS": "8"},
                          broker="h:2")
    assert (s.broker, s.partitions, s.windows_topic) == ("h:2", 8, "riskstream-windows")


@pytest.mark.parametrize(("var", "value"), [("RISKSTREAM_PARTITIONS", "0"),
                                            ("RISKSTREAM_METRICS_PORT", "70000"),
                                            ("RISKSTREAM_MAX_PAST_S", "soon")])
def test_bad_setting_names_the_variable(var: str, value: str) -> None:
    with pytest.raises(ConfigError, match=var):
        Settings.from_env({var: value})


def test_check_policy_refuses_a_bad_file(tmp_path, capsys) -> None:
    bad = tmp_path / "p.yaml"
    bad.write_text("version: 1\nwindows: {size_s: -5}\n")
    assert main(["check-policy", str(bad)]) == 2
    assert "$.windows.size_s" in capsys.readouterr().err
    assert main(["check-policy", "signals/default_policy.yaml"]) == 0


@pytest.mark.parametrize(("argv", "flag"), [
    (["simulate", "--scenarios", "report_spike,nope", "--out", "/dev/null"], "--scenarios"),
    (["bench", "scenarios", "--seeds", "7001-70x"], "--seeds"),
])
def test_bad_flag_is_refused_with_its_name(argv: list[str], flag: str, capsys) -> None:
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    assert flag in capsys.readouterr().err


def test_replay_command(tmp_path, capsys) -> None:
    events = tmp_path / "e.jsonl"
    assert main(["simulate", "--out", str(events), "--rate", "40", "--duration", "1500",
                 "--scenarios", "report_spike", "--seed", "3",
                 "--labels", str(tmp_path / "l.jsonl")]) == 0
    out = tmp_path / "s.jsonl"
    assert main(["replay", str(events), "--out", str(out)]) == 0
    assert b"report_spike" in out.read_bytes()
    assert "processed=" in capsys.readouterr().err
