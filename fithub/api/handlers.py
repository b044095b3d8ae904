"""The one exception handler: every error answers in drf-standardized-errors' shape."""

import drf_standardized_errors.formatter
import drf_standardized_errors.handler
from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError, OperationalError
from drf_standardized_errors.settings import package_settings
from drf_standardized_errors.types import Error
from rest_framework.exceptions import AuthenticationFailed, ValidationError
from rest_framework.serializers import as_serializer_error
from rest_framework.settings import api_settings

from fithub.api.exceptions import DatabaseUnavailable, RequestTooLarge


class ExceptionHandler(drf_standardized_errors.handler.ExceptionHandler):
    """Django's ValidationError (raised by services and full_clean) becomes a 400, a body
    over DATA_UPLOAD_MAX_MEMORY_SIZE (Django refuses to read it) a 413, and a database that
    cannot be reached (connection refused or lost) a 503 with Retry-After."""

    def convert_known_exceptions(self, exc: Exception) -> Exception:
        if isinstance(exc, DjangoValidationError):
            detail = as_serializer_error(exc)
            # Model-level errors (full_clean, constraints) come keyed "__all__"; DRF calls them
            # non_field_errors (both answer attr null: ExceptionFormatter).
            if NON_FIELD_ERRORS in detail:
                detail[api_settings.NON_FIELD_ERRORS_KEY] = detail.pop(NON_FIELD_ERRORS)
            return ValidationError(detail=detail)
        if isinstance(exc, RequestDataTooBig):
            return RequestTooLarge(f"The request body is larger than {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes.")
        if isinstance(exc, AuthenticationFailed) and isinstance(exc.detail, dict) and "code" in exc.detail:
            # simplejwt puts {"detail", "code", "messages"} in one error; make it one error.
            flat = AuthenticationFailed(detail=str(exc.detail.get("detail", "")), code=str(exc.detail["code"]))
            flat.auth_header = getattr(exc, "auth_header", None)
            return flat
        if isinstance(exc, OperationalError | InterfaceError):
            return DatabaseUnavailable(wait=settings.DATABASE_UNAVAILABLE_RETRY_AFTER)
        return super().convert_known_exceptions(exc)


def body_attr(attr: str | None) -> str | None:
    """The path in the request body of what an error is about: `non_field_errors` (DRF's key
    for an error about a whole object) names no field, so it is dropped: the body's own
    errors have attr null, a list item's `portions.0`, a list's `portions`."""
    if attr is None:
        return None
    parts = attr.split(package_settings.NESTED_FIELD_SEPARATOR)
    while parts and parts[-1] in (api_settings.NON_FIELD_ERRORS_KEY, NON_FIELD_ERRORS):
        parts = parts[:-1]
    return package_settings.NESTED_FIELD_SEPARATOR.join(parts) or None


class ExceptionFormatter(drf_standardized_errors.formatter.ExceptionFormatter):
    """drf-standardized-errors' flat errors, with `attr` the body path (see body_attr)."""

    def get_errors(self) -> list[Error]:
        return [Error(error.code, error.detail, body_attr(error.attr)) for error in super().get_errors()]
