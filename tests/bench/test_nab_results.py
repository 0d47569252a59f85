"""``bench nab --score``: result files already written, any detector's, scored as ours are."""

from __future__ import annotations

import csv
from pathlib import Path

import orjson
import pytest

from streams.cli import main

PROFILES = {name: {"CostMatrix": {"tpWeight": 1.0, "fnWeight": fn, "fpWeight": fp,
                                  "tnWeight": 1.0}}
            for name, fn, fp in (("standard", 1.0, 0.11), ("reward_low_FP_rate", 1.0, 0.22),
                                 ("reward_low_FN_rate", 2.0, 0.11))}
ROWS = 200  # probation 30 rows; the window holds rows 120-139


def stamp(i: int) -> str:
    return f"2015-01-01 {i // 12:02d}:{i % 12 * 5:02d}:00"


def corpus(root: Path) -> Path:
    """Two labelled series in NAB's layout: one with a window, one without."""
    values = [10.0 + (i % 7) for i in range(ROWS)]
    values[120] = 90.0
    for rel in ("cat/spike.csv", "cat/calm.csv"):
        path = root / "data" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("timestamp,value\n" + "".join(
            f"{stamp(i)},{v}\n" for i, v in enumerate(values)))
    (root / "labels").mkdir()
    (root / "labels" / "combined_windows.json").write_bytes(orjson.dumps({
        "cat/spike.csv": [[stamp(120) + ".000000", stamp(139) + ".000000"]],
        "cat/calm.csv": []}))
    (root / "config").mkdir()
    (root / "config" / "profiles.json").write_bytes(orjson.dumps(PROFILES))
    return root


def write_results(results: Path, scores: dict[str, list[float]], extra: bool = False) -> None:
    """Result files as NAB's runner writes them (``extra``: with its label column too)."""
    for name, column in scores.items():
        path = results / "cat" / f"{results.name}_{name}"
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["timestamp", "value", "anomaly_score"] + (["label"] if extra else []))
            w.writerows([stamp(i), 1.0, s] + ([0] if extra else [])
                        for i, s in enumerate(column))


def score(nab: Path, results: Path, tmp_path: Path) -> dict[str, float]:
    summary = tmp_path / "summary.json"
    assert main(["bench", "nab", "--data", str(nab), "--score", str(results),
                 "--summary", str(summary)]) == 0
    result: dict[str, float] = orjson.loads(summary.read_bytes())
    return result


def test_results_written_by_the_bench_score_the_same_when_read_back(tmp_path) -> None:
    nab = corpus(tmp_path / "nab")
    ran = tmp_path / "ran.json"
    assert main(["bench", "nab", "--data", str(nab), "--out", str(tmp_path / "r"),
                 "--summary", str(ran)]) == 0
    assert score(nab, tmp_path / "r" / "record", tmp_path) == orjson.loads(ran.read_bytes())


def test_another_detectors_files_are_scored_by_their_rows(tmp_path) -> None:
    nab = corpus(tmp_path / "nab")
    hit = [0.0] * ROWS
    hit[120] = 0.8  # at the window's left edge: the whole reward
    write_results(tmp_path / "perfect", {"spike.csv": hit, "calm.csv": [0.0] * ROWS},
                  extra=True)
    assert score(nab, tmp_path / "perfect", tmp_path) == {
        "standard": 100.0, "reward_low_FP": 100.0, "reward_low_FN": 100.0}
    late = [0.0] * ROWS
    late[135] = 0.8  # late in the window: less than the whole reward
    write_results(tmp_path / "late", {"spike.csv": late, "calm.csv": [0.0] * ROWS})
    assert 0.0 < score(nab, tmp_path / "late", tmp_path)["standard"] < 100.0
    after = [0.0] * ROWS
    after[160] = 0.8  # after the window: only a false positive; the best threshold is above it
    write_results(tmp_path / "after", {"spike.csv": after, "calm.csv": [0.0] * ROWS})
    assert score(nab, tmp_path / "after", tmp_path)["standard"] == 0.0


@pytest.mark.parametrize(("change", "named"), [
    (lambda rows: rows[:-1], "spike.csv: 199 rows, its data file has 200"),
    (lambda rows: [*rows, [stamp(ROWS), 1.0, 0.0]], "line 202: more rows than"),
    (lambda rows: [rows[0], rows[2], rows[1], *rows[3:]], "line 3: timestamp 2015-01-01 00:10:00"),
    (lambda rows: [*rows[:3], ["yesterday", 1.0, 0.0], *rows[4:]], "line 5: timestamp yesterday"),
    (lambda rows: [*rows[:5], [stamp(5), 1.0, "high"], *rows[6:]], "line 7: anomaly_score 'high'"),
    (lambda rows: [*rows[:5], [stamp(5), 1.0, 1.5], *rows[6:]], "line 7: anomaly_score 1.5 is not"),
])
def test_a_result_file_that_does_not_fit_is_refused_with_its_line(change, named: str,
                                                                  tmp_path, capsys) -> None:
    nab = corpus(tmp_path / "nab")
    results = tmp_path / "det"
    write_results(results, {"spike.csv": [0.0] * ROWS, "calm.csv": [0.0] * ROWS})
    path = results / "cat" / "det_spike.csv"
    rows = list(csv.reader(path.open()))
    with path.open("w", newline="") as fh:
        csv.writer(fh).writerows(rows[:1] + change(rows[1:]))
    assert main(["bench", "nab", "--data", str(nab), "--score", str(results)]) == 2
    err = capsys.readouterr().err
    assert str(path) in err and named in err


@pytest.mark.parametrize(("argv", "named"), [
    (["--score", "RESULTS/none"], "--score"),  # no such directory
    (["--score", "RESULTS/det", "--policy", "POLICY"], "--policy"),
    (["--score", "RESULTS/other"], "other_calm.csv: no such file"),
])
def test_a_results_directory_that_cannot_be_scored_is_refused(argv, named: str, tmp_path,
                                                              capsys) -> None:
    nab = corpus(tmp_path / "nab")
    write_results(tmp_path / "det", {"spike.csv": [0.0] * ROWS, "calm.csv": [0.0] * ROWS})
    write_results(tmp_path / "other", {"spike.csv": [0.0] * ROWS})  # one file missing
    policy = tmp_path / "policy.yaml"
    policy.write_text("{}\n")
    argv = [a.replace("RESULTS", str(tmp_path)).replace("POLICY", str(policy)) for a in argv]
    assert main(["bench", "nab", "--data", str(nab), *argv]) == 2
    assert named in capsys.readouterr().err


def test_out_and_score_are_one_or_the_other(tmp_path, capsys) -> None:
    with pytest.raises(SystemExit) as info:
        main(["bench", "nab", "--data", str(tmp_path), "--out", str(tmp_path / "r"),
              "--score", str(tmp_path)])
    assert info.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err
