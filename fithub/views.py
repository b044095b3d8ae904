"""Django-level error pages in the API's error shape, for paths DRF does not handle."""

from django.http import JsonResponse


def _error(status: int, code: str, detail: str) -> JsonResponse:
    return JsonResponse(
        {
            "type": "client_error" if status < 500 else "server_error",
            "errors": [{"code": code, "detail": detail, "attr": None}],
        },
        status=status,
    )


def not_found(request, exception=None):
    return _error(404, "not_found", "Not found.")


def server_error(request):
    return _error(500, "error", "Server Error (500)")


def bad_request(request, exception=None):
    return _error(400, "bad_request", "Bad request.")


def permission_denied(request, exception=None):
    return _error(403, "permission_denied", "You do not have permission to perform this action.")
