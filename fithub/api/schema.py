"""OpenAPI generation: drf-spectacular plus drf-standardized-errors' error responses.

The error codes that only some operations can produce are added where they can happen:
413 where there is a request body, 409 where a client may choose the id of a new row.
"""

from django.db import models
from drf_standardized_errors.openapi import AutoSchema as StandardizedErrorsAutoSchema
from drf_standardized_errors.openapi_serializers import ClientErrorEnum
from rest_framework import serializers


class ErrorCode409Enum(models.TextChoices):
    CONFLICT = "conflict"


class ErrorCode413Enum(models.TextChoices):
    REQUEST_TOO_LARGE = "request_too_large"


class Error409Serializer(serializers.Serializer):
    code = serializers.ChoiceField(choices=ErrorCode409Enum.choices)
    detail = serializers.CharField()
    attr = serializers.CharField(allow_null=True)


class ErrorResponse409Serializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=ClientErrorEnum.choices)
    errors = Error409Serializer(many=True)


class Error413Serializer(serializers.Serializer):
    code = serializers.ChoiceField(choices=ErrorCode413Enum.choices)
    detail = serializers.CharField()
    attr = serializers.CharField(allow_null=True)


class ErrorResponse413Serializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=ClientErrorEnum.choices)
    errors = Error413Serializer(many=True)


_EXTRA_ERRORS = {"409": ErrorResponse409Serializer, "413": ErrorResponse413Serializer}


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
        return super()._should_add_error_response(responses, status_code)

    def _get_error_response_serializer(self, status_code: str):
        return _EXTRA_ERRORS.get(status_code) or super()._get_error_response_serializer(status_code)
