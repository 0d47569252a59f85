from __future__ import annotations

import asyncio
import logging
import socket
from pathlib import Path

import orjson
import pytest

from streams.cli import main
from streams.config import Settings
from streams.errors import BrokerUnreachable, ConfigError
from streams.topics import ensure_topics


def test_env_prefix_and_overrides() -> None:
    s = Settings.from_env({"RISKSTREAM_BROKER": "h:1", "RISKSTREAM_PARTITIONS": "8"},
                          broker="h:2")
    assert (s.broker, s.partitions, s.windows_topic) == ("h:2", 8, "riskstream-windows")


@pytest.mark.parametrize(("var", "value"), [("RISKSTREAM_PARTITIONS", "0"),
                                            ("RISKSTREAM_METRICS_PORT", "70000"),
                                            ("RISKSTREAM_MAX_PAST_S", "soon"),
                                            ("RISKSTREAM_MAX_TERM_STATES", "0"),
                                            ("RISKSTREAM_LOG_LEVEL", "loud")])
def test_bad_setting_names_the_variable(var: str, value: str) -> None:
    with pytest.raises(ConfigError, match=var):
        Settings.from_env({var: value})


@pytest.mark.parametrize(("value", "says"), [
    ("host:port", "the port is not a number"),
    ("  ", "no address given"),
    ("kafka-1:9092,", "an empty address in the list"),
    (":9092", "no host before the port"),
    ("kafka-1:0", "the port must be 1-65535"),
    ("kafka-1:9092,kafka-2:99999", "'kafka-2:99999': the port must be 1-65535"),
    ("[::1:9092", "an IPv6 address opened with '[' and not closed with ']'"),
])
def test_a_broker_address_the_client_cannot_use_is_refused_at_start(value: str,
                                                                    says: str) -> None:
    """Once a traceback from deep in the Kafka client, or a minute spent trying ":9092"."""
    with pytest.raises(ConfigError) as info:
        Settings.from_env({"RISKSTREAM_BROKER": value})
    assert str(info.value) == f"RISKSTREAM_BROKER={value!r}: {says}"


@pytest.mark.parametrize("value", ["kafka-1:9092,kafka-2:9093", "kafka-1", "[::1]:9093",
                                   "10.0.0.7:19092, 10.0.0.8:19092"])
def test_every_bootstrap_list_the_client_reads_is_taken(value: str) -> None:
    assert Settings.from_env({"RISKSTREAM_BROKER": value}).broker == value


@pytest.mark.parametrize("command", [["tail"], ["verdict", "sig-1", "confirmed"],
                                     ["export", "--out", "/dev/null"], ["worker"]])
def test_a_commands_broker_flag_is_refused_with_its_name(command: list[str],
                                                          capsys) -> None:
    assert main([*command, "--broker", "kafka-1:port"]) == 2
    assert capsys.readouterr().err.strip() == (
        "riskstream: --broker=kafka-1:port: the port is not a number")


@pytest.mark.parametrize("value", ["", "risk stream", "risk/stream", "x" * 201])
def test_an_app_id_that_cannot_start_a_topic_name_is_refused(value: str) -> None:
    with pytest.raises(ConfigError, match="RISKSTREAM_APP_ID="):
        Settings.from_env({"RISKSTREAM_APP_ID": value})
    assert Settings.from_env({"RISKSTREAM_APP_ID": "riskstream-eu.2_b"}).state_topic == (
        "riskstream-eu.2_b-entity-state")


@pytest.mark.parametrize("var", ["RISKSTREAM_BROKER", "RISKSTREAM_POLICY",
                                 "RISKSTREAM_METRICS_HOST", "RISKSTREAM_DATA_DIR"])
def test_a_variable_set_to_nothing_is_refused_not_read_as_a_value(var: str) -> None:
    """An empty RISKSTREAM_POLICY was read as the directory "." ("Is a directory"), an
    empty data dir as the working directory, an empty metrics host as "cannot serve
    them there: another worker may hold the port"."""
    with pytest.raises(ConfigError) as info:
        Settings.from_env({var: ""})
    assert str(info.value) == f"{var}='': empty: give a value, or leave it out for the default"


@pytest.mark.parametrize("command", [["replay", "/dev/null", "--policy", ""],
                                     ["replay", "/dev/null", "--against", ""],
                                     ["check-policy", ""]])
def test_an_empty_policy_path_is_refused_as_naming_no_file(command: list[str],
                                                           capsys) -> None:
    assert main(command) == 2
    assert capsys.readouterr().err.strip() == (
        "riskstream: policy: an empty path names no file")


def test_a_metrics_host_this_machine_does_not_have_is_named_as_the_fault(monkeypatch,
                                                                        capsys) -> None:
    monkeypatch.setenv("RISKSTREAM_METRICS_HOST", "host.invalid")
    assert main(["worker", "--broker", _silent_address(),
                 "--metrics-port", str(_free_port())]) == 2
    err = capsys.readouterr().err
    assert "RISKSTREAM_METRICS_HOST must be a name or address of this machine" in err
    assert "another worker may hold the port" not in err


def test_a_dedup_capacity_of_0_is_refused_not_taken_as_off() -> None:
    with pytest.raises(ConfigError, match="RISKSTREAM_DEDUP_CAPACITY='0'"):
        Settings.from_env({"RISKSTREAM_DEDUP_CAPACITY": "0"})


def test_a_log_level_is_one_logging_knows_in_either_case() -> None:
    assert Settings.from_env({"RISKSTREAM_LOG_LEVEL": "WARNING"}).log_level == "warning"
    with pytest.raises(ConfigError) as info:  # the worker used to start, then fail on it
        Settings.from_env({"RISKSTREAM_LOG_LEVEL": "verbose"})
    assert str(info.value) == ("RISKSTREAM_LOG_LEVEL='verbose': Invalid enum value 'verbose' "
                               "(one of debug, info, warning, error, critical)")


def test_bad_setting_shows_its_value() -> None:
    with pytest.raises(ConfigError) as info:
        Settings.from_env({"RISKSTREAM_DEDUP_CAPACITY": "lots"})
    assert str(info.value) == "RISKSTREAM_DEDUP_CAPACITY='lots': Expected `int`"
    with pytest.raises(ConfigError) as info:
        Settings.from_env({}, partitions=0)  # a flag's override
    assert str(info.value) == "--partitions=0: Expected `int` >= 1"


def test_a_bad_flag_is_named_as_typed_not_as_its_variable(capsys) -> None:
    assert main(["worker", "--metrics-port", "99999", "--broker", _silent_address()]) == 2
    err = capsys.readouterr().err
    assert "--metrics-port=99999: Expected `int` <= 65535" in err
    assert "RISKSTREAM_" not in err


def test_check_policy_refuses_a_bad_file(tmp_path, capsys) -> None:
    bad = tmp_path / "p.yaml"
    bad.write_text("version: 1\nwindows: {size_s: -5}\n")
    assert main(["check-policy", str(bad)]) == 2
    assert "$.windows.size_s" in capsys.readouterr().err
    assert main(["check-policy", "signals/default_policy.yaml"]) == 0


@pytest.mark.parametrize(("argv", "flag"), [
    (["simulate", "--scenarios", "report_spike,nope", "--out", "/dev/null"], "--scenarios"),
    (["bench", "scenarios", "--seeds", "7001-70x"], "--seeds"),
    (["bench", "scenarios", "--types", "report_spike,nope"], "--types"),
    (["simulate", "--duration", "-5", "--out", "/dev/null"], "--duration"),
    (["simulate", "--rate", "0", "--out", "/dev/null"], "--rate"),
    (["simulate", "--rate", "inf", "--out", "/dev/null"], "--rate"),
    (["kafka", "start", "--port", "99999"], "--port"),
    (["demo", "--metrics-port", "-1"], "--metrics-port"),
    (["demo", "--for", "-5"], "--for"),
    (["tail", "--for", "0"], "--for"),
])
def test_bad_flag_is_refused_with_its_name(argv: list[str], flag: str, capsys) -> None:
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    assert flag in capsys.readouterr().err


@pytest.mark.parametrize(("argv", "says"), [
    (["simulate", "--rate", "abc", "--out", "/dev/null"], "--rate: not a number: 'abc'"),
    (["simulate", "--duration", "1.5", "--out", "/dev/null"],
     "--duration: not a whole number: '1.5'"),
    (["kafka", "start", "--port", "x9092"], "--port: not a number: 'x9092'"),
    (["bench", "scenarios", "--seeds", "7010-7001"],
     "--seeds: the range '7010-7001' holds no seed: write the lower seed first"),
    (["simulate", "--seed", "x", "--out", "/dev/null"], "--seed: not a number: 'x'"),
    (["simulate", "--start-ts", "soon", "--out", "/dev/null"],
     "--start-ts: not epoch ms nor an ISO 8601 time"),
    (["worker", "--metrics-port", "x"], "--metrics-port: not a number: 'x'"),
])
def test_bad_flag_value_is_explained(argv: list[str], says: str, capsys) -> None:
    """The error says what is wrong with the value, not argparse's "invalid _rate value"."""
    with pytest.raises(SystemExit):
        main(argv)
    err = capsys.readouterr().err
    assert says in err
    assert "invalid" not in err


def test_bench_scenarios_refuses_a_bad_policy_or_a_disabled_type_at_start(tmp_path,
                                                                          capsys) -> None:
    bad = tmp_path / "p.yaml"
    bad.write_text("version: 1\nwindows: {size_s: -5}\n")
    assert main(["bench", "scenarios", "--policy", str(bad)]) == 2
    assert "$.windows.size_s" in capsys.readouterr().err
    off = tmp_path / "off.yaml"
    off.write_text(Path("signals/default_policy.yaml").read_text().replace(
        "  report_spike:\n", "  report_spike:\n    enabled: false\n", 1))
    assert main(["bench", "scenarios", "--policy", str(off), "--types", "report_spike"]) == 2
    assert "--types: report_spike not enabled in the policy" in capsys.readouterr().err


def test_replay_command(tmp_path, capsys) -> None:
    events = tmp_path / "e.jsonl"
    assert main(["simulate", "--out", str(events), "--rate", "40", "--duration", "1500",
                 "--scenarios", "report_spike", "--seed", "3",
                 "--labels", str(tmp_path / "l.jsonl")]) == 0
    out = tmp_path / "s.jsonl"
    assert main(["replay", str(events), "--out", str(out)]) == 0
    assert b"report_spike" in out.read_bytes()
    assert "processed=" in capsys.readouterr().err


def test_replay_caps_term_states_by_the_workers_variable(tmp_path, capsys,
                                                        monkeypatch) -> None:
    events = tmp_path / "e.jsonl"
    assert main(["simulate", "--out", str(events), "--rate", "40", "--duration", "600",
                 "--scenarios", "", "--seed", "3"]) == 0
    capsys.readouterr()
    monkeypatch.setenv("RISKSTREAM_MAX_TERM_STATES", "5")
    assert main(["replay", str(events), "--out", str(tmp_path / "s.jsonl")]) == 0
    forgotten = capsys.readouterr().err.split("term states past the cap: ", 1)[1]
    assert int(forgotten.split(")", 1)[0]) > 0
    monkeypatch.setenv("RISKSTREAM_MAX_TERM_STATES", "0")
    assert main(["replay", str(events)]) == 2
    assert "RISKSTREAM_MAX_TERM_STATES" in capsys.readouterr().err


def test_replay_dead_letters_bad_lines_and_keeps_the_rest(tmp_path, capsys) -> None:
    events = tmp_path / "e.jsonl"
    assert main(["simulate", "--out", str(events), "--rate", "40", "--duration", "1500",
                 "--scenarios", "report_spike", "--seed", "3"]) == 0
    lines = events.read_bytes().splitlines()
    bad = [b"{not json", b"[1, 2]", b'{"event_type": "comment"}']
    events.write_bytes(b"\n".join(lines[:100] + bad + lines[100:]) + b"\n")
    out, dlq = tmp_path / "s.jsonl", tmp_path / "dlq.jsonl"
    assert main(["replay", str(events), "--out", str(out), "--dlq", str(dlq)]) == 0
    assert b"report_spike" in out.read_bytes()
    dead = [orjson.loads(line) for line in dlq.read_bytes().splitlines()]
    assert [d["raw"].encode() for d in dead] == bad
    assert [d["error"].split(":")[0] for d in dead] == ["not_json", "not_object",
                                                        "missing_field"]
    err = capsys.readouterr().err
    assert f"processed={len(lines)}" in err and "dead_lettered=3" in err


@pytest.mark.parametrize(("argv", "named"), [
    (["replay", "/nonexistent/events.jsonl"], "argument events"),
    (["tail", "--labels", "/nonexistent/labels.jsonl"], "argument --labels"),
])
def test_unreadable_input_file_is_refused_with_its_name(argv, named: str, capsys) -> None:
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    assert named in capsys.readouterr().err


@pytest.mark.parametrize(("argv", "flag"), [
    (["replay", "EVENTS", "--dlq", "MISSING/dlq.jsonl"], "--dlq"),
    (["replay", "EVENTS", "--out", "MISSING/s.jsonl"], "--out"),
    (["simulate", "--duration", "5", "--out", "MISSING/e.jsonl"], "--out"),
    (["simulate", "--duration", "5", "--out", "/dev/null", "--labels", "MISSING/l.jsonl"],
     "--labels"),
    (["bench", "nab", "--data", "NAB", "--out", "EVENTS/results"], "--out"),
    # written when a run of 10-30 minutes ends: refused before it starts
    (["bench", "nab", "--data", "NAB", "--out", "RESULTS", "--summary", "MISSING/s.json"],
     "--summary"),
    (["bench", "scenarios", "--summary", "MISSING/s.json"], "--summary"),
    (["bench", "throughput", "--summary", "MISSING/s.json"], "--summary"),
    (["bench", "throughput", "--profile", "MISSING/p.txt"], "--profile"),
    (["bench", "scenarios", "--workdir", "EVENTS/work"], "--workdir"),
    (["bench", "throughput", "--workdir", "EVENTS/work"], "--workdir"),
])
def test_unwritable_output_is_refused_before_the_run(argv, flag: str, tmp_path,
                                                    capsys) -> None:
    events = tmp_path / "e.jsonl"  # a file, so nothing can be created under it
    events.write_bytes(b"{}\n")
    nab = tmp_path / "nab"
    (nab / "labels").mkdir(parents=True)
    (nab / "labels" / "combined_windows.json").write_bytes(b"{}")
    argv = [a.replace("EVENTS", str(events)).replace("MISSING", str(tmp_path / "no"))
            .replace("NAB", str(nab)).replace("RESULTS", str(tmp_path / "results"))
            for a in argv]
    assert main(argv) == 2
    assert flag in capsys.readouterr().err


def test_an_output_checked_at_start_is_not_left_behind(tmp_path, capsys) -> None:
    summary = tmp_path / "s.json"
    argv = ["bench", "nab", "--data", str(tmp_path), "--out", str(tmp_path / "r"),
            "--summary", str(summary)]
    assert main(argv) == 2  # refused: no NAB corpus there
    assert "--data" in capsys.readouterr().err
    assert not summary.exists()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _silent_address() -> str:
    """host:port where nothing listens (a port the system just handed out and took back)."""
    return f"127.0.0.1:{_free_port()}"


def test_tail_without_a_broker_says_so_in_one_line(capsys) -> None:
    broker = _silent_address()
    assert main(["tail", "--broker", broker, "--for", "5"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"riskstream tail: no Kafka broker answers at {broker}: ")
    assert err.count("\n") == 1  # not the client's own "Unable connect" line as well
    assert "`riskstream kafka start`" in err


def test_a_verdict_with_no_broker_is_refused_after_a_short_wait(capsys) -> None:
    broker = _silent_address()  # a reviewer's one-off command, not a service's start
    assert main(["verdict", "--broker", broker, "sig_1", "confirmed"]) == 1
    err = capsys.readouterr().err
    assert f"riskstream verdict: no Kafka broker answers at {broker} (waited 10 s)" in err


def test_a_broker_that_never_answers_is_named_after_the_wait() -> None:
    broker = _silent_address()
    with pytest.raises(BrokerUnreachable, match=f"answers at {broker} \\(waited 1 s\\)"):
        asyncio.run(ensure_topics(broker, ("risk.signals",), 4, timeout_s=1.0))


def test_the_wait_for_a_broker_is_told_once_not_on_every_try(caplog) -> None:
    broker = _silent_address()
    with caplog.at_level(logging.WARNING), pytest.raises(BrokerUnreachable):
        asyncio.run(ensure_topics(broker, ("risk.signals",), 4, timeout_s=2.5))
    lines = [r.getMessage() for r in caplog.records]
    assert sum(f"answers at {broker} yet" in line for line in lines) == 1
    refused = [line for line in lines if line.startswith("Unable connect")]
    assert len(refused) == 1 and broker in refused[0]  # the client's reason, once of 3-4 tries
    assert not logging.getLogger("aiokafka").filters  # and later logs are left as they were


def test_the_demo_refuses_a_metrics_port_it_could_not_read(capsys) -> None:
    with pytest.raises(SystemExit) as info:
        main(["demo", "--metrics-port", "0"])  # the worker would take any port; the demo reads one
    assert info.value.code == 2
    assert "--metrics-port: must be a port number, 1-65535, not 0" in capsys.readouterr().err


def _no_broker_start(monkeypatch) -> None:
    """A demo that gets as far as starting its broker fails the test at once."""
    from streams.localkafka import LocalKafka

    def refuse(self, timeout_s: float = 90.0) -> int:
        raise AssertionError("the demo went on to start its broker")
    monkeypatch.setattr(LocalKafka, "start", refuse)


def test_the_demo_refuses_a_metrics_port_in_use_before_starting_anything(
        monkeypatch, capsys) -> None:
    _no_broker_start(monkeypatch)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert main(["demo", "--metrics-port", str(port)]) == 2
    out = capsys.readouterr()
    assert f"--metrics-port {port}: in use" in out.err
    assert "starting Kafka" not in out.out


def test_the_demo_refuses_a_bad_policy_variable_before_starting_anything(
        tmp_path, monkeypatch, capsys) -> None:
    _no_broker_start(monkeypatch)
    monkeypatch.setenv("RISKSTREAM_POLICY", str(tmp_path / "missing.yaml"))
    assert main(["demo", "--metrics-port", str(_free_port())]) == 2
    out = capsys.readouterr()
    assert f"cannot read {tmp_path / 'missing.yaml'}" in out.err
    assert "starting Kafka" not in out.out


def test_a_worker_refuses_a_metrics_port_in_use_before_waiting_for_a_broker(capsys) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert main(["worker", "--broker", _silent_address(), "--metrics-port", str(port)]) == 2
    err = capsys.readouterr().err
    assert f"metrics on 127.0.0.1:{port}: cannot serve them there (" in err
    assert "another worker may hold the port" in err
    assert "no Kafka broker" not in err  # refused at once, not after the broker's wait


def test_a_worker_refuses_a_data_dir_it_cannot_create(tmp_path, monkeypatch, capsys) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("RISKSTREAM_DATA_DIR", str(blocker / "worker"))
    assert main(["worker", "--broker", _silent_address(),
                 "--metrics-port", str(_free_port())]) == 2
    err = capsys.readouterr().err
    assert f"RISKSTREAM_DATA_DIR='{blocker / 'worker'}': cannot create it: Not a directory" in err


def test_a_simulations_start_may_be_given_as_an_iso_time(tmp_path) -> None:
    out = tmp_path / "ev.jsonl"
    args = ["simulate", "--duration", "1", "--rate", "2", "--seed", "3", "--out", str(out)]
    assert main([*args, "--start-ts", "2026-03-01T10:00+01:00"]) == 0
    first = orjson.loads(out.read_bytes().splitlines()[0])
    assert first["ts"] == 1772355600000  # 09:00 UTC
