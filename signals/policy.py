"""The detection policy: a versioned YAML file a program manager can read and change.

It says which signals run, with which detector and parameters, when a signal
opens and resolves, and how scores map to severities. :func:`load_policy`
refuses a bad file with a message that names the field.

>>> p = load_policy()
>>> p.windows.size_s, p.signals["report_spike"].detector
(60, 'poisson_rate')
>>> parse_policy("version: 1\\nwindows: {size_s: 0}\\n")
Traceback (most recent call last):
...
signals.policy.PolicyError: policy: Expected `int` >= 1 - at `$.windows.size_s`
"""

from __future__ import annotations

import inspect
from collections.abc import Hashable
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec
import yaml

from detectors.base import Detector
from signals.catalogue import CATALOGUE

Score = Annotated[float, msgspec.Meta(ge=0.0, le=1.0)]


class PolicyError(ValueError):
    """A policy file that cannot be used; the message names the field."""


class _Strict(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    pass


class Windows(_Strict, frozen=True):
    size_s: Annotated[int, msgspec.Meta(ge=1)] = 60
    allowed_lateness_s: Annotated[int, msgspec.Meta(ge=0)] = 10


class Severity(_Strict, frozen=True):
    low: Score
    medium: Score
    high: Score
    critical: Score

    def of(self, score: float) -> str | None:
        """The severity of a score, or None below ``low``."""
        for name in ("critical", "high", "medium", "low"):
            if score >= getattr(self, name):
                return name
        return None


class Pinned(_Strict, frozen=True):
    """How a signal on a listing pinned in a live stream is raised (``price_anomaly``)."""

    #: the least severity of a signal on a listing pinned within ``for_s``
    severity: Literal["low", "medium", "high", "critical"] = "high"
    #: how long after a ``product_pin`` its listing counts as pinned (the contract has
    #: no unpin): an episode opened, or still open, that long after it is raised
    for_s: Annotated[int, msgspec.Meta(ge=0)] = 900


class SignalPolicy(_Strict, frozen=True):
    detector: str
    params: dict[str, float] = {}
    enabled: bool = True
    open_score: Score = 0.6
    resolve_score: Score = 0.3
    resolve_after_windows: Annotated[int, msgspec.Meta(ge=1)] = 2
    cooldown_s: Annotated[int, msgspec.Meta(ge=0)] = 600
    #: after a reviewer's ``false_positive`` verdict on one of its signals, how long
    #: (from the verdict's time) the entity opens no signal of this type (0: none)
    mute_s: Annotated[int, msgspec.Meta(ge=0)] = 21_600
    #: event time after the stage's first window in a region (of any type) during
    #: which the signal learns but never opens there (entities that all look new at
    #: start, such as terms)
    warmup_s: Annotated[int, msgspec.Meta(ge=0)] = 0
    #: how long a region must have been silent (no window of any type) to warm up
    #: again: as long as the warm-up if not given; at least as long as it
    rewarm_after_s: Annotated[int, msgspec.Meta(ge=0)] | None = None
    #: which deviations may open the signal: ``up`` (above what the detector expects),
    #: ``down`` or ``both``; a window on the other side scores 0 (and is learned)
    direction: Literal["up", "down", "both"] = "both"
    #: windows in a row scoring at or above resolve_score (flagged or grey) after which
    #: the next are learned anyway, so a lasting change becomes the entity's normal and
    #: its episode resolves (0: never)
    adopt_after_windows: Annotated[int, msgspec.Meta(ge=0)] = 0
    severity: Severity = Severity(low=0.6, medium=0.75, high=0.9, critical=0.97)
    #: for a listing's signal: the severity it has at least while its listing is
    #: pinned in a live stream (``product_pin``); none: a pin changes nothing
    pinned: Pinned | None = None


def off_side(direction: str, side: float | None) -> bool:
    """Whether a deviation on ``side`` (a detector's ``side()``: 1.0 above what it
    expects, -1.0 below) is one a signal with ``direction`` does not watch.

    >>> off_side("up", -1.0), off_side("up", 1.0), off_side("both", -1.0), off_side("down", None)
    (True, False, False, False)
    """
    if direction == "both" or side is None:
        return False
    return side != (1.0 if direction == "up" else -1.0)


class Policy(_Strict, frozen=True):
    version: Literal[1]
    windows: Windows = Windows()
    young_account_days: Annotated[int, msgspec.Meta(ge=0)] = 7
    entity_ttl_s: Annotated[int, msgspec.Meta(ge=60)] = 3600
    signals: dict[str, SignalPolicy] = {}


def _check(policy: Policy) -> None:
    if not any(sp.enabled for sp in policy.signals.values()):
        raise PolicyError("policy: `$.signals` enables no signal type, so a worker would "
                          "detect nothing; list the types to run (the bundled "
                          "signals/default_policy.yaml has them all)")
    for name, sp in policy.signals.items():
        where = f"`$.signals.{name}`"
        entry = CATALOGUE.get(name)
        if entry is None:
            raise PolicyError(f"policy: unknown signal type {name!r} at {where}; "
                              f"known: {', '.join(sorted(CATALOGUE))}")
        if sp.detector not in entry.detectors:
            raise PolicyError(f"policy: detector {sp.detector!r} cannot serve {name} at "
                              f"`$.signals.{name}.detector`; "
                              f"choose one of {sorted(entry.detectors)}")
        accepted = inspect.signature(entry.detectors[sp.detector]).parameters
        for param in sp.params:
            if param not in accepted:
                raise PolicyError(f"policy: unknown parameter at `$.signals.{name}.params.{param}`;"
                                  f" {sp.detector} takes {', '.join(accepted)}")
        try:  # a value the detector refuses (its message names the parameter)
            entry.detectors[sp.detector](**sp.params)
        except (TypeError, ValueError) as exc:
            param = str(exc).split(" ", 1)[0]  # the message starts with the parameter's name
            at = f"$.signals.{name}.params" + (f".{param}" if param in sp.params else "")
            raise PolicyError(f"policy: bad value at `{at}`: {exc}") from None
        if sp.direction != "both" and (
                entry.detectors[sp.detector].side is Detector.side):
            raise PolicyError(f"policy: `$.signals.{name}.direction` {sp.direction!r} needs a "
                              f"detector with one expected value; {sp.detector} has none "
                              "(use `both`)")
        if sp.rewarm_after_s is not None and sp.rewarm_after_s < sp.warmup_s:
            raise PolicyError(f"policy: `$.signals.{name}.rewarm_after_s` "
                              f"({sp.rewarm_after_s}) must not be below warmup_s "
                              f"({sp.warmup_s})")
        if sp.resolve_score > sp.open_score:
            raise PolicyError(f"policy: `$.signals.{name}.resolve_score` ({sp.resolve_score}) "
                              f"must not exceed open_score ({sp.open_score})")
        bands = [sp.severity.low, sp.severity.medium, sp.severity.high, sp.severity.critical]
        if bands != sorted(bands):
            raise PolicyError(f"policy: `$.signals.{name}.severity` bands must rise "
                              "from low to critical")
        if sp.pinned is not None and entry.entity_type != "listing":
            raise PolicyError(f"policy: `$.signals.{name}.pinned` applies to a listing's "
                              f"signal (price_anomaly); {name} judges a {entry.entity_type}")
        if sp.severity.low > sp.open_score:
            raise PolicyError(f"policy: `$.signals.{name}.severity.low` must not exceed "
                              "open_score, or an open signal would have no severity")


_KINDS = {str: "text", list: "a list", int: "a number", float: "a number", bool: "true or false"}


def _check_param(where: str, value: object) -> None:
    """Refuse a detector parameter that is not a number, naming it.

    >>> _check_param("`$.signals.x.params.half`", 4)
    >>> _check_param("`$.signals.x.params.half`", "4.0")
    Traceback (most recent call last):
    ...
    signals.policy.PolicyError: policy: expected a number at `$.signals.x.params.half`, got text
    """
    try:
        msgspec.convert(value, float)
    except msgspec.ValidationError:
        got = _KINDS.get(type(value), "nothing" if value is None else "a mapping")
        raise PolicyError(f"policy: expected a number at {where}, got {got}") from None


class _UniqueKeys(yaml.SafeLoader):  # type: ignore[misc]  # PyYAML has no types here
    r"""PyYAML's safe loader, refusing a key given twice in one mapping: YAML forbids
    it, but PyYAML keeps the last, so a second ``open_score`` or a second block for a
    signal type would silently replace the first.

    >>> yaml.load("a: 1\nb: 2\na: 3\n", _UniqueKeys)
    Traceback (most recent call last):
    ...
    yaml.constructor.ConstructorError: key `a` given twice, on line 1 and line 3
    """

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> Any:
        lines: dict[object, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":  # `<<: *base` may override
                continue
            key = self.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            if not isinstance(key, Hashable):  # PyYAML's own check refuses it below
                continue
            if key in lines:
                raise yaml.constructor.ConstructorError(
                    problem=f"key `{key}` given twice, on line {lines[key]} and line {line}")
            lines[key] = line
        return super().construct_mapping(node, deep)


def parse_policy(text: str) -> Policy:
    """Parse and validate a policy from YAML text."""
    try:
        data = yaml.load(text, _UniqueKeys)  # a SafeLoader: builds no Python objects
    except yaml.YAMLError as exc:
        raise PolicyError(f"policy: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        got = "an empty file" if data is None else _KINDS.get(type(data), "a single value")
        raise PolicyError(f"policy: expected a mapping of settings (`version: 1`, "
                          f"`signals: ...`), got {got}")
    signals = data.get("signals")
    if isinstance(signals, dict):  # check entries one by one, so errors name the signal
        for name, entry in signals.items():
            params = entry.get("params") if isinstance(entry, dict) else None
            if isinstance(params, dict):  # msgspec would say `params[...]`: name the key
                for key, value in params.items():
                    _check_param(f"`$.signals.{name}.params.{key}`", value)
            try:
                msgspec.convert(entry, SignalPolicy)
            except msgspec.ValidationError as exc:
                message = str(exc).replace("`$", f"`$.signals.{name}")
                if "`$.signals" not in message:
                    message += f" - at `$.signals.{name}`"
                raise PolicyError(f"policy: {message}") from None
    try:
        policy = msgspec.convert(data, Policy)
    except msgspec.ValidationError as exc:
        raise PolicyError(f"policy: {exc}") from None
    _check(policy)
    return policy


def load_policy(path: str | Path | None = None) -> Policy:
    """Load the policy at ``path``, or the bundled default when it is None; an error
    names the file.

    >>> load_policy("/dev/null")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    signals.policy.PolicyError: policy /dev/null: expected a mapping ..., got an empty file
    """
    if path is None:
        text = resources.files("signals").joinpath("default_policy.yaml").read_text()
        return parse_policy(text)
    if not str(path):
        raise PolicyError("policy: an empty path names no file")
    try:
        text = Path(path).read_text()
    except OSError as exc:
        raise PolicyError(f"policy: cannot read {path}: {exc.strerror}") from None
    try:
        return parse_policy(text)
    except PolicyError as exc:
        raise PolicyError(str(exc).replace("policy:", f"policy {path}:", 1)) from None
