"""The ``riskstream`` command line: worker, simulate, demo, kafka, replay, export, tail, verdict,
bench, check-policy, schema."""

from __future__ import annotations

import argparse
import asyncio
import math
import multiprocessing
import sys
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from contextlib import ExitStack, nullcontext
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import orjson

from signals.policy import PolicyError, load_policy
from signals.record import SEVERITIES
from signals.verdicts import VERDICTS
from streams.errors import BrokerUnreachable, ConfigError
from streams.localkafka import LocalKafka, LocalKafkaError, cache_dir, fetch_jars
from streams.logs import plain_warnings


def _float(text: str) -> float:
    """A number, or an error that says so (not argparse's, which names this function).

    >>> _float("1e3")
    1000.0
    >>> _float("abc")
    Traceback (most recent call last):
    argparse.ArgumentTypeError: not a number: 'abc'
    """
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None


def _int(text: str) -> int:
    """A whole number, written as one or in exponent form (``1e5``).

    >>> _int("1e5"), _int("-3")
    (100000, -3)
    >>> _int("2.5")
    Traceback (most recent call last):
    argparse.ArgumentTypeError: not a whole number: '2.5'
    """
    value = _float(text)
    if not value.is_integer():
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}")
    return int(value)


def _non_negative(text: str) -> float:
    value = _float(text)
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, not {text}")
    return value


def _positive(text: str) -> float:
    value = _float(text)
    if not 0 < value < math.inf:
        raise argparse.ArgumentTypeError(f"must be > 0, not {text}")
    return value


def _non_negative_int(text: str) -> int:
    value = _int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, not {text}")
    return value


def _port(text: str) -> int:
    """
    >>> _port("9092")
    9092
    """
    value = _int(text)
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"must be a port number, 1-65535, not {text}")
    return value


def _listed(text: str, known: tuple[str, ...], what: str, offered: tuple[str, ...] = ()
            ) -> tuple[str, ...]:
    """Comma-separated names, each one of ``known`` (a refusal offers ``offered`` too).

    >>> _listed("a, b", ("a", "b", "c"), "letter")
    ('a', 'b')
    """
    names = tuple(n.strip() for n in text.split(",") if n.strip())
    for name in names:
        if name not in known:
            raise argparse.ArgumentTypeError(
                f"unknown {what} {name!r}; choose from {', '.join((*offered, *known))}")
    return names


def _scenarios(text: str) -> tuple[str, ...]:
    from streams.simulate import SCENARIOS

    if text == "all":
        return SCENARIOS
    if text in ("", "none"):
        return ()
    return _listed(text, SCENARIOS, "scenario", offered=("all", "none"))


def _moment(text: str) -> int:
    """A point in time as epoch ms: epoch ms itself, or an ISO 8601 date and time
    (UTC unless it names an offset).

    >>> _moment("1767225600000"), _moment("2026-01-01T00:00Z"), _moment("2026-01-01 01:00+01:00")
    (1767225600000, 1767225600000, 1767225600000)
    """
    if text.isdigit():
        return int(text)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not epoch ms nor an ISO 8601 time (2026-12-04T10:00Z): {text!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def _since(text: str) -> int:
    """A time ago (``30s``, ``15m``, ``2h``, ``1d``) or a time (:func:`_moment`), as
    epoch ms.

    >>> now = time.time() * 1000
    >>> round((now - _since("15m")) / 60_000), _since("2026-01-01T00:00Z")
    (15, 1767225600000)
    """
    unit = {"s": 1_000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}.get(text[-1:])
    if unit is not None and text[:-1].replace(".", "", 1).isdigit():
        return int(time.time() * 1000 - float(text[:-1]) * unit)
    return _moment(text)


def _signal_types(text: str) -> tuple[str, ...]:
    """
    >>> _signal_types("report_spike, price_anomaly")
    ('report_spike', 'price_anomaly')
    """
    from signals.catalogue import CATALOGUE

    names = _listed(text, tuple(CATALOGUE), "signal type")
    if not names:
        raise argparse.ArgumentTypeError("no signal type given")
    return names


def _readable(path: str) -> str:
    """A file that can be read, checked before any work starts."""
    try:
        with open(path, "rb"):
            return path
    except OSError as exc:
        raise argparse.ArgumentTypeError(f"cannot read {path}: {exc.strerror}") from None


def _count(text: str) -> int:
    value = _int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, not {text}")
    return value


def _sizes(text: str) -> tuple[int, ...]:
    """
    >>> _sizes("1e5,1000000")
    (100000, 1000000)
    """
    return tuple(_count(x) for x in text.split(",") if x.strip())


def _seeds(text: str) -> tuple[int, ...]:
    """Seeds as a list and ranges.

    >>> _seeds("7001-7003,42")
    (7001, 7002, 7003, 42)
    """
    out: list[int] = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        first, sep, last = part.partition("-")
        try:
            seeds = range(int(first), int(last if sep else first) + 1)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"not a seed or range of seeds: {part!r} (e.g. 7001-7010,42)") from None
        if not seeds:
            raise argparse.ArgumentTypeError(
                f"the range {part!r} holds no seed: write the lower seed first")
        out += seeds
    if not out:
        raise argparse.ArgumentTypeError("no seeds given")
    return tuple(out)


def _add_broker(p: argparse.ArgumentParser) -> None:
    p.add_argument("--broker", help="Kafka bootstrap host:port (env RISKSTREAM_BROKER; "
                                    "default 127.0.0.1:9092)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="riskstream", description="Streaming risk-signal detector for live shopping.")
    sub = parser.add_subparsers(dest="command", required=True)

    w = sub.add_parser("worker", help="run a worker: input topics in, risk.signals out")
    _add_broker(w)
    w.add_argument("--policy", help="policy YAML (env RISKSTREAM_POLICY; default: bundled)")
    w.add_argument("--metrics-port", type=_int, help="/metrics port (env RISKSTREAM_METRICS_PORT)")
    w.add_argument("--app-id", help="Faust app id and consumer group prefix")

    s = sub.add_parser("simulate", help="produce simulated events with labelled scenarios")
    _add_broker(s)
    s.add_argument("--seed", type=_int, default=7)
    s.add_argument("--rate", type=_positive, default=200.0,
                   help="events per second of event time (default 200)")
    s.add_argument("--duration", type=_count, default=3600, help="seconds of event time")
    s.add_argument("--speed", type=_non_negative, default=1.0,
                   help="event-time seconds per wall-clock second; 0 = as fast as possible")
    s.add_argument("--scenarios", type=_scenarios, default="all",
                   help="comma-separated signal types, 'all' or 'none'")
    s.add_argument("--labels", help="write the injected scenarios as JSON lines to this file")
    s.add_argument("--out", help="write events as JSON lines to this file instead of Kafka")
    s.add_argument("--start-ts", type=_moment, help="event time of the first second: epoch "
                   "ms or ISO 8601, UTC unless it names an offset (default: now minus "
                   "--warmup to Kafka; 2026-01-01 with --out)")
    s.add_argument("--warmup", type=_non_negative_int, default=0,
                   help="seconds of event time produced unpaced first (history for baselines)")
    s.add_argument("--first-scenario", type=_non_negative_int,
                   help="seconds from start to the first scenario")
    s.add_argument("--scenario-gap", type=_count, help="seconds between scenario starts")
    s.add_argument("--daily-shops", type=_non_negative_int, default=0,
                   help="established shops that each upload 12-30 listings once a day")

    d = sub.add_parser("demo", help="local broker + worker + simulator + live signal table")
    d.add_argument("--port", type=_port, default=9092, help="local broker port")
    d.add_argument("--metrics-port", type=_port, default=9308,
                   help="the worker's /metrics port, which the demo reads (default 9308)")
    d.add_argument("--rate", type=_positive, default=200.0,
                   help="simulated events per second of event time (default 200)")
    d.add_argument("--speed", type=_non_negative, default=1.0,
                   help="event-time seconds per wall-clock second in the live part "
                        "(default 1; 0 = as fast as possible)")
    d.add_argument("--seed", type=_int, default=7)
    d.add_argument("--for", dest="run_for", type=_positive,
                   help="stop by itself after this many seconds (default: until Ctrl-C)")

    k = sub.add_parser("kafka", help="run a local single-node Kafka broker (KRaft)")
    k.add_argument("action", choices=("start", "stop", "status", "fetch"))
    k.add_argument("--port", type=_port, default=9092)
    k.add_argument("--data-dir", help="broker data directory (default: cache dir/kafka-data)")

    r = sub.add_parser("replay", help="run a JSON-lines event file through the same core")
    r.add_argument("events", type=_readable, help="file written by `riskstream simulate --out`")
    r.add_argument("--policy")
    r.add_argument("--out", help="write signals as JSON lines here (default: stdout)")
    r.add_argument("--dlq", help="write the records dead-lettered (as riskstream.dlq would "
                                 "hold them) as JSON lines here")
    r.add_argument("--flush", action="store_true", help="close the windows open at the end")
    r.add_argument("--against", metavar="POLICY",
                   help="also replay the events under this policy (the one in use, say) and "
                        "print, per signal type, the signals each policy opened: the same "
                        "ones and each one's own")
    r.add_argument("--labels", type=_readable,
                   help="scenario labels (`riskstream simulate --labels`) to score the "
                        "signals against: precision, recall, delay and false signals per "
                        "type, as `bench scenarios` counts them (for each policy, with "
                        "--against)")
    r.add_argument("--summary", help="with --labels, write the --policy's figures per "
                                     "signal type here as JSON (as `bench scenarios` does)")

    x = sub.add_parser("export", help="write the input topics' records and reviewers' verdicts "
                                      "over a span of time to a file, in event-time order, for "
                                      "`riskstream replay`")
    _add_broker(x)
    x.add_argument("--out", required=True, help="the file to write (JSON lines)")
    x.add_argument("--since", type=_moment,
                   help="first record time: epoch ms or ISO 8601, UTC unless it says "
                        "(default: the topics' start)")
    x.add_argument("--until", type=_moment,
                   help="last record time, the same way (default: the topics' ends now)")

    t = sub.add_parser("tail", help="print signals from risk.signals as JSON lines")
    _add_broker(t)
    where = t.add_mutually_exclusive_group()
    where.add_argument("--from-beginning", action="store_true")
    where.add_argument("--since", type=_since,
                       help="from the signals sent since then: a time ago (30s, 15m, 2h, "
                            "1d) or a time, as epoch ms or ISO 8601 (default: from now on)")
    t.add_argument("--for", dest="run_for", type=_positive,
                   help="seconds to read (default: 10 from now on; with --since or "
                        "--from-beginning, up to the topic's end, then stop)")
    t.add_argument("--type", type=_signal_types,
                   help="only signals of these types (comma-separated)")
    t.add_argument("--min-severity", choices=SEVERITIES,
                   help="only signals of this severity or higher")
    t.add_argument("--labels", type=_readable,
                   help="scenario labels to score the signals against")

    v = sub.add_parser("verdict", help="send a reviewer's verdict on a signal to "
                                       "governance.verdicts")
    _add_broker(v)
    v.add_argument("signal_id", help="the signal's id, as on risk.signals (sig_...)")
    v.add_argument("verdict", choices=VERDICTS)
    v.add_argument("--reviewer", help="who decided (optional)")
    v.add_argument("--note", help="why (optional, at most 2,000 characters)")

    b = sub.add_parser("bench", help="benchmarks that print figures (no pass/fail)")
    bsub = b.add_subparsers(dest="bench", required=True)
    bt = bsub.add_parser("throughput", help="raw client vs worker vs Quix Streams; live "
                                            "latency; memory per tracked entity")
    bt.add_argument("--events", type=_count, default=200_000,
                    help="preloaded events (default 200000)")
    bt.add_argument("--rate", type=_positive, default=500.0,
                    help="simulated events per second of event time in the preload")
    bt.add_argument("--partitions", type=_count, default=4)
    bt.add_argument("--seed", type=_int, default=7)
    bt.add_argument("--live-rate", type=_positive, default=5000.0,
                    help="events/s of the live latency run (default 5000)")
    bt.add_argument("--live-seconds", type=_count, default=180)
    bt.add_argument("--warmup-seconds", type=_count, default=300,
                    help="event-time history written unpaced before the live part")
    bt.add_argument("--entities", type=_sizes, default=(100_000, 1_000_000),
                    help="entity counts of the memory runs (default 1e5,1e6)")
    bt.add_argument("--churn-rounds", type=_non_negative_int, default=3,
                    help="rounds of entity churn after the first memory run")
    bt.add_argument("--skip-quix", action="store_true")
    bt.add_argument("--skip-latency", action="store_true")
    bt.add_argument("--skip-memory", action="store_true")
    bt.add_argument("--summary", help="also write the figures as JSON to this file")
    bt.add_argument("--workdir", help="keep broker data and worker logs here (default: a "
                                      "temporary directory, removed at the end)")
    bt.add_argument("--profile", help="sample the worker with py-spy during the throughput "
                                      "run; raw stacks to this file, top entries printed")

    bn = bsub.add_parser("nab", help="the production univariate detector over the NAB corpus")
    bn.add_argument("--data", required=True, help="NAB directory (data/, labels/, config/)")
    what = bn.add_mutually_exclusive_group(required=True)
    what.add_argument("--out", help="run the detector; results directory (NAB layout)")
    what.add_argument("--score", metavar="RESULTS",
                      help="score result files already written instead, any detector's: "
                           "RESULTS/<category>/<detector>_<file>.csv (NAB layout; "
                           "<detector> is RESULTS' own name)")
    bn.add_argument("--summary", help="also write the scores as JSON to this file")
    bn.add_argument("--policy", help="policy YAML whose purchase_anomaly detector to score "
                                     "(default: bundled; with --out only)")

    bs = bsub.add_parser("scenarios", help="precision, recall and delay per signal type, "
                                           "through the real pipeline on a local broker")
    bs.add_argument("--seeds", type=_seeds, default=None,
                    help="seeds, e.g. 7001-7010,42 (default 7001-7030: never used while tuning)")
    bs.add_argument("--minutes", type=_count, default=40,
                    help="event-time minutes per seed (default 40)")
    bs.add_argument("--rate", type=_positive, default=150.0,
                    help="simulated events per second of event time (default 150, the "
                         "tuning seeds' rate)")
    bs.add_argument("--types", type=_scenarios, default="all",
                    help="signal types whose scenarios to inject and score, comma-separated "
                         "(default all: every type the policy enables)")
    bs.add_argument("--policy", help="policy YAML the worker runs (default: bundled)")
    bs.add_argument("--summary", help="also write the figures as JSON to this file")
    bs.add_argument("--workdir", help="keep broker data and worker logs here")
    bs.add_argument("--replay", action="store_true",
                    help="also replay each seed's events as a backtest does and compare the "
                         "signals opened with the live worker's, by signal id")

    c = sub.add_parser("check-policy", help="validate a policy file and print it normalised")
    c.add_argument("policy")

    from streams.schemas import TOPICS
    sc = sub.add_parser("schema", help="print the JSON Schema of a topic's records")
    sc.add_argument("topic", choices=tuple(TOPICS))
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return _dispatch(args)
    except (ConfigError, PolicyError, LocalKafkaError) as exc:
        print(f"riskstream: {exc}", file=sys.stderr)
        return 2
    except BrokerUnreachable as exc:
        print(f"riskstream {args.command}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "kafka":
        return _kafka(args)
    if args.command == "schema":
        from streams.schemas import schema

        print(orjson.dumps(schema(args.topic), option=orjson.OPT_INDENT_2).decode())
        return 0
    if args.command == "check-policy":
        import msgspec

        policy = load_policy(args.policy)
        print(orjson.dumps(msgspec.to_builtins(policy), option=orjson.OPT_INDENT_2).decode())
        return 0
    if args.command == "replay":
        return _replay(args)
    if args.command == "simulate":
        return _simulate(args)
    if args.command == "tail":
        return _tail(args)
    if args.command == "export":
        return _export(args)
    if args.command == "verdict":
        return _verdict(args)
    if args.command == "worker":
        return _worker(args)
    if args.command == "bench":
        return _bench(args)
    from streams.demo import run_demo

    return run_demo(args)


def _bench(args: argparse.Namespace) -> int:
    from streams.localkafka import sigterm_as_ctrl_c

    sigterm_as_ctrl_c()  # its brokers and workers stop with it
    # outputs written only when the run ends (after 10-30 minutes for some): checked now
    _check_writable(args.summary, "--summary")
    if getattr(args, "workdir", None):
        try:
            Path(args.workdir).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"--workdir {args.workdir}: cannot create: {exc.strerror}"
                              ) from None
    if getattr(args, "profile", None):
        from streams.bench.throughput import py_spy

        _check_writable(args.profile, "--profile")
        if py_spy() is None:
            raise ConfigError("--profile: py-spy not found (it comes with the bench extra: "
                              "pip install -e '.[bench]')")
    if args.bench == "nab":
        from streams.bench.nab import run_nab, score_results

        data = Path(args.data)
        if not (data / "labels" / "combined_windows.json").is_file():
            raise ConfigError(f"--data {data}: no labels/combined_windows.json (the NAB corpus "
                              "directory holds data/, labels/ and config/)")
        if args.score:
            if args.policy:
                raise ConfigError("--policy: only with --out (--score reads scores already "
                                  "written, whatever detector wrote them)")
            if not Path(args.score).is_dir():
                raise ConfigError(f"--score {args.score}: not a directory")
            score_results(data, Path(args.score), args.summary)
            return 0
        out = Path(args.out)
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"--out {out}: cannot create: {exc.strerror}") from None
        run_nab(data, out, args.summary, load_policy(args.policy))
        return 0
    # their own Kafka clients print their warnings plainly, each line once per 30 s
    if args.bench == "scenarios":
        from streams.bench.scenarios import run_scenarios

        with plain_warnings():
            return run_scenarios(args)
    from streams.bench.run import run_throughput

    with plain_warnings():
        return run_throughput(args)


def _kafka(args: argparse.Namespace) -> int:
    data_dir = Path(args.data_dir) if args.data_dir else cache_dir() / "kafka-data"
    kafka = LocalKafka(port=args.port, data_dir=data_dir)
    if args.action == "fetch":
        print(fetch_jars())
    elif args.action == "start":
        pid = kafka.start()
        print(f"kafka running on {kafka.bootstrap} (pid {pid}, data {data_dir})")
    elif args.action == "stop":
        print("kafka stopped" if kafka.stop() else "kafka was not running")
    else:
        running = kafka.pid()
        if running:
            print(f"kafka running on {kafka.bootstrap} (pid {running}, data {data_dir})")
        elif kafka.answers():
            print(f"something answers on {kafka.bootstrap}, not started with data {data_dir} "
                  "(the demo keeps its broker in demo-kafka-data)")
        else:
            print(f"kafka not running on {kafka.bootstrap}")
        return 0 if running or kafka.answers() else 1
    return 0


def _worker(args: argparse.Namespace) -> int:
    from streams.app import run_worker, serve_metrics
    from streams.config import Settings
    from streams.topics import PUBLIC_TOPICS, ensure_topics

    settings = Settings.from_env(broker=args.broker, policy=args.policy,
                                 metrics_port=args.metrics_port, app_id=args.app_id)
    policy = load_policy(settings.policy)
    metrics = serve_metrics(settings)
    asyncio.run(ensure_topics(
        settings.broker, (*PUBLIC_TOPICS, settings.windows_topic, settings.state_topic),
        settings.partitions, compacted=(settings.state_topic,)))
    run_worker(settings, policy, metrics)
    return 0


def _tail(args: argparse.Namespace) -> int:
    from streams.config import Settings
    from streams.quality import read_labels
    from streams.tail import chosen, read_signals, score_labels

    labels = None if args.labels is None else read_labels(args.labels)
    settings = Settings.from_env(broker=args.broker)
    start = "earliest" if args.from_beginning else "latest" if args.since is None else args.since
    with plain_warnings():
        seconds = 10.0 if args.run_for is None and start == "latest" else args.run_for
        signals = asyncio.run(read_signals(settings.broker, seconds, start,
                                           chosen(args.type, args.min_severity)))
    if labels is not None:
        for line in score_labels(signals, labels, until_ms=int(time.time() * 1000)):
            print(line, file=sys.stderr)
    return 0


VERDICT_WAIT_S = 10.0  # a reviewer's one-off command: a broker down is said soon


def _verdict(args: argparse.Namespace) -> int:
    from streams.config import Settings
    from streams.contract import VERDICTS_TOPIC, verdict_record
    from streams.errors import BadRecord
    from streams.producer import produce

    try:  # what the worker would refuse is refused here
        record = verdict_record(args.signal_id, args.verdict, int(time.time() * 1000),
                                reviewer=args.reviewer, note=args.note)
    except BadRecord as exc:
        raise ConfigError(f"verdict not sent: {exc.reason}") from None
    settings = Settings.from_env(broker=args.broker)
    with plain_warnings():
        asyncio.run(produce([(VERDICTS_TOPIC, args.signal_id.encode(), record)],
                            settings.broker, speed=0, pace_from_ts=0,
                            partitions=settings.partitions, broker_wait_s=VERDICT_WAIT_S))
    print(f"sent: {orjson.dumps(record).decode()}", file=sys.stderr)
    return 0


def _export(args: argparse.Namespace) -> int:
    from streams.config import Settings
    from streams.export import export

    if args.since is not None and args.until is not None and args.since > args.until:
        raise ConfigError(f"--since ({args.since}) is after --until ({args.until})")
    out = _open_output(args.out, "--out")
    assert out is not None  # --out is required
    settings = Settings.from_env(broker=args.broker)

    def progress(records: int) -> None:
        print(f"exported {records} records...", file=sys.stderr)

    with out as fh, plain_warnings():
        done = asyncio.run(export(settings.broker, fh, args.since, args.until,
                                  progress=progress))
    span = ("" if done.first_ts is None else
            f", event time {_iso(done.first_ts)} to {_iso(done.last_ts or done.first_ts)}")
    print(f"exported {done.records} records{span} to {args.out}"
          + (f"; {done.tombstones} records with no value (tombstones) left out"
             if done.tombstones else ""), file=sys.stderr)
    return 0


def _iso(ts_ms: int) -> str:
    """
    >>> _iso(1_767_225_600_500)
    '2026-01-01T00:00:00.500Z'
    """
    moment = datetime.fromtimestamp(ts_ms / 1000, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts_ms % 1000:03d}Z"


def _replay(args: argparse.Namespace) -> int:
    from rich.console import Console

    from streams.config import Settings
    from streams.quality import read_labels, show_quality
    from streams.replay import event_hours, read_jsonl, replay, replayed_signals
    from streams.replay_compare import show_comparison

    policy = load_policy(args.policy)
    against = None if args.against is None else load_policy(args.against)
    if args.summary and not args.labels:
        raise ConfigError("--summary: needs --labels (the figures are scored against them)")
    labels = None if args.labels is None else read_labels(args.labels)
    cap = Settings.from_env().max_term_states  # the worker's, from the same variable
    out, dlq = _open_output(args.out, "--out"), _open_output(args.dlq, "--dlq")
    summary = _open_output(args.summary, "--summary")
    with ExitStack() as stack:
        if against is not None:  # beside the candidate's replay, in a process of its own
            pool = stack.enter_context(ProcessPoolExecutor(
                max_workers=1, mp_context=multiprocessing.get_context("spawn")))
            before = pool.submit(replayed_signals, args.events, against, args.flush, cap)
        result = replay(read_jsonl(args.events), policy, flush=args.flush,
                        max_term_states=cap)
        against_signals = before.result() if against is not None else []
    with out or nullcontext(sys.stdout.buffer) as fh:
        fh.writelines(signal.to_json() + b"\n" for signal in result.signals)
    if dlq is not None:
        with dlq as fh:
            fh.writelines(d.to_json() + b"\n" for d in result.dead)
    kinds = Counter(d.kind for d in result.dead)
    print(f"processed={result.processed} duplicates={result.duplicates} "
          f"dead_lettered={len(result.dead)} windows={result.windows} "
          f"signals={len(result.signals)} states_forgotten={result.forgotten} "
          f"(term states past the cap: {result.terms_forgotten})", file=sys.stderr)
    for name, counts in (("verdicts", result.verdicts), ("pins", result.pins)):
        if counts:
            print(f"{name}: " + ", ".join(f"{k}={n}" for k, n in sorted(counts.items())),
                  file=sys.stderr)
    if kinds:
        print("dead-lettered by kind: " + ", ".join(f"{k}={n}" for k, n in sorted(kinds.items()))
              + ("" if args.dlq else " (--dlq FILE keeps them, with their reasons)"),
              file=sys.stderr)
    console = Console(stderr=True, width=max(Console(stderr=True).width, 140))
    name = args.policy or "the bundled policy"
    runs = [(f"--policy {name}", policy, [s.to_dict() for s in result.signals])]
    if against is not None:
        runs.insert(0, (f"--against {args.against}", against, against_signals))
        show_comparison(runs[0][2], runs[1][2], (args.against, name), console)
    if labels is not None:
        hours = event_hours(args.events)
        console.print(f"scored against the {len(labels)} scenarios labelled in {args.labels}, "
                      f"{hours:.2f} h of events, as `bench scenarios` counts:",
                      highlight=False, soft_wrap=True)
        for title, run_policy, signals in runs:
            figures = show_quality(labels, signals, run_policy.windows.allowed_lateness_s * 1000,
                                   hours, f"quality under {title}", console)
        if summary is not None:  # the last run's figures: --policy's
            with summary as fh:
                fh.write(orjson.dumps(figures, option=orjson.OPT_INDENT_2))
    return 0


def _open_output(path: str | None, flag: str, mode: str = "wb") -> IO[Any] | None:
    """``path`` opened for writing before any work starts, or a refusal naming ``flag``."""
    if path is None:
        return None
    try:
        return open(path, mode)  # closed by the caller
    except OSError as exc:
        raise ConfigError(f"{flag} {path}: cannot write: {exc.strerror}") from None


def _check_writable(path: str | None, flag: str) -> None:
    """Refuse ``path`` now, naming ``flag``, if it cannot be written; a file this check
    creates is removed again."""
    if path is None:
        return
    existed = Path(path).exists()
    opened = _open_output(path, flag, mode="ab")
    assert opened is not None
    opened.close()
    if not existed:
        Path(path).unlink()


def _simulate(args: argparse.Namespace) -> int:
    from streams.simulate import SimConfig, Simulator

    start_ts = args.start_ts
    if start_ts is None:
        start_ts = SimConfig.start_ts if args.out else int(time.time() * 1000) - args.warmup * 1000
    config = SimConfig(seed=args.seed, rate=args.rate, duration_s=args.duration,
                       start_ts=start_ts, scenarios=args.scenarios,
                       first_scenario_s=args.first_scenario, scenario_gap_s=args.scenario_gap,
                       daily_shops=args.daily_shops)
    try:
        sim = Simulator(config)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    labels, out = _open_output(args.labels, "--labels"), _open_output(args.out, "--out")
    if labels is not None:
        with labels as fh:
            fh.writelines(orjson.dumps(label) + b"\n" for label in sim.labels())
    if out is not None:
        n = 0
        with out as fh:
            for _topic, _key, event in sim.events():
                fh.write(orjson.dumps(event) + b"\n")
                n += 1
        print(f"wrote {n} events to {args.out}", file=sys.stderr)
        return 0
    from streams.config import Settings
    from streams.producer import produce

    settings = Settings.from_env(broker=args.broker)
    with plain_warnings():
        n = asyncio.run(produce(sim, settings.broker, args.speed,
                                pace_from_ts=start_ts + args.warmup * 1000,
                                partitions=settings.partitions,
                                clock_anchored=args.start_ts is None and args.speed == 1.0))
    print(f"produced {n} events to {settings.broker}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
