import uuid

import django_filters
from django.db.models import Q, QuerySet

from apps.measurements.models import Measurement


def filter_by_type_ref(queryset: QuerySet, value: str) -> QuerySet:
    """Rows of a type given by id or built-in key. An unknown or foreign id simply matches
    nothing (no 400 that would tell another user's type ids from made-up ones)."""
    try:
        return queryset.filter(type_id=uuid.UUID(value))
    except ValueError:
        return queryset.filter(Q(type__key=value) & Q(type__user__isnull=True))


class MeasurementFilter(django_filters.FilterSet):
    type = django_filters.CharFilter(
        method=lambda queryset, name, value: filter_by_type_ref(queryset, value),
        help_text="A type id or built-in key (`weight`).",
    )
    start = django_filters.IsoDateTimeFilter(
        field_name="measured_at",
        lookup_expr="gte",
        help_text="Measured at or after this ISO 8601 time (a time without offset is UTC).",
    )
    end = django_filters.IsoDateTimeFilter(
        field_name="measured_at",
        lookup_expr="lte",
        help_text="Measured at or before this ISO 8601 time (a time without offset is UTC).",
    )

    class Meta:
        model = Measurement
        fields = ["type", "start", "end"]
