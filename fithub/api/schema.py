"""OpenAPI generation: drf-spectacular plus drf-standardized-errors' error responses.

Error bodies are shared components: one `ErrorResponse{status}` per status (with its code
enum), one `ValidationErrorResponse` for every 400 (oneOf with `ParseErrorResponse` as
`ErrorResponse400`). Which `attr` can answer which codes is documented per operation on its
400 response: `x-error-codes` (a list of {attr, pattern?, codes}) and a Markdown table in
its description. fithub.api.schema_hooks.shared_error_responses then moves the error
responses every operation shares into `components/responses`.

The error codes that only some operations can produce are added where they can happen:
413 where there is a request body, 409 where a client may choose the id of a new row, 410
and 422 where Idempotency-Key is honoured (a replay of rows since deleted, a key reused),
414 everywhere (nginx's answer to a request line over its 8k buffer) and 503 (with
Retry-After) everywhere: any operation can meet an unreachable primary.
"""

import http
import re

from django.db import models
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from drf_spectacular.plumbing import build_media_type_object, force_instance
from drf_spectacular.utils import OpenApiParameter, PolymorphicProxySerializer
from drf_standardized_errors.openapi import AutoSchema as StandardizedErrorsAutoSchema
from drf_standardized_errors.openapi_serializers import (
    ClientErrorEnum,
    ParseErrorResponseSerializer,
    ServerErrorEnum,
    ValidationErrorEnum,
)
from drf_standardized_errors.openapi_utils import get_flat_serializer_fields, get_serializer_fields_with_error_codes
from rest_framework import serializers
from rest_framework.settings import api_settings as drf_settings

from fithub.api.handlers import body_attr

INDEX = "INDEX"  # drf-standardized-errors' LIST_INDEX_IN_API_SCHEMA placeholder


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
    """gone: a replay of a request whose rows were deleted since; sync_cursor_expired: a sync
    cursor older than the tombstones the feed keeps (sync again from scratch)."""

    GONE = "gone"
    SYNC_CURSOR_EXPIRED = "sync_cursor_expired"


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
    error_codes_table."""
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


def error_response_serializer(status: str) -> type:
    """The body of an error response of this status (one of ours: 401, 409, 410, 413, 414, 422,
    503), for a view that declares the status itself."""
    return _EXTRA_ERRORS[status]


class ValidationErrorSerializer(serializers.Serializer):
    """One problem with the request. Which `attr` can answer which `code` is listed per
    operation, in its 400 response (`x-error-codes` and the description's table)."""

    code = serializers.CharField(help_text="What is wrong, e.g. `required`, `invalid`, `max_length`.")
    detail = serializers.CharField(help_text="The same in English, for people.")
    attr = serializers.CharField(
        allow_null=True,
        help_text="The path in the body (or the query parameter, or header) of what the error is about: "
        "`name`, `items.3.value` for a field of an item of a list, `items.3` for the item itself; "
        "null for the body as a whole.",
    )


class ValidationErrorResponseSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=ValidationErrorEnum.choices)
    errors = ValidationErrorSerializer(many=True)


# The 400 of an operation that validates input: a validation error, or a body that does not
# parse (malformed JSON). One component for every operation.
ERROR_RESPONSE_400 = PolymorphicProxySerializer(
    component_name="ErrorResponse400",
    serializers={
        ValidationErrorEnum.VALIDATION_ERROR.value: ValidationErrorResponseSerializer,
        ClientErrorEnum.CLIENT_ERROR.value: ParseErrorResponseSerializer,
    },
    resource_type_field_name="type",
)

# The description of each shared error response (components/responses).
ERROR_DESCRIPTIONS = {
    "401": "Not authenticated: no token, a token that is invalid or expired, or a session that was ended "
    "(log in again). Login and refresh answer it for wrong credentials.",
    "403": "Not allowed: e.g. a change to a row you may read but not change (a public food, a built-in type).",
    "404": "Not found: no such row among yours, or a page that does not exist.",
    "405": "The method is not allowed on this path.",
    "406": "The Accept header asks for a media type the API does not send (it sends JSON).",
    "409": "The `id` sent is taken: by a row of yours that differs from the body, or by another user's "
    "(choose another id).",
    "410": "Gone: a replay (same Idempotency-Key) of a request whose created rows were deleted since (`gone`), "
    "or a sync cursor older than the deletions the feed keeps (`sync_cursor_expired`: sync again from scratch).",
    "413": "The request body is larger than the API accepts.",
    "414": "The request line (path and query) is too long.",
    "415": "The request body's Content-Type is not supported: send `application/json`.",
    "422": "The Idempotency-Key was used before with a different request.",
    "429": "Too many requests: wait `Retry-After` seconds (see RateLimit and RateLimit-Policy).",
    "500": "A server error: quote X-Request-ID when reporting it.",
    "503": "The service is unavailable for now (e.g. the database cannot be reached): retry after "
    "`Retry-After` seconds.",
}


def error_response_name(status: str) -> str:
    """The name of the shared response of an error status in components/responses: its HTTP
    reason phrase, e.g. `NotFound`, `TooManyRequests`."""
    return re.sub(r"[^A-Za-z0-9]", "", http.HTTPStatus(int(status)).phrase.title())


def _indexed_attr(name: str) -> tuple[str, str | None]:
    """drf-standardized-errors' `items.INDEX.value` -> (`items.N.value`, a pattern matching
    `items.0.value`, `items.12.value`, ...); a plain attr has no pattern."""
    parts = name.split(".")
    if INDEX not in parts:
        return name, None
    shown = ".".join("N" if part == INDEX else part for part in parts)
    pattern = r"\.".join(r"[0-9]+" if part == INDEX else re.escape(part) for part in parts)
    return shown, f"^{pattern}$"


def error_codes_table(codes_by_attr: dict[str, set[str]]) -> list[dict]:
    """The `x-error-codes` of a 400: [{attr, pattern (indexed attrs only), codes}], the body's
    own errors (`non_field_errors` in DRF) first with attr null."""
    documented = []
    for name, codes in codes_by_attr.items():
        if not codes:
            continue
        if name == drf_settings.NON_FIELD_ERRORS_KEY:
            documented.insert(0, {"attr": None, "codes": sorted(codes)})
            continue
        attr, pattern = _indexed_attr(name)
        documented.append({"attr": attr, **({"pattern": pattern} if pattern else {}), "codes": sorted(codes)})
    return documented


def error_codes_markdown(documented: list[dict]) -> str:
    rows = ["| attr | codes |", "| --- | --- |"]
    for entry in documented:
        attr = "null (the body as a whole)" if entry["attr"] is None else f"`{entry['attr']}`"
        rows.append(f"| {attr} | {', '.join(f'`{code}`' for code in entry['codes'])} |")
    return "\n".join(rows)


VALIDATION_400 = (
    "Invalid input: `type` `validation_error`, one error per problem, with the `attr` and `code` below "
    "(`N` is an item's index in a list); or `client_error` with `parse_error` for a body that does not parse."
)
PARSE_400 = "The body does not parse: `type` `client_error`, code `parse_error`."


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

    def _get_http400_serializer(self):
        # Shared components instead of drf-standardized-errors' per-operation ones: the codes
        # per attr go on the response (_get_response_for_code).
        if self._should_add_validation_error_response():
            return ERROR_RESPONSE_400
        return ParseErrorResponseSerializer

    def _get_response_for_code(self, serializer, status_code, media_types=None, direction="response"):
        response = super()._get_response_for_code(serializer, status_code, media_types, direction)
        if direction != "response":
            return response
        if serializer is ERROR_RESPONSE_400:
            fields = self._determine_fields_with_error_codes()
            documented = error_codes_table(self._get_validation_error_codes_by_field(fields))
            response["description"] = f"{VALIDATION_400}\n\n{error_codes_markdown(documented)}"
            response["x-error-codes"] = documented
        elif serializer is ParseErrorResponseSerializer and status_code == "400":
            response["description"] = PARSE_400
        elif status_code in ERROR_DESCRIPTIONS and serializer is self._get_error_response_serializer(status_code):
            response["description"] = ERROR_DESCRIPTIONS[status_code]
        return response


class FitHubJWTScheme(SimpleJWTScheme):
    """Our JWT authentication is simplejwt's with replica rules: the same Bearer scheme."""

    target_class = "fithub.api.authentication.JWTAuthentication"
