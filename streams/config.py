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
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Annotated, Any, Literal, get_args, get_type_hints

import msgspec

from streams.errors import ConfigError

PREFIX = "RISKSTREAM_"
Port = Annotated[int, msgspec.Meta(ge=0, le=65535)]
MAX_TERM_STATES = 1_000_000  # term states a worker (or a file replay) holds at most


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    broker: str = "127.0.0.1:9092"
    app_id: str = "riskstream"
    partitions: Annotated[int, msgspec.Meta(ge=1)] = 4
    policy: str | None = None
    metrics_host: str = "127.0.0.1"
    metrics_port: Port = 9308
    data_dir: str = ".riskstream/worker"
    log_level: Literal["debug", "info", "warning", "error", "critical"] = "info"
    max_future_s: Annotated[int, msgspec.Meta(ge=0)] = 3600
    max_past_s: Annotated[int, msgspec.Meta(ge=0)] = 7 * 24 * 3600
    dedup_capacity: Annotated[int, msgspec.Meta(ge=0)] = 100_000
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
            return msgspec.convert(values, cls, strict=False)
        except msgspec.ValidationError as exc:
            message = str(exc)
            field = message.rsplit("`$.", 1)[-1].rstrip("`") if "`$." in message else ""
            reason = message.split(" - at ")[0]
            if field in flags:  # a flag's value: name the flag the user typed
                given = "--" + field.replace("_", "-") + f"={flags[field]}"
            elif field in values:  # a variable's value (always a str): show it as given
                given = PREFIX + field.upper() + f"={values[field]!r}"
                reason = reason.removesuffix(", got `str`")
            else:
                given = PREFIX + field.upper() if field else "settings"
            choices = get_args(get_type_hints(cls).get(field)) if field else ()
            if reason.startswith("Invalid enum value") and choices:
                reason += f" (one of {', '.join(choices)})"
            raise ConfigError(f"{given}: {reason}") from None

    @property
    def windows_topic(self) -> str:
        """The internal topic that carries closed windows from ingest to detection."""
        return f"{self.app_id}-windows"

    @property
    def state_topic(self) -> str:
        """The compacted topic that keeps per-entity detector state."""
        return f"{self.app_id}-entity-state"
