"""Log lines: human-readable text (the default) or one JSON object per line
(HOIST_LOG_FORMAT=json), each with what it happened in, and never a secret.

What a line happened in comes from a *scope*: the request-id middleware (app/request_ids.py)
opens one per HTTP request and the outbox opens one per job run; the GraphQL layer adds the
operation's name and the caller's user id to the request's as it learns them. The trace and
span ids are the current OpenTelemetry span's, when tracing is on (app/observability/tracing.py).
A scope is a dict in a context variable, set and reset around the request, so nothing of one
request is seen by the next, even when both run in one task (a test's ASGI transport).

Every record goes through app/observability/redaction.py before it is written.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

from app.observability import redaction, tracing
from app.settings import Settings

# Keys of every JSON line besides timestamp, level, logger and message; null when unknown
# (a line outside any request has no request id), so every line has the same shape.
CONTEXT_FIELDS = ("request_id", "trace_id", "span_id", "operation", "user_id")
# A job run's own (the worker's lines): which job, of which kind.
JOB_FIELDS = ("job", "job_id")

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

# Set on a record (`extra={WHOLE_EMAIL: True}`) by the console email backend only, whose
# purpose is to show a whole email, links and all, to someone trying Hoist out: in the text
# format it is written unredacted. The JSON format, which is for collectors, ignores it
# (and that backend logs no body in it).
WHOLE_EMAIL = "hoist_whole_email"

_scope: ContextVar[dict[str, Any] | None] = ContextVar("hoist_log_scope", default=None)


@contextmanager
def scope(**fields: Any) -> Iterator[dict[str, Any]]:
    """While open, every line logged in this context (and tasks started from it) carries
    `fields`, and what `bind` adds."""
    fields_here = dict(fields)
    token = _scope.set(fields_here)
    try:
        yield fields_here
    finally:
        _scope.reset(token)


def bind(**fields: Any) -> None:
    """Add fields to the current scope (the caller once authenticated); none is open: nothing."""
    current = _scope.get()
    if current is not None:
        current.update(fields)


class ContextFields(logging.Filter):
    """Puts the scope's fields and the current span's ids on every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        fields = _scope.get() or {}
        for name in CONTEXT_FIELDS:
            setattr(record, name, fields.get(name))
        for name in JOB_FIELDS:
            if name in fields:
                setattr(record, name, fields[name])
        record.trace_id, record.span_id = tracing.current_ids()
        return True


def _written(record: logging.LogRecord, format_record: Any, honour_whole_email: bool) -> str:
    if honour_whole_email and getattr(record, WHOLE_EMAIL, False):
        return str(format_record(record))
    redaction.scrub_record(record)
    # Again on the whole line: a traceback's text is added by the formatter.
    return redaction.scrub(str(format_record(record)))


class TextLines(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return _written(record, super().format, honour_whole_email=True)


class JsonLines(JsonFormatter):
    """One JSON object per line: timestamp, level, logger, message, the context fields,
    any `extra=` fields, and the traceback as `exc_info`."""

    def __init__(self) -> None:
        super().__init__(
            ["levelname", "name", "message"],
            rename_fields={"levelname": "level", "name": "logger"},
            timestamp=True,
            # uvicorn's copy of its message with terminal colours: the message says it.
            reserved_attrs=[*RESERVED_ATTRS, "color_message", WHOLE_EMAIL],
        )

    def format(self, record: logging.LogRecord) -> str:
        return _written(record, super().format, honour_whole_email=False)


class _HoistHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Hoist's own handler on the root logger, replaced when logging is configured again."""


_json = False  # what configure() chose, for line()


def line(message: str, name: str = "hoist") -> str:
    """A line a command prints for the operator (`hoist serve`'s address, its database): as
    is in the text format, a JSON object like the log records' in the json format, so that
    every line of the output is one. Printed whatever the log level."""
    if not _json:
        return message
    record = logging.LogRecord(name, logging.INFO, __file__, 0, message, None, None)
    ContextFields().filter(record)
    return JsonLines().format(record)


def configure(settings: Settings, *unpropagated: str) -> None:
    """Log to stderr in HOIST_LOG_FORMAT at HOIST_LOG_LEVEL, every library through the root
    logger (uvicorn's and Celery's included: their callers leave logging to this), and the
    `unpropagated` loggers, which don't pass their records up to it, directly."""
    global _json
    _json = settings.log_format == "json"
    handler = _HoistHandler(sys.stderr)
    handler.setFormatter(JsonLines() if _json else TextLines(TEXT_FORMAT))
    handler.addFilter(ContextFields())
    root = logging.getLogger()
    for logger in (root, *(logging.getLogger(name) for name in unpropagated)):
        for old in [h for h in logger.handlers if isinstance(h, _HoistHandler)]:
            logger.removeHandler(old)
        logger.addHandler(handler)
    root.setLevel(settings.log_level.upper())
    # Warnings (Celery's about running as root, a library's deprecation) are records too,
    # rather than lines of their own format on stderr.
    logging.captureWarnings(True)
