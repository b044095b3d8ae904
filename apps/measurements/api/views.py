from datetime import timedelta

from django.core.exceptions import ValidationError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from drf_standardized_errors.openapi_validation_errors import extend_validation_errors
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.generics import get_object_or_404
from rest_framework.response import Response

from apps.measurements import selectors, services
from apps.measurements.api.examples import (
    CREATE_CUSTOM_TYPE,
    LATEST_EXAMPLE,
    MEASUREMENT_EXAMPLE,
    RECORD_WEEK_OF_WEIGHTS,
    RECORD_WEIGHT_IN_POUNDS,
    TREND_EXAMPLE,
    TYPE_EXAMPLE,
)
from apps.measurements.api.pagination import MeasurementCursorPagination
from apps.measurements.api.serializers import (
    MeasurementBulkResultSerializer,
    MeasurementBulkSerializer,
    MeasurementSerializer,
    MeasurementTrendQuerySerializer,
    MeasurementTrendSerializer,
    MeasurementTypeSerializer,
)
from apps.measurements.filters import MeasurementFilter
from apps.measurements.models import Measurement, MeasurementType
from fithub.api.idempotency import idempotent
from fithub.api.viewsets import OwnedModelViewSet
from fithub.ops import metrics

MAX_TREND_DAYS = 731
DEFAULT_TREND_DAYS = 90


@extend_schema(tags=["measurements"])
@extend_schema_view(
    list=extend_schema(summary="List the built-in types and your own", examples=[TYPE_EXAMPLE]),
    retrieve=extend_schema(summary="Read a measurement type", examples=[TYPE_EXAMPLE]),
    create=extend_schema(summary="Create a type of your own", examples=[CREATE_CUSTOM_TYPE, TYPE_EXAMPLE]),
    partial_update=extend_schema(
        summary="Rename one of your types, or change its range (its unit only while nothing is measured in it)",
        examples=[TYPE_EXAMPLE],
    ),
    destroy=extend_schema(
        summary="Delete one of your types",
        description="A type your measurements or goals use is archived instead: it leaves the list, stays "
        "readable by id and in what uses it, nothing new can use it and its name is free again. Either way: 204.",
    ),
)
@extend_validation_errors(["in_use"], field_name="unit", actions=["partial_update"])
class MeasurementTypeViewSet(OwnedModelViewSet):
    """Measurement types. The built-in ones (weight kg, body_fat %, waist, hips, chest, neck,
    arm and thigh cm, resting_heart_rate bpm) are shared and read-only; the ones you create
    are visible to you only, and can be renamed and deleted."""

    queryset = MeasurementType.objects.all()
    has_read_only_rows = True  # a write on a built-in (public) one answers 403
    serializer_class = MeasurementTypeSerializer
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def list(self, request, *args, **kwargs):
        types = selectors.visible_measurement_types(user=request.user).filter(archived_at__isnull=True)
        page = self.paginate_queryset(types.order_by("name", "id"))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def get_object(self):
        visible = selectors.visible_measurement_types(user=self.request.user)
        instance = get_object_or_404(visible, pk=self.kwargs["pk"])
        if instance.is_builtin and self.request.method not in ("GET", "HEAD", "OPTIONS"):
            raise PermissionDenied("Built-in measurement types are read-only.")
        return instance

    def perform_create(self, serializer):
        serializer.instance = services.create_measurement_type(user=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.update_measurement_type(
            measurement_type=serializer.instance, data=serializer.validated_data
        )

    def perform_destroy(self, instance):
        if not services.delete_measurement_type(measurement_type=instance):
            metrics.record_delete(MeasurementType)


BULK_ITEMS_CODES = ["required", "null", "max_length", "unique", "conflict"]
TREND_TYPE_CODES = [
    "required",
    "blank",
    "max_length",
    "null_characters_not_allowed",
    "surrogate_characters_not_allowed",
    "does_not_exist",
]


# Codes the services raise on top of the serializer's: a unit the type does not accept, a
# value outside the type's range, a reading in the future.
@extend_validation_errors(["invalid_unit"], field_name="unit", actions=["create", "partial_update"])
@extend_validation_errors(["out_of_range"], field_name="value", actions=["create", "partial_update"])
@extend_validation_errors(["future"], field_name="measured_at", actions=["create", "partial_update"])
@extend_validation_errors(["invalid_unit"], field_name="items.INDEX.unit", actions=["bulk"])
@extend_validation_errors(["out_of_range"], field_name="items.INDEX.value", actions=["bulk"])
@extend_validation_errors(["future"], field_name="items.INDEX.measured_at", actions=["bulk"])
@extend_validation_errors(["unique"], field_name="items.INDEX.id", actions=["bulk"])
@extend_validation_errors(BULK_ITEMS_CODES, field_name="items", actions=["bulk"])
@extend_validation_errors(["null"], field_name="items.INDEX", actions=["bulk"])
@extend_validation_errors(TREND_TYPE_CODES, field_name="type", actions=["trend"])
@extend_validation_errors(["invalid"], field_name="start", actions=["trend"])
@extend_validation_errors(["invalid"], field_name="end", actions=["trend"])
@extend_schema(tags=["measurements"])
@extend_schema_view(
    list=extend_schema(summary="List your measurements, newest first", examples=[MEASUREMENT_EXAMPLE]),
    retrieve=extend_schema(summary="Read a measurement", examples=[MEASUREMENT_EXAMPLE]),
    create=extend_schema(summary="Record a measurement", examples=[RECORD_WEIGHT_IN_POUNDS, MEASUREMENT_EXAMPLE]),
    partial_update=extend_schema(summary="Correct a measurement", examples=[MEASUREMENT_EXAMPLE]),
    destroy=extend_schema(summary="Delete a measurement"),
)
class MeasurementViewSet(OwnedModelViewSet):
    """Body measurements. Values are validated against the type's sensible range and stored
    in the type's metric unit; the unit they were entered in is kept."""

    queryset = Measurement.objects.all()
    serializer_class = MeasurementSerializer
    filterset_class = MeasurementFilter
    pagination_class = MeasurementCursorPagination

    def get_base_queryset(self):
        return Measurement.objects.select_related("type")

    def perform_create(self, serializer):
        serializer.instance = services.create_measurement(user=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer):
        services.update_measurement(measurement=serializer.instance, data=serializer.validated_data)

    @extend_schema(
        summary="Record a batch of measurements, all or nothing",
        request=MeasurementBulkSerializer,
        responses={201: MeasurementBulkResultSerializer},
        examples=[RECORD_WEEK_OF_WEIGHTS],
    )
    @action(detail=False, methods=["post"], url_path="bulk", filterset_class=None, pagination_class=None)
    @idempotent(shows=lambda view, body: (view.get_queryset(), [row["id"] for row in body["results"]]))
    def bulk(self, request):
        """Up to 500 measurements in one transaction. If any row is invalid nothing is written
        and the error's `attr` names the row: `items.3.value`. Rows whose `id` you already
        have are returned unchanged, so re-sending a batch after a timeout is safe."""
        serializer = MeasurementBulkSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        created = services.bulk_create_measurements(user=request.user, rows=serializer.validated_data["items"])
        context = self.get_serializer_context()
        data = {"results": MeasurementSerializer(created, many=True, context=context).data}
        return Response(data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="The latest measurement of each type",
        responses={200: MeasurementSerializer(many=True)},
        examples=[LATEST_EXAMPLE],
    )
    @action(detail=False, methods=["get"], filterset_class=None, pagination_class=None)
    def latest(self, request):
        """Your most recent measurement of every type you have measured, in one query. At
        most one row per type, so the list is short and not paginated."""
        rows = selectors.latest_per_type(user=request.user)
        return Response(MeasurementSerializer(rows, many=True, context=self.get_serializer_context()).data)

    @extend_schema(
        summary="Daily series with a 7-day moving average and the weekly rate of change",
        parameters=[
            OpenApiParameter("type", OpenApiTypes.STR, required=True, description="A type id or built-in key."),
            OpenApiParameter("start", OpenApiTypes.DATE, description="First local day (default: 89 days before end)."),
            OpenApiParameter("end", OpenApiTypes.DATE, description="Last local day (default: today)."),
        ],
        responses={200: MeasurementTrendSerializer},
        examples=[TREND_EXAMPLE],
    )
    @action(detail=False, methods=["get"], filterset_class=None, pagination_class=None)
    def trend(self, request):
        """One point per local day with a measurement (days are in your profile's time zone).
        `trend` is a 7-day moving average: the mean of the daily values on the days measured
        among that day and the 6 before it. `rate_per_week` is the change of the trend since
        the earliest measured day of the 7 days before, scaled to a week. At most 731 days."""
        query = MeasurementTrendQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        measurement_type = selectors.measurement_type_by_ref(user=request.user, ref=query.validated_data["type"])
        if measurement_type is None:
            raise ValidationError({"type": ValidationError("Unknown measurement type.", code="does_not_exist")})
        end = query.validated_data.get("end") or request.user.local_today()
        start = query.validated_data.get("start") or end - timedelta(days=DEFAULT_TREND_DAYS - 1)
        if start > end:
            raise ValidationError({"start": ValidationError("start must not be after end.", code="invalid")})
        if (end - start).days >= MAX_TREND_DAYS:
            message = f"At most {MAX_TREND_DAYS} days per request."
            raise ValidationError({"start": ValidationError(message, code="invalid")})
        points = selectors.daily_trend(user=request.user, measurement_type=measurement_type, start=start, end=end)
        body = {
            "type": measurement_type.pk,
            "unit": measurement_type.unit,
            "start": start,
            "end": end,
            "points": [point.__dict__ for point in points],
            "rate_per_week": points[-1].rate_per_week if points else None,
        }
        return Response(MeasurementTrendSerializer(body).data)
