import uuid

import django_filters
from django.db.models import Q

from apps.measurements.models import Measurement


class MeasurementFilter(django_filters.FilterSet):
    type = django_filters.CharFilter(method="filter_type", help_text="A type id or built-in key (`weight`).")
    start = django_filters.IsoDateTimeFilter(
        field_name="measured_at", lookup_expr="gte", help_text="Measured at or after (ISO 8601)."
    )
    end = django_filters.IsoDateTimeFilter(
        field_name="measured_at", lookup_expr="lte", help_text="Measured at or before (ISO 8601)."
    )

    class Meta:
        model = Measurement
        fields = ["type", "start", "end"]

    def filter_type(self, queryset, name, value):
        try:
            return queryset.filter(type_id=uuid.UUID(value))
        except ValueError:
            return queryset.filter(Q(type__key=value) & Q(type__user__isnull=True))
