"""Structured logs: one JSON object a line, no personal text."""

from __future__ import annotations

import logging
from typing import Any

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


def logging_config(level: str) -> dict[str, Any]:
    """A ``logging.config.dictConfig`` that writes JSON lines to stderr."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonFormatter}},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "json",
                                "stream": "ext://sys.stderr"}},
        "root": {"level": level.upper(), "handlers": ["stderr"]},
    }
