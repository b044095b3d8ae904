"""One id per request, for following a request through nginx, gunicorn and Django logs.

nginx sets `X-Request-ID` (its `$request_id`); without a usable one, a new id is made. The id
is echoed in the response's `X-Request-ID` header (gunicorn's access log records it from
there) and attached to every log record written while the request runs
(`fithub.ops.logs.RequestIdFilter`).
"""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar

from django.core.signals import request_finished, request_started
from django.dispatch import receiver

HEADER = "X-Request-ID"
_META_KEY = "HTTP_X_REQUEST_ID"
# Accept what proxies and clients commonly send (hex, UUIDs, ULIDs), never arbitrary text:
# the id is written into logs and headers.
_VALID = re.compile(r"^[A-Za-z0-9._\-]{8,128}$")

_request_id: ContextVar[str | None] = ContextVar("fithub_request_id", default=None)


def get_request_id() -> str | None:
    """The id of the request being served by this thread, or None outside a request."""
    return _request_id.get()


def request_id_from(meta: dict) -> str:
    candidate = meta.get(_META_KEY, "")
    if isinstance(candidate, str) and _VALID.match(candidate):
        return candidate
    return uuid.uuid4().hex


# Set when the request starts and cleared when it is finished, not in the middleware: Django
# logs 4xx and 5xx responses (django.request) after the middleware chain has returned.
@receiver(request_started, dispatch_uid="fithub.ops.request_id.start")
def _start(sender, environ=None, **kwargs) -> None:
    _request_id.set(request_id_from(environ or {}))


@receiver(request_finished, dispatch_uid="fithub.ops.request_id.finish")
def _finish(sender, **kwargs) -> None:
    _request_id.set(None)


class RequestIdMiddleware:
    """Puts the request id on the request (`request.request_id`) and in the response header."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = get_request_id()
        if request_id is None:  # a handler that sends no request_started signal
            request_id = request_id_from(request.META)
            _request_id.set(request_id)
        request.request_id = request_id
        response = self.get_response(request)
        response[HEADER] = request_id
        return response
