"""The exception tree of riskstream.

    RiskstreamError
    ├── BadRecord          an input record breaks the wire contract (goes to the DLQ)
    ├── ConfigError        a bad setting, flag or policy file (refused at start)
    └── BrokerUnreachable  no Kafka broker answers at the address given
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


class BrokerUnreachable(RiskstreamError):
    """No Kafka broker answers at ``broker``; the message says how to start or name one.

    >>> err = BrokerUnreachable("127.0.0.1:9092", waited_s=60)
    >>> str(err).split(": start")[0]
    'no Kafka broker answers at 127.0.0.1:9092 (waited 60 s)'
    >>> "`riskstream kafka start`" in str(err)
    True
    """

    def __init__(self, broker: str, waited_s: float = 0.0) -> None:
        waited = f" (waited {waited_s:.0f} s)" if waited_s else ""
        super().__init__(f"no Kafka broker answers at {broker}{waited}: start one with "
                         "`riskstream kafka start`, or give its address with --broker or "
                         "RISKSTREAM_BROKER")
