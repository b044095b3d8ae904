"""The one exception handler: every error answers in drf-standardized-errors' shape."""

import drf_standardized_errors.handler
from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError, OperationalError
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
            # non_field_errors, and so does the schema.
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
