"""OpenAPI generation: drf-spectacular plus drf-standardized-errors' error responses.

The error codes that only some operations can produce are added where they can happen:
413 where there is a request body, 409 where a client may choose the id of a new row, 410
and 422 where Idempotency-Key is honoured (a replay of rows since deleted, a key reused),
414 everywhere (nginx's answer to a request line over its 8k buffer) and 503 (with
Retry-After) everywhere: any operation can meet an unreachable primary.
"""

import re

from django.db import models
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from drf_spectacular.plumbing import build_media_type_object, force_instance
from drf_spectacular.utils import OpenApiParameter
from drf_standardized_errors.openapi import AutoSchema as StandardizedErrorsAutoSchema
from drf_standardized_errors.openapi_serializers import ClientErrorEnum, ServerErrorEnum
from drf_standardized_errors.openapi_utils import get_flat_serializer_fields, get_serializer_fields_with_error_codes
from rest_framework import serializers
from rest_framework.settings import api_settings as drf_settings

from fithub.api.handlers import body_attr


class ErrorCode401Enum(models.TextChoices):
    """DRF's codes plus simplejwt's (token_not_valid, no_active_account, user_not_found, ...)
    and session_ended: the token's session was ended (log in again)."""

    AUTHENTICATION_FAILED = "authentication_failed"
    NOT_AUTHENTICATED = "not_authenticated"
    BAD_AUTHORIZATION_HEADER = "bad_authorization_header"
    TOKEN_NOT_VALID = "token_not_valid"  # noqa: S105 - an error code
    NO_ACTIVE_ACCOUNT = "no_active_account"
    USER_NOT_FOUND = "user_not_found"
    USER_INACTIVE = "user_inactive"
    SESSION_ENDED = "session_ended"


class ErrorCode409Enum(models.TextChoices):
    CONFLICT = "conflict"


class ErrorCode410Enum(models.TextChoices):
    GONE = "gone"


class ErrorCode413Enum(models.TextChoices):
    REQUEST_TOO_LARGE = "request_too_large"


class ErrorCode414Enum(models.TextChoices):
    URI_TOO_LONG = "uri_too_long"


class ErrorCode422Enum(models.TextChoices):
    IDEMPOTENCY_KEY_REUSED = "idempotency_key_reused"


class ErrorCode503Enum(models.TextChoices):
    SERVICE_UNAVAILABLE = "service_unavailable"


def _error_response(status: str, codes: type[models.TextChoices], kind=ClientErrorEnum) -> type:
    """The serializer of an error response (drf-standardized-errors' shape) with these codes."""
    error = type(
        f"Error{status}Serializer",
        (serializers.Serializer,),
        {
            "__module__": __name__,
            "code": serializers.ChoiceField(choices=codes.choices),
            "detail": serializers.CharField(),
            "attr": serializers.CharField(allow_null=True),
        },
    )
    return type(
        f"ErrorResponse{status}Serializer",
        (serializers.Serializer,),
        {"__module__": __name__, "type": serializers.ChoiceField(choices=kind.choices), "errors": error(many=True)},
    )


def _body_attr(name: str) -> str:
    """The attr the server answers for an error drf-standardized-errors documents on `name`:
    a nested `NAME.non_field_errors` is answered on `NAME` (fithub.api.handlers.body_attr).
    The body's own `non_field_errors` keeps its name here and is documented as null by
    fithub.api.schema_hooks.list_index_attrs."""
    return body_attr(name) if name != drf_settings.NON_FIELD_ERRORS_KEY else name


IDEMPOTENCY_KEY_PARAMETER = OpenApiParameter(
    name="Idempotency-Key",
    location=OpenApiParameter.HEADER,
    required=False,
    # What fithub.api.idempotency accepts: 1 to 255 printable ASCII characters.
    type={"type": "string", "minLength": 1, "maxLength": 255, "pattern": r"^[\x20-\x7E]+$"},
    description="A unique key per create (a UUID; 1 to 255 printable ASCII characters, else 400). "
    "A retry with the same key replays the first response "
    "(header Idempotent-Replayed: true) and creates nothing; the same key with a different request answers "
    "422, and a retry after a row of the first response was deleted answers 410. Keys are per user and "
    "expire after 24 hours.",
)


_EXTRA_ERRORS = {
    "401": _error_response("401", ErrorCode401Enum),
    "409": _error_response("409", ErrorCode409Enum),
    "410": _error_response("410", ErrorCode410Enum),
    "413": _error_response("413", ErrorCode413Enum),
    "414": _error_response("414", ErrorCode414Enum),
    "422": _error_response("422", ErrorCode422Enum),
    "503": _error_response("503", ErrorCode503Enum, kind=ServerErrorEnum),
}


class AutoSchema(StandardizedErrorsAutoSchema):
    def _should_add_error_response(self, responses: dict, status_code: str) -> bool:
        if status_code == "413":
            return self.method in {"POST", "PUT", "PATCH"} and "413" not in responses
        if status_code == "409":
            return (
                self.method == "POST"
                and getattr(self.view, "action", None) == "create"
                and getattr(self.view, "client_chosen_ids", False)
                and "409" not in responses
            )
        if status_code in ("410", "422"):
            return self._is_idempotent() and status_code not in responses
        if status_code in ("414", "503"):
            return status_code not in responses
        return super()._should_add_error_response(responses, status_code)

    def _has_delete_body(self) -> bool:
        """A DELETE reads a body when its view declares one (`@extend_schema(request=...)`):
        the request serializer is not the view's own, which a plain destroy never reads."""
        if self.method != "DELETE":
            return False
        declared = self.get_request_serializer()
        if declared is None:
            return False
        default = self._get_serializer()
        return default is None or type(force_instance(declared)) is not type(force_instance(default))

    def _get_request_body(self, direction="request"):
        # drf-spectacular documents bodies of PUT, PATCH and POST only; a DELETE that reads
        # one (the password, to delete an account) documents it too, or a generated client
        # has no way to send it.
        if not self._has_delete_body():
            return super()._get_request_body(direction)
        serializer = self.get_request_serializer()
        schema, required = self._get_request_for_media_type(serializer, direction)
        if schema is None:
            return None
        content = {
            media_type: build_media_type_object(
                schema, self._get_examples(serializer, direction, media_type, None, None)
            )
            for media_type in self.map_parsers()
        }
        return {"content": content, "required": True} if required else {"content": content}

    def _insert_field_validators(self, field, schema):
        super()._insert_field_validators(field, schema)
        # A field that allows blank takes (and shows) "" without running its validators: a
        # validator's pattern (a slug's) must admit it too.
        pattern = schema.get("pattern")
        if pattern and getattr(field, "allow_blank", False) and not re.search(pattern, ""):
            schema["pattern"] = f"^$|{pattern}"

    def _map_basic_serializer(self, serializer, direction):
        # The server sends every readable field of a serializer, always (null when there is
        # no value): in a response component every property is required, so that generated
        # clients type them `X` (or `X | None`), not `X | Unset`. Request components keep
        # DRF's `required`, which is what a client must send.
        schema = super()._map_basic_serializer(serializer, direction)
        if direction == "response" and schema.get("properties"):
            schema["required"] = sorted(schema["properties"])
        return schema

    def _determine_fields_with_error_codes(self):
        if self._has_delete_body():
            fields = get_flat_serializer_fields(self.get_request_serializer())
            fields = get_serializer_fields_with_error_codes(fields)
        else:
            fields = super()._determine_fields_with_error_codes()
        return fields

    def _get_validation_error_codes_by_field(self, data_fields):
        renamed: dict[str, set[str]] = {}
        for name, codes in super()._get_validation_error_codes_by_field(data_fields).items():
            renamed.setdefault(_body_attr(name), set()).update(codes)
        return renamed

    def _page_parameters(self) -> list[str]:
        """The page parameters of a paginated list: a bad value of one is a 400 naming it."""
        paginator = self._get_paginator() if self._is_list_view() else None
        if paginator is None:
            return []
        names = [getattr(paginator, "page_size_query_param", None)]
        names.append(getattr(paginator, "cursor_query_param", None) or getattr(paginator, "page_query_param", None))
        return [name for name in names if name]

    def _should_add_validation_error_response(self) -> bool:
        # A DELETE that takes a body (the password, to delete an account) validates it too.
        return (
            self._has_delete_body() or bool(self._page_parameters()) or super()._should_add_validation_error_response()
        )

    def _get_extra_validation_errors(self):
        extra = super()._get_extra_validation_errors()
        for name in self._page_parameters():
            extra.setdefault(name, set()).add("invalid")
        filterset_class = getattr(self.view, "filterset_class", None) if self._is_list_view() else None
        for name in getattr(filterset_class, "base_filters", {}):
            extra.setdefault(name, set()).add("required")  # named with no value (fithub.api.filters)
        if self._is_idempotent():
            extra.setdefault("Idempotency-Key", set()).add("invalid")
        if self.method in {"POST", "PUT", "PATCH"} or self._has_delete_body():
            # Services validate whole rows (full_clean: model checks, unique constraints).
            extra.setdefault("non_field_errors", set()).update({"invalid", "unique"})
        return extra

    def _should_add_http403_error_response(self) -> bool:
        # Views with rows the caller may read but not change (built-in types, public foods)
        # answer 403 to a write on one of them, whatever their permission classes.
        if getattr(self.view, "has_read_only_rows", False) and self.method in {"PUT", "PATCH", "DELETE"}:
            return True
        return super()._should_add_http403_error_response()

    def _should_add_http401_error_response(self) -> bool:
        # Views that check credentials themselves (login, refresh) answer 401 without auth classes.
        return getattr(self.view, "checks_credentials", False) or super()._should_add_http401_error_response()

    def _is_idempotent(self) -> bool:
        handler = getattr(self.view, getattr(self.view, "action", None) or self.method.lower(), None)
        return getattr(handler, "idempotent", False)

    def get_override_parameters(self):
        parameters = super().get_override_parameters()
        if self._is_idempotent():
            parameters = [*parameters, IDEMPOTENCY_KEY_PARAMETER]
        return parameters

    def _get_error_response_serializer(self, status_code: str):
        return _EXTRA_ERRORS.get(status_code) or super()._get_error_response_serializer(status_code)


class FitHubJWTScheme(SimpleJWTScheme):
    """Our JWT authentication is simplejwt's with replica rules: the same Bearer scheme."""

    target_class = "fithub.api.authentication.JWTAuthentication"
