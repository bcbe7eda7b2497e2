"""Log setup: `LOG_FORMAT=text` (default) or `json`, one object per line, with bound context fields.

What is being handled (delivery id, run id, repository, PR) is bound in a contextvar, so every line
logged while handling it carries the ids, including lines from libraries, without passing them down.
JSON rendering stands on python-json-logger.
"""

from __future__ import annotations

import datetime as dt
import logging
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from types import MappingProxyType
from typing import Literal

from pythonjsonlogger.json import JsonFormatter

LogFormat = Literal["text", "json"]
FIELDS = ("delivery_id", "run_id", "repository", "pr")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

_NOTHING: Mapping[str, str | int] = MappingProxyType({})
_bound: ContextVar[Mapping[str, str | int]] = ContextVar("mini_review_log_context", default=_NOTHING)


def _known(fields: Mapping[str, str | int | None]) -> dict[str, str | int]:
    unknown = set(fields) - set(FIELDS)
    if unknown:
        raise ValueError(f"unknown log context fields: {sorted(unknown)}")
    return {k: v for k, v in fields.items() if v is not None}


@contextmanager
def log_context(**fields: str | int | None) -> Iterator[None]:
    """Bind fields to every line logged inside the block (in this task and tasks it starts)."""
    token = _bound.set({**_bound.get(), **_known(fields)})
    try:
        yield
    finally:
        _bound.reset(token)


def bind_log_context(**fields: str | int | None) -> None:
    """Bind fields for the rest of the current context (a request's or a job's own task)."""
    _bound.set({**_bound.get(), **_known(fields)})


def current_log_context() -> Mapping[str, str | int]:
    return _bound.get()


class ContextFilter(logging.Filter):
    """Copy the bound fields onto each record (handler-level, so library loggers get them too)."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in _bound.get().items():
            if not hasattr(record, key):
                setattr(record, key, value)
        return True


class _UtcJsonFormatter(JsonFormatter):
    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: ARG002
        # ISO 8601 in UTC with milliseconds: sortable, and what log pipelines parse without help.
        moment = dt.datetime.fromtimestamp(record.created, tz=dt.UTC)
        return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def json_formatter() -> logging.Formatter:
    return _UtcJsonFormatter(
        "%(asctime)s %(levelname)s %(name)s %(message)s",
        rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
    )


def configure_logging(level: str, fmt: LogFormat = "text") -> None:
    """Send every logger's records to stderr in the chosen format, replacing earlier handlers."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(ContextFilter())
    handler.setFormatter(json_formatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
