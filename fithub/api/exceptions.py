"""API errors of our own; all render through drf-standardized-errors in one shape."""

from rest_framework import status
from rest_framework.exceptions import APIException


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state of the resource."
    default_code = "conflict"


class Gone(APIException):
    status_code = status.HTTP_410_GONE
    default_detail = "What this request created has since been deleted."
    default_code = "gone"


class SyncCursorExpired(APIException):
    """A sync cursor the feed cannot continue from: sync again from scratch (no `since`)."""

    status_code = status.HTTP_410_GONE
    default_detail = (
        "This cursor is older than the deletions the feed keeps (or is not from this server's history): "
        "sync again from scratch, without `since`."
    )
    default_code = "sync_cursor_expired"


class RequestTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "request_too_large"


class DatabaseUnavailable(APIException):
    """The primary database cannot be reached; the client should retry after Retry-After."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "The service is temporarily unavailable; retry shortly."
    default_code = "service_unavailable"

    def __init__(self, wait: int):
        super().__init__()
        self.wait = wait
