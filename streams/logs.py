"""Structured logs: one JSON object a line, no personal text."""

from __future__ import annotations

import contextlib
import logging
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any, TextIO

import orjson

_STANDARD = set(vars(logging.makeLogRecord({})))


class JsonFormatter(logging.Formatter):
    """Formats a record as one JSON line with its ``extra`` fields.

    >>> rec = logging.makeLogRecord({"msg": "windows closed", "levelname": "INFO",
    ...                              "name": "riskstream", "created": 0, "count": 3})
    >>> JsonFormatter().format(rec)
    '{"ts":0,"level":"INFO","logger":"riskstream","msg":"windows closed","count":3}'
    """

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": round(record.created, 3), "level": record.levelname, "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in out:
                out[key] = value
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return orjson.dumps(out, default=str).decode()


REPEAT_S = 30.0  # a warning or error said again within this long is held back


class RepeatFilter(logging.Filter):
    """Lets a warning or error through once every ``every_s`` seconds: while a broker is
    down, each Kafka client logs the same few lines on every retry (thousands a minute).
    The next one let through carries ``repeated``, how many like it were held back;
    lines below WARNING, and lines that differ in any field or in their exception's
    type or text, all pass.

    >>> clock = iter([0.0, 1.0, 2.0, 31.0]).__next__
    >>> f = RepeatFilter(every_s=30, clock=clock)
    >>> recs = [logging.makeLogRecord({"msg": "node down", "levelno": 40}) for _ in range(4)]
    >>> [f.filter(r) for r in recs], recs[3].repeated
    ([True, False, False, True], 2)
    """

    def __init__(self, every_s: float = REPEAT_S, clock: Callable[[], float] = time.monotonic,
                 max_kept: int = 10_000) -> None:
        super().__init__()
        self.every_s, self.clock, self.max_kept = every_s, clock, max_kept
        self._seen: dict[tuple[Any, ...], list[float]] = {}  # line -> [shown at, held back]

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return True
        extra = sorted((k, repr(v)) for k, v in vars(record).items() if k not in _STANDARD)
        exc = record.exc_info[1] if record.exc_info else None  # same message, other error
        key = (record.name, record.levelno, record.getMessage(), repr(exc), *extra)
        now = self.clock()
        seen = self._seen.get(key)
        if seen is not None and now - seen[0] < self.every_s:
            seen[1] += 1
            return False
        if seen is not None and seen[1]:
            record.repeated = int(seen[1])
        if seen is None and len(self._seen) >= self.max_kept:
            self._seen = {k: v for k, v in self._seen.items() if now - v[0] < self.every_s}
            if len(self._seen) >= self.max_kept:  # all recent and all different: start over
                self._seen.clear()
        self._seen[key] = [now, 0]
        return True

    def held_back(self) -> list[tuple[str, str, str, int]]:
        """``(logger, level, message, count)`` of each line held back since it was last
        shown, for a summary when logging ends.

        >>> f = RepeatFilter(every_s=30, clock=iter([0.0, 1.0, 2.0]).__next__)
        >>> [f.filter(logging.makeLogRecord({"msg": "node down", "levelno": 40,
        ...                                  "name": "aiokafka"})) for _ in range(3)]
        [True, False, False]
        >>> f.held_back()
        [('aiokafka', 'ERROR', 'node down', 2)]
        """
        return [(key[0], logging.getLevelName(key[1]), key[2], int(seen[1]))
                for key, seen in self._seen.items() if seen[1]]


@contextlib.contextmanager
def filtered(logger: logging.Logger,
             line_filter: logging.Filter | Callable[[logging.LogRecord], bool]
             ) -> Iterator[None]:
    """While inside, ``logger`` passes on only the lines ``line_filter`` lets through."""
    logger.addFilter(line_filter)
    try:
        yield
    finally:
        logger.removeFilter(line_filter)


def without_lines(logger: logging.Logger, prefix: str
                  ) -> contextlib.AbstractContextManager[None]:
    """While inside, ``logger`` drops the lines that start with ``prefix``: for a command
    that says in its own words what the line says (a broker that does not answer).

    >>> seen = []
    >>> class Keep(logging.Handler):
    ...     def emit(self, record): seen.append(record.getMessage())
    >>> lg = logging.getLogger("doctest.without"); lg.propagate = False; lg.addHandler(Keep())
    >>> with without_lines(lg, "Unable connect"):
    ...     lg.error("Unable connect to %s", "127.0.0.1:9"); lg.error("Metadata expired")
    >>> lg.error("Unable connect to %s", "127.0.0.1:9")  # outside: as before
    >>> seen
    ['Metadata expired', 'Unable connect to 127.0.0.1:9']
    """
    return filtered(logger, lambda record: not record.getMessage().startswith(prefix))


def logging_config(level: str) -> dict[str, Any]:
    """A ``logging.config.dictConfig`` that writes JSON lines to stderr, a warning or
    error said again within :data:`REPEAT_S` held back (:class:`RepeatFilter`)."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonFormatter}},
        "filters": {"repeats": {"()": RepeatFilter}},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "json",
                                "stream": "ext://sys.stderr", "filters": ["repeats"]}},
        "root": {"level": level.upper(), "handlers": ["stderr"]},
    }


class PlainFormatter(logging.Formatter):
    """``LEVEL logger: message``, and how many like it :class:`RepeatFilter` held back.

    >>> rec = logging.makeLogRecord({"msg": "node down", "levelname": "WARNING",
    ...                              "name": "aiokafka", "repeated": 41})
    >>> PlainFormatter().format(rec)
    'WARNING aiokafka: node down (41 more like it held back)'
    """

    def __init__(self) -> None:
        super().__init__("%(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        held = getattr(record, "repeated", 0)
        return f"{line} ({held} more like it held back)" if held else line


class _ToStderr(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to ``sys.stderr`` as it is at each line: a live display (the demo's) puts
    its own in place while it runs, and prints what comes above its table."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


@contextlib.contextmanager
def plain_warnings(stream: TextIO | None = None) -> Iterator[None]:
    r"""While inside, warnings and errors go to ``stream`` (``sys.stderr`` as it is at
    each line, if not given) as plain lines, each distinct one at most once per
    :data:`REPEAT_S`: for the command-line tools that have no logging set up, whose Kafka
    client would otherwise print every retry while its broker is down (hundreds of lines
    a minute). The handler goes when the block ends, saying how many of each line it held
    back since that line was last shown.

    >>> import io
    >>> out = io.StringIO()
    >>> with plain_warnings(out):
    ...     for _ in range(3):
    ...         logging.getLogger("doctest.plain").warning("Unable connect")
    >>> print(out.getvalue(), end="")
    WARNING doctest.plain: Unable connect
    WARNING doctest.plain: Unable connect (2 more like it held back)
    """
    handler = _ToStderr() if stream is None else logging.StreamHandler(stream)
    handler.setLevel(logging.WARNING)
    handler.setFormatter(PlainFormatter())
    repeats = RepeatFilter()
    handler.addFilter(repeats)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield
    finally:
        root.removeHandler(handler)
        for name, level, message, held in repeats.held_back():
            line = handler.format(logging.makeLogRecord(
                {"name": name, "levelname": level, "msg": message, "repeated": held}))
            (stream or sys.stderr).write(line + "\n")
