"""No error page under /api/ is HTML, whatever DEBUG says.

DRF renders its own errors in the error shape, and fithub/views.py does for Django's
handlers when DEBUG is off; but with DEBUG on Django answers a missing URL, an exception or
a disallowed host with its technical HTML pages (which show settings to whoever asks), and
other layers (CSRF, the common middleware) answer in HTML too. This middleware, outermost
but for the request id and metrics, turns any error response under /api/ that is not JSON
into the error shape, keeping its status and headers.
"""

from http import HTTPStatus

from django.http import JsonResponse
from django.urls import Resolver404, resolve

from fithub.api.throttling import quotas, tightest
from fithub.views import error_code

KEPT_HEADERS = ("Allow", "Retry-After", "WWW-Authenticate", "X-Request-ID", "Vary")


class JsonErrorsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code < 400 or not request.path.startswith("/api/"):
            return response
        if response.get("Content-Type", "").startswith("application/json"):
            return response
        return _json_error(response)


def _json_error(response):
    status = response.status_code
    try:
        detail = HTTPStatus(status).phrase + "."
    except ValueError:
        detail = "Error."
    replacement = JsonResponse(
        {
            "type": "client_error" if status < 500 else "server_error",
            "errors": [{"code": error_code(status), "detail": detail, "attr": None}],
        },
        status=status,
    )
    for name in KEPT_HEADERS:
        if response.has_header(name):
            replacement[name] = response[name]
    # CORS headers too (django-cors-headers runs inside this middleware): without them a
    # browser hides the error from the web app that asked.
    for name, value in response.items():
        if name.lower().startswith("access-control-"):
            replacement[name] = value
    return replacement


class RateLimitHeadersMiddleware:
    """RateLimit-Policy and RateLimit on every response a throttle counted, for the tightest
    limit in play: the throttle with the fewest requests left (fithub.api.throttling notes
    what each counted, so this costs no cache round trip). The syntax is that of
    draft-ietf-httpapi-ratelimit-headers-09 (structured fields; the same since -08):

        RateLimit-Policy: "user";q=1200;w=60    quota q requests per window of w seconds
        RateLimit: "user";r=1187;t=42           r requests left, the window resets in t s

    The policy is the throttle's scope (anon, user, ip, login_ip, login_account, register).
    While the shared cache is down, q is this process's share of the rate (the limit it
    enforces). A 429 carries them too (r=0) beside its Retry-After."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        quota = tightest(quotas(request))
        if quota is not None:
            name = _sf_string(quota.policy)
            response["RateLimit-Policy"] = f"{name};q={quota.limit};w={quota.window}"
            response["RateLimit"] = f"{name};r={quota.remaining};t={quota.reset}"
        return response


def _sf_string(value: str) -> str:
    """A structured-field String (RFC 8941 section 3.3.3): printable ASCII in quotes."""
    if not value.isascii() or not value.isprintable():
        raise ValueError(f"not a structured-field string: {value!r}")
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


class TrailingSlashMiddleware:
    """An API path without its trailing slash is served as the path with it: no redirect (a
    redirected POST loses its body, and under DEBUG Django refuses it with an error page)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path_info
        if path.startswith("/api/") and not path.endswith("/") and not _resolves(path) and _resolves(path + "/"):
            request.path_info = path + "/"
            request.path = request.path + "/"
        return self.get_response(request)


def _resolves(path: str) -> bool:
    try:
        resolve(path)
    except Resolver404:
        return False
    return True
