"""``riskstream bench scenarios``: detection quality per signal type, through the real pipeline.

For each evaluation seed, a fresh local broker is preloaded with a simulated
run (every signal type the policy enables injected twice, or those of
``--types``; everything else clean traffic; the run starts a part of a window
drawn from the seed after a window's start, so its scenarios start anywhere in
a window, :func:`sim_config`) and one ``riskstream worker``
(with ``--policy``, if given) reads it from the start; its signals are matched
with the simulator's labels, and precision, recall, delay and false signals
per hour counted by :mod:`streams.quality`. The delay, a window's end plus the
allowed lateness, is in event time (the worker closes a window then; ``riskstream
bench throughput`` measures the rest, well under a second), so a run at full
speed gives the delay a live run would.

With ``--replay``, each seed's events are also run through ``riskstream
replay`` (:func:`streams.replay.replay`, the backtest path) and the signals
each opened are compared by signal id, and those both opened by their records
(statuses, severities, scores and windows, in order): what a backtest would show
against what the live worker sent. Each signal whose records differ is listed with
the first record that does, live and replayed.

Seeds: :data:`TUNING_SEEDS` were used while tuning detectors and policy (tests,
the demo, ad-hoc replays); the default evaluation seeds 7001-7030 never were.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson
from rich.console import Console

from signals.compare import Record, compare_opened, first_differences
from signals.engine import Engine
from signals.metrics import ENTITY_TYPES
from signals.policy import Policy, load_policy
from streams.bench.figures import show
from streams.bench.latency import all_signals
from streams.bench.run import fresh_broker
from streams.bench.throughput import preload, window_progress
from streams.errors import ConfigError
from streams.localworker import WorkerProcess
from streams.quality import COLUMN_NOTE, COLUMNS, Tally, false_row, score
from streams.replay import replay
from streams.simulate import SCENARIOS, SimConfig, Simulator

#: never used while tuning: 60 scenarios of each type, 20 hours of traffic
EVALUATION_SEEDS = tuple(range(7001, 7031))
#: used while tuning (tests, the demo, replays); never evaluated on
TUNING_SEEDS = (*range(1, 14), 101, 102, 103, 104, *range(201, 211))
REPEATS = 2  # scenarios of each type per seed


def sim_config(seed: int, kinds: tuple[str, ...], minutes: int, rate: float, window_s: int
               ) -> SimConfig:
    """The simulated run of one bench seed. Its start is moved by a part of a window drawn
    from the seed, so its scenarios (and their streams) start anywhere in a window, as
    abuse does, and not only at a window's start.

    >>> cfg = sim_config(7001, ("report_spike",), 40, 150.0, 60)
    >>> 0 <= cfg.start_ts - SimConfig.start_ts < 60_000, cfg.scenarios
    (True, ('report_spike', 'report_spike'))
    >>> sim_config(7001, (), 40, 150.0, 60) == sim_config(7001, (), 40, 150.0, 60)
    True
    """
    offset_ms = random.Random(f"bench-start-{seed}").randrange(window_s * 1000)
    return SimConfig(seed=seed, rate=rate, duration_s=minutes * 60,
                     start_ts=SimConfig.start_ts + offset_ms, scenarios=kinds * REPEATS)


def _replayed(events: list[tuple[str, bytes, dict[str, Any]]], policy: Policy
              ) -> list[dict[str, Any]]:
    """The signals a backtest of the seed's events gives (4 partitions, as the broker's)."""
    records = [(topic, key, orjson.dumps(value)) for topic, key, value in events]
    return [s.to_dict() for s in replay(records, policy, partitions=4, flush=True).signals]


def _one_seed(seed: int, kinds: tuple[str, ...], minutes: int, rate: float, root: Path,
              policy: Policy, policy_file: str | None = None, with_replay: bool = False
              ) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    after_ms = (policy.windows.size_s + policy.windows.allowed_lateness_s + 1) * 1000
    sim = Simulator(sim_config(seed, kinds, minutes, rate, policy.windows.size_s))
    events = list(sim.events())
    engine = Engine(policy)
    watched = tuple(t for t in ENTITY_TYPES if engine.watches(t))
    with fresh_broker(root, f"kafka-{seed}") as broker:
        pre = asyncio.run(preload(broker, events, 4, after_ms))
        shutil.rmtree(root / f"worker-{seed}", ignore_errors=True)  # no state of an old run
        env = {"RISKSTREAM_POLICY": str(Path(policy_file).resolve())} if policy_file else {}
        w = WorkerProcess(broker, root / f"worker-{seed}", f"bench-scenarios-{seed}", env)
        try:
            w.wait_started()
            deadline = time.monotonic() + 1800
            while time.monotonic() < deadline:
                if w.proc.poll() is not None:
                    raise RuntimeError(f"worker exited; log {w.log}")
                handled, closed, evaluated = window_progress(w, watched)
                if handled >= pre.events and evaluated >= closed:
                    break
                time.sleep(0.5)
            else:
                raise RuntimeError(f"worker did not finish; log {w.log}")
            signals = asyncio.run(all_signals(broker))
        finally:
            w.stop()
    return sim.labels(), signals, _replayed(events, policy) if with_replay else []


def record_text(record: Record | None) -> str:
    """A signal's record as the bench lists it where a live run and a replay differ.

    >>> record_text(("open", "high", 0.7545, 1_767_232_740_000, 1_767_232_800_000))
    'open high 0.7545 01:59-02:00Z'
    >>> record_text(None)
    'none'
    """
    if record is None:
        return "none"
    status, severity, score, start, end = record
    return f"{status} {severity} {score} {_hm(start)}-{_hm(end)}Z"


def _hm(ts_ms: int) -> str:
    return time.strftime("%H:%M", time.gmtime(ts_ms / 1000))


def run_scenarios(args: argparse.Namespace) -> int:
    policy = load_policy(args.policy)  # a bad policy is refused before any broker starts
    lateness_ms = policy.windows.allowed_lateness_s * 1000
    enabled = tuple(k for k in SCENARIOS if k in policy.signals and policy.signals[k].enabled)
    kinds = tuple(k for k in enabled if k in args.types)
    if args.types != SCENARIOS and len(kinds) < len(args.types):
        off = ", ".join(t for t in args.types if t not in kinds)
        raise ConfigError(f"--types: {off} not enabled in the policy")
    if not kinds:
        raise ConfigError("--types: no signal type to score")
    seeds = args.seeds or EVALUATION_SEEDS
    keep = args.workdir is not None
    root = Path(args.workdir) if keep else Path(tempfile.mkdtemp(prefix="riskstream-scen-"))
    root.mkdir(parents=True, exist_ok=True)
    totals: dict[str, Tally] = {}
    false: list[tuple[int, dict[str, Any]]] = []  # (seed, signal) of every false open
    missed: list[tuple[int, dict[str, Any]]] = []  # (seed, label) of every scenario missed
    # type -> opened in both, only live, only replayed; of those in both, the same records
    agree: dict[str, list[int]] = {}
    # (seed, open signal, first record that differs live, in the replay)
    differ: list[tuple[int, dict[str, Any], Record | None, Record | None]] = []
    try:
        for seed in seeds:
            labels, signals, replayed = _one_seed(seed, kinds, args.minutes, args.rate, root,
                                                  policy, args.policy, args.replay)
            if args.replay:
                diffs = first_differences(signals, replayed)
                for kind, opened in compare_opened(signals, replayed).items():
                    counts = (*opened.counts(),
                              sum(s["signal_id"] not in diffs for s in opened.same))
                    differ += [(seed, s, *diffs[s["signal_id"]]) for s in opened.same
                               if s["signal_id"] in diffs]
                    before = agree.get(kind, [0, 0, 0, 0])
                    agree[kind] = [x + y for x, y in zip(before, counts, strict=True)]
            for kind, r in score(labels, signals, lateness_ms).items():
                totals.setdefault(kind, Tally()).add(r)
                false += [(seed, s) for s in r["false"]]
                missed += [(seed, lb) for lb in r["missed"]]
    finally:
        if not keep:
            shutil.rmtree(root, ignore_errors=True)
    hours = len(seeds) * args.minutes / 60.0
    summary: dict[str, Any] = {}
    rows: list[tuple[str, ...]] = []
    for kind in SCENARIOS:
        if kind not in enabled:
            rows.append((kind, "", "", "not enabled"))
            continue
        if kind not in kinds:  # left out by --types: its false signals still count
            rows.append((kind, *totals.get(kind, Tally()).unscored("not injected", hours)))
            continue
        t = totals[kind]  # every injected type has labels, so a total
        summary[kind] = t.figures(hours)
        rows.append((kind, *t.cells(hours)))
    span = (f"{seeds[0]}-{seeds[-1]}" if len(seeds) > 2 and list(seeds) == list(
        range(seeds[0], seeds[-1] + 1)) else ", ".join(map(str, seeds)))
    console = Console(width=max(Console().width, 120))
    console.print(f"scenarios: seeds {span}, {args.minutes} min each at {args.rate:.0f} "
                  f"events/s, {REPEATS} scenarios per type per seed ({COLUMN_NOTE})",
                  highlight=False, soft_wrap=True)
    show("", rows, console, COLUMNS)
    if args.replay:
        show("live worker against a replay of the same events: signals opened, by id", [
            (kind, f"{both}/{both + live + rep}",
             f"in both; {live} only live, {rep} only in the replay; {alike} of those in both "
             "with the same records")
            for kind, (both, live, rep, alike) in agree.items()])
        for kind, (both, live, rep, alike) in agree.items():
            if kind in summary:
                summary[kind] |= {"replay_same": both, "replay_only_live": live,
                                  "replay_only_replay": rep, "replay_same_records": alike}
    if differ:
        show("signals both opened whose records differ: the first record that does", [
            (f"seed {seed} {s['signal_type']} {s['entity_id']}", record_text(live),
             record_text(rep)) for seed, s, live, rep in differ],
            columns=("signal", "live", "replay"))
    if false:
        show("false signals: opened on no labelled entity", [false_row(s, f"seed {seed} ")
                                                            for seed, s in false])
    def run_start(seed: int) -> int:
        return sim_config(seed, kinds, args.minutes, args.rate, policy.windows.size_s).start_ts

    if missed:
        show("scenarios missed: no signal of their type opened on their entity", [
            (f"seed {seed} {lb['scenario']} {lb['entity_id']}",
             f"{(lb['start_ts'] - run_start(seed)) // 1000} s", f"started that far into the "
             f"run, region {lb['region']}") for seed, lb in missed])
    if args.summary:
        Path(args.summary).write_bytes(orjson.dumps(summary, option=orjson.OPT_INDENT_2))
    return 0
