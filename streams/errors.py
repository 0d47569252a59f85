"""The exception tree of riskstream.

    RiskstreamError
    ├── BadRecord          an input record breaks the wire contract (goes to the DLQ)
    └── ConfigError        a bad setting, flag or policy file (refused at start)
"""

from __future__ import annotations


class RiskstreamError(Exception):
    """Root of every error riskstream raises on purpose."""


class BadRecord(RiskstreamError):
    """An input record that breaks the contract.

    ``kind`` is one of a small closed set (the ``kind`` label of
    ``riskstream_events_dead_lettered_total``, listed in
    ``signals.metrics.ERROR_KINDS``); ``reason`` is one line
    for humans that names the field and what was expected.

    >>> str(BadRecord("wrong_type", "Expected `int`, got `str` - at `$.ts`"))
    'wrong_type: Expected `int`, got `str` - at `$.ts`'
    """

    def __init__(self, kind: str, reason: str) -> None:
        super().__init__(f"{kind}: {reason}")
        self.kind = kind
        self.reason = reason


class ConfigError(RiskstreamError):
    """A setting, flag or policy field that cannot be used; the message names it."""
