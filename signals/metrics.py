"""Prometheus metrics of a riskstream worker.

Names follow Prometheus's naming guide; every label comes from a small closed set
(topics, error kinds, signal types, severities), initialised at start, never an
id. Library code never touches the global registry: pass one in.

>>> from prometheus_client import CollectorRegistry
>>> reg = CollectorRegistry()
>>> m = build_metrics(reg)
>>> m.events_processed.labels(topic="livestream.events").inc(3)
>>> reg.get_sample_value("riskstream_events_processed_total", {"topic": "livestream.events"})
3.0
"""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from signals.catalogue import CATALOGUE
from signals.pins import PIN_ACTIONS
from signals.record import SEVERITIES, STATUSES
from signals.verdicts import UNKNOWN_TYPE, VERDICT_ACTIONS, VERDICTS

INPUT_TOPICS = ("livestream.events", "listing.events")
VERDICTS_TOPIC = "governance.verdicts"
# the kinds of error a verdict record can have; an event can also have the rest
VERDICT_ERROR_KINDS = (
    "too_large", "not_json", "not_object", "missing_field", "wrong_type", "out_of_range",
    "too_long",
)
ERROR_KINDS = (*VERDICT_ERROR_KINDS, "unknown_event_type", "ts_future", "ts_past", "late")
ENTITY_TYPES = ("stream", "seller", "listing")
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
DELAY_BUCKETS = (1, 2.5, 5, 10, 20, 30, 45, 60, 90, 120, 180, 300, 600)
SWEEP_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0)


@dataclass(frozen=True)
class Metrics:
    events_processed: Counter
    events_dead_lettered: Counter
    events_duplicate: Counter
    windows_closed: Counter
    windows_closed_idle: Counter
    windows_stale: Counter
    windows_skipped: Counter
    windows_evaluated: Counter
    windows_merged: Counter
    windows_repeated: Counter
    windows_pending_merge: Gauge
    windows_records_held: Gauge
    windows_held_seconds: Gauge
    signals_emitted: Counter
    verdicts: Counter
    verdict_actions: Counter
    pins: Counter
    processing_latency: Histogram
    signal_delay: Histogram
    consumer_lag: Gauge
    open_windows: Gauge
    terms_dropped: Counter
    term_states_forgotten: Counter
    states_expired: Counter
    tracked_entities: Gauge
    sweep_seconds: Histogram
    watermark_ts: Gauge
    agent_crashes: Counter


#: the worker's Faust agents: a crash of one is counted under its name
AGENTS = ("detect", "verdicts")


def build_metrics(registry: CollectorRegistry) -> Metrics:
    """Create every metric in ``registry`` with its label sets initialised."""
    m = Metrics(
        events_processed=Counter(
            "riskstream_events_processed_total",
            "Input records decoded, validated and used: an event folded into a window, "
            "a verdict counted.",
            ["topic"], registry=registry),
        events_dead_lettered=Counter(
            "riskstream_events_dead_lettered_total",
            "Input records sent to the dead-letter topic, by error kind.",
            ["topic", "kind"], registry=registry),
        events_duplicate=Counter(
            "riskstream_events_duplicate_total",
            "Valid input records skipped as re-sends of an event_id already seen.",
            ["topic"], registry=registry),
        windows_closed=Counter(
            "riskstream_windows_closed_total",
            "Per-entity event-time windows closed and handed to detection.",
            ["entity_type"], registry=registry),
        windows_closed_idle=Counter(
            "riskstream_windows_closed_idle_total",
            "Windows closed by the wall clock: their input partition, live and caught up, "
            "delivered nothing for RISKSTREAM_IDLE_CLOSE_S (also in windows_closed_total).",
            ["topic"], registry=registry),
        windows_stale=Counter(
            "riskstream_windows_stale_total",
            "Closed windows ignored because a later one of the entity was already processed "
            "(replays after a restart).", ["entity_type"], registry=registry),
        windows_skipped=Counter(
            "riskstream_windows_skipped_total",
            "Closed windows no enabled signal could judge (e.g. a listing without a price "
            "change, or a comment text only one account used), not judged.",
            ["entity_type"], registry=registry),
        windows_evaluated=Counter(
            "riskstream_windows_evaluated_total",
            "Closed windows run through the policy's detectors.",
            ["entity_type"], registry=registry),
        windows_merged=Counter(
            "riskstream_windows_merged_total",
            "Partial windows of spread entities (a seller's listings on several partitions, "
            "a comment text's first use) received for merging.",
            ["entity_type"], registry=registry),
        windows_repeated=Counter(
            "riskstream_windows_repeated_total",
            "Partial windows left out of a merge: the same input partition's part of the "
            "window was already held (a window closed again, or read again, after a "
            "restart).", ["entity_type"], registry=registry),
        windows_records_held=Gauge(
            "riskstream_windows_records_held",
            "Windows-topic records left unacknowledged (so uncommitted) until the partial "
            "windows they carry are merged and judged.", registry=registry),
        windows_held_seconds=Gauge(
            "riskstream_windows_held_seconds",
            "How long the oldest windows-topic record still held has waited (0: none). "
            "Records are acknowledged within the merge's 120 s settle time; one held far "
            "longer means its partition's commits have stopped.", registry=registry),
        windows_pending_merge=Gauge(
            "riskstream_windows_pending_merge",
            "Merged windows of spread entities waiting for every input partition to close "
            "them.", registry=registry),
        signals_emitted=Counter(
            "riskstream_signals_emitted_total",
            "Signal records written to risk.signals.",
            ["signal_type", "severity", "status"], registry=registry),
        verdicts=Counter(
            "riskstream_verdicts_total",
            "Verdicts on signals read from governance.verdicts, by the signal's type "
            "(unknown: a signal id not among the newest 100,000 of the last 7 days on "
            "risk.signals, or one of a type riskstream does not emit).",
            ["signal_type", "verdict"], registry=registry),
        verdict_actions=Counter(
            "riskstream_verdict_actions_total",
            "What the worker judging a signal's entity did on a false_positive or "
            "duplicate verdict: resolved the signal (and, after a false_positive, muted "
            "the entity for the type's mute_s); muted it only (its signal had resolved); "
            "none (a duplicate on a resolved signal); untracked (no state for the "
            "entity: silent past the entity TTL).",
            ["signal_type", "action"], registry=registry),
        pins=Counter(
            "riskstream_pins_total",
            "product_pin events reaching the worker that judges their listing: held (the "
            "listing has no state yet: one is made for the pin, kept until pinned.for_s has "
            "passed), kept (in the listing's state), raised (an open signal was raised to the "
            "policy's pinned.severity: an update sent), ignored (the policy raises nothing "
            "for pins, or a newer pin of the listing is kept).",
            ["action"], registry=registry),
        processing_latency=Histogram(
            "riskstream_processing_latency_seconds",
            "From a record's broker timestamp to the end of the batch that folded it "
            "(observed once per partition batch, for its oldest record).",
            ["topic"], buckets=LATENCY_BUCKETS, registry=registry),
        signal_delay=Histogram(
            "riskstream_signal_delay_seconds",
            "From the event-time end of the window to the emission of its signal.",
            ["signal_type"], buckets=DELAY_BUCKETS, registry=registry),
        consumer_lag=Gauge(
            "riskstream_consumer_lag_records",
            "Records in the input topic not yet consumed by this worker.",
            ["topic"], registry=registry),
        open_windows=Gauge(
            "riskstream_open_windows",
            "Per-entity windows currently open in memory.", registry=registry),
        terms_dropped=Counter(
            "riskstream_terms_dropped",
            "Term uses not counted exactly because a partition's window already held the "
            "most (term, region) counters it keeps (they are sketched; a term used again "
            "takes the counter of one used once).", registry=registry),
        term_states_forgotten=Counter(
            "riskstream_term_states_forgotten",
            "Term states forgotten before their TTL because the worker held "
            "RISKSTREAM_MAX_TERM_STATES of them.", registry=registry),
        states_expired=Counter(
            "riskstream_states_expired",
            "States this worker forgot because they went quiet past the policy's "
            "entity_ttl_s (each worker sweeps the entities whose windows it judges).",
            registry=registry),
        tracked_entities=Gauge(
            "riskstream_tracked_entities",
            "Entities with detector state held by this worker.", registry=registry),
        sweep_seconds=Histogram(
            "riskstream_sweep_seconds",
            "Wall time of one sweep of the entity states (TTL expiry, the term-state cap); "
            "it runs in slices, the worker reading and judging between them.",
            buckets=SWEEP_BUCKETS, registry=registry),
        watermark_ts=Gauge(
            "riskstream_watermark_timestamp_seconds",
            "Newest event time seen by the ingest stage, as Unix seconds.", registry=registry),
        agent_crashes=Counter(
            "riskstream_agent_crashes",
            "Exceptions that stopped one of the worker's Faust agents (detect: judging "
            "windows; verdicts: reading reviewers' verdicts). Faust restarts the agent, "
            "but the record it was handling goes unhandled, and its partition commits no further "
            "until the worker restarts; the worker's log holds the traceback.",
            ["agent"], registry=registry),
    )
    for agent in AGENTS:
        m.agent_crashes.labels(agent=agent)
    for topic in INPUT_TOPICS:
        m.events_processed.labels(topic=topic)
        m.events_duplicate.labels(topic=topic)
        m.consumer_lag.labels(topic=topic)
        m.windows_closed_idle.labels(topic=topic)
        m.processing_latency.labels(topic=topic)
        for kind in ERROR_KINDS:
            m.events_dead_lettered.labels(topic=topic, kind=kind)
    m.events_processed.labels(topic=VERDICTS_TOPIC)
    for kind in VERDICT_ERROR_KINDS:
        m.events_dead_lettered.labels(topic=VERDICTS_TOPIC, kind=kind)
    for signal_type in (*CATALOGUE, UNKNOWN_TYPE):
        for verdict in VERDICTS:
            m.verdicts.labels(signal_type=signal_type, verdict=verdict)
    for signal_type in CATALOGUE:
        for action in VERDICT_ACTIONS:
            m.verdict_actions.labels(signal_type=signal_type, action=action)
    for action in PIN_ACTIONS:
        m.pins.labels(action=action)
    for entity_type in ENTITY_TYPES:
        m.windows_closed.labels(entity_type=entity_type)
        m.windows_stale.labels(entity_type=entity_type)
        m.windows_evaluated.labels(entity_type=entity_type)
        m.windows_skipped.labels(entity_type=entity_type)
        m.windows_merged.labels(entity_type=entity_type)
        m.windows_repeated.labels(entity_type=entity_type)
    for signal_type in CATALOGUE:
        m.signal_delay.labels(signal_type=signal_type)
        for severity in SEVERITIES:
            for status in STATUSES:
                m.signals_emitted.labels(signal_type=signal_type, severity=severity, status=status)
    return m
