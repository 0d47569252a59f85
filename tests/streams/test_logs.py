"""What the log filters let through."""

from __future__ import annotations

import io
import logging
import sys

from streams.logs import PlainFormatter, RepeatFilter, plain_warnings


def _failed(message: str, error: Exception) -> logging.LogRecord:
    try:
        raise error
    except type(error):
        return logging.makeLogRecord({"msg": message, "levelno": logging.ERROR,
                                      "levelname": "ERROR", "exc_info": sys.exc_info()})


def test_the_same_message_with_another_error_is_shown_and_the_same_error_held_back() -> None:
    now = iter([0.0, 1.0, 2.0, 3.0]).__next__
    f = RepeatFilter(every_s=30, clock=now)
    shown = [f.filter(_failed("commit failed", err)) for err in (
        TimeoutError("node 1"), ValueError("bad offset"), TimeoutError("node 1"),
        TimeoutError("node 2"))]
    assert shown == [True, True, False, True]


def test_plain_warnings_shows_each_line_once_counts_the_rest_and_leaves_no_handler() -> None:
    root = logging.getLogger()
    before = list(root.handlers)
    out = io.StringIO()
    log = logging.getLogger("test.plain")
    with plain_warnings(out):
        log.info("not shown: below WARNING")
        for _ in range(4):
            log.error("Unable connect to node 1")
        log.warning("another line")
    assert root.handlers == before
    log.error("after the block")  # no longer to ``out``
    # when the block ends, how many of each line were held back since it was shown
    assert out.getvalue().splitlines() == [
        "ERROR test.plain: Unable connect to node 1", "WARNING test.plain: another line",
        "ERROR test.plain: Unable connect to node 1 (3 more like it held back)"]


def test_plain_formatter_says_how_many_were_held_back() -> None:
    clock = iter([0.0, 5.0, 31.0]).__next__
    f, fmt = RepeatFilter(every_s=30, clock=clock), PlainFormatter()
    recs = [logging.makeLogRecord({"msg": "node down", "levelno": 30, "levelname": "WARNING",
                                   "name": "aiokafka"}) for _ in range(3)]
    lines = [fmt.format(r) for r in recs if f.filter(r)]
    assert lines == ["WARNING aiokafka: node down",
                     "WARNING aiokafka: node down (1 more like it held back)"]
