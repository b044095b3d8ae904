from django.db import models
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.goals.models import Goal
from apps.measurements.api.serializers import MeasurementTypeRefField, value_field
from fithub.api.serializers import OwnedModelSerializer


class Direction(models.TextChoices):
    """Which way the value must go: one enum in the schema (GoalDirectionEnum)."""

    DOWN = "down", "Down (e.g. weight loss)"
    UP = "up", "Up (e.g. muscle)"


def direction_of(goal: Goal) -> str:
    return Direction.DOWN if goal.direction < 0 else Direction.UP


class GoalSerializer(OwnedModelSerializer):
    """A goal for a measurement type, values in the type's unit (kg, cm, ...)."""

    type = MeasurementTypeRefField(help_text="The type's id, or a built-in key such as `weight`.")
    type_key = serializers.CharField(source="type.key", read_only=True)
    unit = serializers.CharField(source="type.unit", read_only=True)
    target_value = value_field()
    start_value = value_field(
        required=False,
        help_text="Defaults to your value on `start_date`: the latest measurement of the type taken by the end "
        "of that day, else the first one after it (required when there is none).",
    )
    start_date = serializers.DateField(required=False, help_text="Defaults to your local today.")
    direction = serializers.SerializerMethodField(help_text="`down` (e.g. weight loss) or `up`.")

    class Meta:
        model = Goal
        fields = [
            "id",
            "type",
            "type_key",
            "unit",
            "start_value",
            "target_value",
            "start_date",
            "target_date",
            "status",
            "achieved_at",
            "direction",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["achieved_at", "version", "created_at", "updated_at"]

    def get_fields(self):
        fields = super().get_fields()
        if self.instance is not None:
            fields["type"].read_only = True
        else:
            fields["status"].read_only = True
        return fields

    @extend_schema_field(serializers.ChoiceField(choices=Direction.choices))
    def get_direction(self, goal: Goal) -> str:
        return direction_of(goal).value


class GoalProgressSerializer(serializers.Serializer):
    goal = GoalSerializer()
    direction = serializers.ChoiceField(choices=Direction.choices, help_text="`down` (e.g. weight loss) or `up`.")
    current_value = value_field(help_text="The latest measurement (the start value when there is none).")
    current_measured_at = serializers.DateTimeField(allow_null=True)
    percent_complete = serializers.DecimalField(max_digits=4, decimal_places=1, coerce_to_string=False)
    remaining = value_field(help_text="Distance from the current value to the target; 0 once reached.")
    trend_value = value_field(allow_null=True, help_text="The 7-day moving average on the last measured day.")
    rate_per_week = value_field(allow_null=True, help_text="The trend's change per week (see the trend endpoint).")
    projected_date = serializers.DateField(
        allow_null=True, help_text="When the trend reaches the target; null if it goes the wrong way or is flat."
    )
    on_track = serializers.BooleanField(help_text="Achieved, or projected to reach the target by target_date.")
