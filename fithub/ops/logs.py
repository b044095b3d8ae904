"""Structured logs: one JSON object per line, with the request id of the request being served.

Used by `LOGGING` in settings (LOG_FORMAT=json, the default outside DEBUG) and by
gunicorn's JSON access log (fithub/ops/gunicorn_conf.py).
"""

from __future__ import annotations

import logging

from pythonjsonlogger.json import JsonFormatter as _JsonFormatter

from fithub.ops.request_id import get_request_id


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to every record (None outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = get_request_id()
        return True


class JsonFormatter(_JsonFormatter):
    """`timestamp`, `level`, `logger`, `message`, `request_id` and any `extra` fields."""

    def __init__(self, fmt: str | None = None, *args, **kwargs):
        kwargs.setdefault("timestamp", True)
        kwargs.setdefault("rename_fields", {"levelname": "level", "name": "logger"})
        super().__init__(fmt or "%(levelname)s %(name)s %(message)s %(request_id)s", *args, **kwargs)
