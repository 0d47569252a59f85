"""Deployment settings from ``RISKSTREAM_*`` environment variables (and CLI flags).

Detection lives in the policy file; this is where the worker runs and connects.
A bad value is refused at start with the variable's name and the value given.

>>> Settings.from_env({"RISKSTREAM_METRICS_PORT": "9400"}).metrics_port
9400
>>> Settings.from_env({"RISKSTREAM_METRICS_PORT": "many"})
Traceback (most recent call last):
...
streams.errors.ConfigError: RISKSTREAM_METRICS_PORT='many': Expected `int`
>>> Settings.from_env({}, metrics_port=70000)  # from the flag
Traceback (most recent call last):
...
streams.errors.ConfigError: --metrics-port=70000: Expected `int` <= 65535
>>> Settings.from_env({"RISKSTREAM_BROKER": "kafka-1:port"})
Traceback (most recent call last):
...
streams.errors.ConfigError: RISKSTREAM_BROKER='kafka-1:port': the port is not a number
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Annotated, Any, Literal, get_args, get_type_hints

import msgspec
from aiokafka.conn import collect_hosts

from streams.errors import ConfigError

PREFIX = "RISKSTREAM_"
Port = Annotated[int, msgspec.Meta(ge=0, le=65535)]
MAX_TERM_STATES = 1_000_000  # term states a worker (or a file replay) holds at most
# the app id starts the names of the topics the worker makes: Kafka's topic name
# characters, short enough that the longest name Faust makes from it stays within 249
AppId = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9._-]+$", max_length=200)]
Given = Annotated[str, msgspec.Meta(min_length=1)]  # a name or path: not left empty


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    broker: Given = "127.0.0.1:9092"
    app_id: AppId = "riskstream"
    partitions: Annotated[int, msgspec.Meta(ge=1)] = 4
    policy: Given | None = None
    metrics_host: Given = "127.0.0.1"
    metrics_port: Port = 9308
    data_dir: Given = ".riskstream/worker"
    log_level: Literal["debug", "info", "warning", "error", "critical"] = "info"
    max_future_s: Annotated[int, msgspec.Meta(ge=0)] = 3600
    max_past_s: Annotated[int, msgspec.Meta(ge=0)] = 7 * 24 * 3600
    dedup_capacity: Annotated[int, msgspec.Meta(ge=1)] = 100_000
    max_term_states: Annotated[int, msgspec.Meta(ge=1)] = MAX_TERM_STATES
    batch_max_records: Annotated[int, msgspec.Meta(ge=1)] = 5000
    read_skew_s: Annotated[int, msgspec.Meta(ge=0)] = 10
    idle_close_s: Annotated[int, msgspec.Meta(ge=0)] = 10

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Read ``RISKSTREAM_<FIELD>`` variables, then apply non-None overrides (flags)."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        for name in cls.__struct_fields__:
            var = PREFIX + name.upper()
            if var in env:
                values[name] = env[var]
        flags = {k: v for k, v in overrides.items() if v is not None}
        values.update(flags)
        if isinstance(values.get("log_level"), str):  # INFO and info alike
            values["log_level"] = values["log_level"].lower()
        try:
            settings = msgspec.convert(values, cls, strict=False)
        except msgspec.ValidationError as exc:
            message = str(exc)
            field = message.rsplit("`$.", 1)[-1].rstrip("`") if "`$." in message else ""
            reason = message.split(" - at ")[0]
            if field in values and field not in flags:  # a variable's value is a str
                reason = reason.removesuffix(", got `str`")
            choices = get_args(get_type_hints(cls).get(field)) if field else ()
            if reason.startswith("Invalid enum value") and choices:
                reason += f" (one of {', '.join(choices)})"
            if reason.startswith("Expected `str` of length >= 1"):
                reason = "empty: give a value, or leave it out for the default"
            if reason.startswith("Expected `str` matching regex"):
                reason = "use one or more letters, digits, '.', '_' or '-', and nothing else"
            raise ConfigError(f"{_given(field, values, flags)}: {reason}") from None
        problem = broker_problem(settings.broker)
        if problem:
            raise ConfigError(f"{_given('broker', values, flags)}: {problem}")
        return settings

    @property
    def windows_topic(self) -> str:
        """The internal topic that carries closed windows from ingest to detection."""
        return f"{self.app_id}-windows"

    @property
    def state_topic(self) -> str:
        """The compacted topic that keeps per-entity detector state."""
        return f"{self.app_id}-entity-state"


def _given(field: str, values: Mapping[str, Any], flags: Mapping[str, Any]) -> str:
    """How the user gave ``field``: the flag as typed, or the variable and its value."""
    if field in flags:
        return "--" + field.replace("_", "-") + f"={flags[field]}"
    if field in values:
        return PREFIX + field.upper() + f"={values[field]!r}"
    return PREFIX + field.upper() if field else "settings"


def broker_problem(broker: str) -> str:
    """What is wrong with a bootstrap list as the Kafka client reads it (``""`` if
    nothing): ``host[:port]`` or ``[ipv6][:port]``, comma-separated, port 9092 if
    left out.

    >>> broker_problem("kafka-1:9092,kafka-2"), broker_problem("[::1]:9093")
    ('', '')
    >>> broker_problem("kafka-1:9092,")
    'an empty address in the list'
    >>> broker_problem("kafka-1:0")
    'the port must be 1-65535'
    >>> broker_problem("kafka-1:9092,kafka-2:0")
    "'kafka-2:0': the port must be 1-65535"
    """
    if not broker.strip():
        return "no address given"
    addresses = broker.split(",")
    for address in addresses:
        named = f"{address.strip()!r}: " if len(addresses) > 1 else ""
        if not address.strip():
            return "an empty address in the list"
        if address.strip().startswith("[") and "]" not in address:
            return f"{named}an IPv6 address opened with '[' and not closed with ']'"
        try:
            ((host, port, _family),) = collect_hosts(address, randomize=False)
        except ValueError:
            return f"{named}the port is not a number"
        if not host:
            return f"{named}no host before the port"
        if not 1 <= port <= 65535:
            return f"{named}the port must be 1-65535"
    return ""
