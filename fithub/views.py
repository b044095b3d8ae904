"""Views outside the API: Django-level errors in the API's error shape, and the metrics scrape."""

from django.http import HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from fithub.db.replicas import ReplicaLagCollector
from fithub.ops.metrics import registry


def _error(status: int, code: str, detail: str) -> JsonResponse:
    return JsonResponse(
        {
            "type": "client_error" if status < 500 else "server_error",
            "errors": [{"code": code, "detail": detail, "attr": None}],
        },
        status=status,
    )


_CODES = {400: "bad_request", 403: "permission_denied", 404: "not_found", 405: "method_not_allowed",
          413: "request_too_large", 414: "uri_too_long", 500: "error"}  # fmt: skip


def error_code(status: int) -> str:
    """The error code of a status answered outside DRF."""
    return _CODES.get(status, "server_error" if status >= 500 else "client_error")


def not_found(request, exception=None):
    return _error(404, "not_found", "Not found.")


def server_error(request):
    return _error(500, "error", "Server Error (500)")


def bad_request(request, exception=None):
    return _error(400, "bad_request", "Bad request.")


def permission_denied(request, exception=None):
    return _error(403, "permission_denied", "You do not have permission to perform this action.")


@never_cache
def metrics(request) -> HttpResponse:
    """Prometheus text format for the whole instance: every worker's counters, plus the
    replica gauges measured now."""
    live = CollectorRegistry(auto_describe=False)
    live.register(ReplicaLagCollector())
    body = generate_latest(registry()) + generate_latest(live)
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)
