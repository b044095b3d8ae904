import uuid

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.measurements.models import VALUE_DIGITS, VALUE_PLACES, Measurement, MeasurementType
from apps.measurements.selectors import visible_measurement_types
from fithub.api.fields import DayField, RecordedTimeField, RoundedDecimalField
from fithub.api.serializers import OwnedModelSerializer


def value_field(**kwargs) -> serializers.DecimalField:
    return RoundedDecimalField(max_digits=VALUE_DIGITS, decimal_places=VALUE_PLACES, **kwargs)


class MeasurementTypeSerializer(OwnedModelSerializer):
    """A measurement type: built-in (`key` set, read-only, shared) or one of your own. One of
    your own deleted while measurements or goals used it is archived (`archived_at`): they
    keep it and it is readable by id, but the list leaves it out and nothing new can use it."""

    key = serializers.CharField(read_only=True, help_text="Set on built-in types (`weight`); empty on your own.")
    is_builtin = serializers.BooleanField(read_only=True)
    accepted_units = serializers.ListField(
        child=serializers.CharField(),
        read_only=True,
        help_text="Units a value may be entered in (kg or lb, cm or in); it is stored in `unit`.",
    )
    min_value = value_field(required=False, allow_null=True, help_text="Lowest accepted value, in `unit`.")
    max_value = value_field(required=False, allow_null=True, help_text="Highest accepted value, in `unit`.")

    class Meta:
        model = MeasurementType
        fields = [
            "id",
            "key",
            "name",
            "unit",
            "accepted_units",
            "min_value",
            "max_value",
            "is_builtin",
            "archived_at",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["archived_at", "version", "created_at", "updated_at"]


@extend_schema_field(OpenApiTypes.STR)
class MeasurementTypeRefField(serializers.RelatedField):
    """A measurement type by id, or a built-in one by key (`weight`). Types are loaded once
    per request (built-ins plus the caller's own), so a batch costs one query for them."""

    default_error_messages = {
        "does_not_exist": "Unknown measurement type {value!r}.",
        "invalid": "A measurement type id or built-in key is required.",
        "archived": "The measurement type {value!r} was deleted: what already uses it keeps it, but nothing new can.",
    }

    def __init__(self, **kwargs):
        kwargs.setdefault("queryset", MeasurementType.objects.all())
        super().__init__(**kwargs)

    def _types(self) -> dict[str, MeasurementType]:
        cache = self.context.setdefault("_measurement_types", {})
        if not cache:
            request = self.context["request"]
            for measurement_type in visible_measurement_types(user=request.user):
                cache[str(measurement_type.pk)] = measurement_type
                if measurement_type.key and measurement_type.user_id is None:
                    cache[measurement_type.key] = measurement_type
        return cache

    def to_internal_value(self, data):
        if not isinstance(data, str) or not data or len(data) > 64:
            self.fail("invalid")
        try:
            ref = str(uuid.UUID(data))
        except ValueError:
            ref = data
        found = self._types().get(ref)
        if found is None:
            self.fail("does_not_exist", value=data)
        if found.archived_at is not None:
            self.fail("archived", value=data)
        return found

    def use_pk_only_optimization(self) -> bool:
        return True  # shown by its id: no type row needed to show it

    def to_representation(self, value):
        return str(value.pk)


class MeasurementSerializer(OwnedModelSerializer):
    """A measurement. `value` is in the type's metric `unit`; `entered_value` and
    `entered_unit` are what was sent (a weight entered as 160 lb keeps `160` and `lb`)."""

    type = MeasurementTypeRefField(help_text="The type's id, or a built-in key such as `weight`.")
    type_key = serializers.CharField(source="type.key", read_only=True)
    value = value_field(help_text="On input: the value in `unit`. On output: the stored metric value.")
    unit = serializers.CharField(
        max_length=16,
        required=False,
        allow_blank=True,
        write_only=True,
        help_text="The unit `value` is given in (kg or lb, cm or in); the type's unit by default.",
    )
    stored_unit = serializers.CharField(source="type.unit", read_only=True, help_text="The unit of `value`.")
    entered_value = value_field(read_only=True)
    entered_unit = serializers.CharField(read_only=True)
    measured_at = RecordedTimeField(help_text="When it was measured.")

    class Meta:
        model = Measurement
        fields = [
            "id",
            "type",
            "type_key",
            "value",
            "unit",
            "stored_unit",
            "entered_value",
            "entered_unit",
            "measured_at",
            "note",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["version", "created_at", "updated_at"]

    def get_fields(self):
        fields = super().get_fields()
        if self.instance is not None and not isinstance(self.instance, list):
            fields["type"].read_only = True
        return fields

    def sent_for_comparison(self) -> dict:
        """The value as entered, in its unit (the type's unless another is given)."""
        sent = super().sent_for_comparison()
        if "value" in sent or "unit" in sent:
            sent["unit"] = sent.get("unit") or self.validated_data["type"].unit
        return sent

    def shown_for_comparison(self, instance) -> dict:
        shown = super().shown_for_comparison(instance)
        return {**shown, "value": shown["entered_value"], "unit": shown["entered_unit"]}


class MeasurementBulkSerializer(serializers.Serializer):
    items = MeasurementSerializer(many=True, allow_empty=False, max_length=500)


class MeasurementBulkResultSerializer(serializers.Serializer):
    results = MeasurementSerializer(many=True)


class TrendPointSerializer(serializers.Serializer):
    date = serializers.DateField(help_text="The local day (in your profile's time zone).")
    value = value_field(help_text="The mean of the day's measurements.")
    count = serializers.IntegerField(help_text="How many measurements that day.")
    trend = value_field(help_text="7-day moving average of the daily values (calendar days).")
    rate_per_week = value_field(
        allow_null=True, help_text="Change of the trend per week, over the previous 7 days; null without history."
    )


class MeasurementTrendSerializer(serializers.Serializer):
    type = serializers.UUIDField()
    unit = serializers.CharField()
    start = serializers.DateField()
    end = serializers.DateField()
    points = TrendPointSerializer(many=True)
    rate_per_week = value_field(allow_null=True, help_text="The last point's rate of change per week.")


class MeasurementTrendQuerySerializer(serializers.Serializer):
    type = serializers.CharField(max_length=64, help_text="A type id or built-in key (`weight`).")
    start = DayField(required=False)
    end = DayField(required=False)
