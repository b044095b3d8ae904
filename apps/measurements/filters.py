import uuid
from datetime import UTC, datetime

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django_filters.fields import IsoDateTimeField

from apps.measurements.models import Measurement


class TypeRefFilter(django_filters.CharFilter):
    """Rows of a type given by id or built-in key. An unknown or foreign id simply matches
    nothing (no 400 that would tell another user's type ids from made-up ones). Whether the
    value is an id or a key is part of the list statement's shape (fithub.api.filters)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("help_text", "A type id or built-in key (`weight`).")
        super().__init__(method=self._by_ref, **kwargs)

    @staticmethod
    def shaped(value: str) -> tuple[str, uuid.UUID | str]:
        try:
            return "id", uuid.UUID(value)
        except ValueError:
            return "key", value

    @staticmethod
    def apply(queryset: QuerySet, how: str, value) -> QuerySet:
        if how == "id":
            return queryset.filter(type_id=value)
        return queryset.filter(Q(type__key=value) & Q(type__user__isnull=True))

    def _by_ref(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return self.apply(queryset, *self.shaped(value))


class StorableIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 time with its UTC offset that PostgreSQL can compare, sent to it in UTC. A
    time without an offset is refused (code `naive`), not read as UTC; one whose UTC value
    leaves year 1-9999 (9999-12-31T23:59-23:59) is invalid rather than a database error."""

    default_error_messages = {
        "naive": "Give the time with its UTC offset (such as 2026-11-21T12:30:00+01:00 or ...Z).",
    }

    def to_python(self, value):
        if isinstance(value, str):
            try:
                sent = parse_datetime(value.strip())
            except ValueError:  # well formed but no time (month 13): the field's "invalid"
                sent = None
            if sent is not None and timezone.is_naive(sent):
                raise forms.ValidationError(self.error_messages["naive"], code="naive")
        parsed = super().to_python(value)
        if parsed is not None:
            try:
                in_utc = parsed.astimezone(UTC)
            except OverflowError as exc:
                raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from exc
            if not datetime.min.replace(tzinfo=UTC) < in_utc < datetime.max.replace(tzinfo=UTC):
                raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
            # In UTC: PostgreSQL refuses offsets beyond +-15:59 that Python accepts (-21:00).
            return in_utc
        return parsed


class StorableIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = StorableIsoDateTimeField


class MeasurementFilter(django_filters.FilterSet):
    type = TypeRefFilter()
    start = StorableIsoDateTimeFilter(
        field_name="measured_at",
        lookup_expr="gte",
        help_text="Measured at or after this ISO 8601 time, with its UTC offset (`Z` or `+01:00`).",
    )
    end = StorableIsoDateTimeFilter(
        field_name="measured_at",
        lookup_expr="lte",
        help_text="Measured at or before this ISO 8601 time, with its UTC offset (`Z` or `+01:00`).",
    )

    class Meta:
        model = Measurement
        fields = ["type", "start", "end"]
