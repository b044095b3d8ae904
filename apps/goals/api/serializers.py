from rest_framework import serializers

from apps.goals.models import Goal, NutritionTarget
from apps.measurements.api.serializers import MeasurementTypeRefField, value_field
from fithub.api.serializers import FastRepresentation, OwnedModelSerializer


class GoalSerializer(OwnedModelSerializer):
    """A goal for a measurement type, values in the type's unit (kg, cm, ...)."""

    type = MeasurementTypeRefField(help_text="The type's id, or a built-in key such as `weight`.")
    type_key = serializers.CharField(source="type.key", read_only=True)
    unit = serializers.CharField(source="type.unit", read_only=True)
    target_value = value_field()
    start_value = value_field(
        required=False, help_text="Defaults to your latest measurement of the type (required when there is none)."
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
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["achieved_at", "created_at", "updated_at"]

    def get_fields(self):
        fields = super().get_fields()
        if self.instance is not None:
            fields["type"].read_only = True
        else:
            fields["status"].read_only = True
        return fields

    def get_direction(self, goal: Goal) -> str:
        return "down" if goal.direction < 0 else "up"


class GoalProgressSerializer(serializers.Serializer):
    goal = GoalSerializer()
    direction = serializers.ChoiceField(choices=["down", "up"])
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


def _macro_grams() -> serializers.DecimalField:
    """An optional daily macro target in grams."""
    return serializers.DecimalField(
        max_digits=6,
        decimal_places=1,
        min_value=0,
        max_value=2000,
        required=False,
        allow_null=True,
        coerce_to_string=False,
    )


class NutritionTargetSerializer(OwnedModelSerializer):
    """Daily targets from `effective_from` on (a local day), until the next target's date."""

    energy_kcal = serializers.DecimalField(
        max_digits=7, decimal_places=1, min_value=1, max_value=20000, coerce_to_string=False
    )
    protein_g = _macro_grams()
    fat_g = _macro_grams()
    carbohydrate_g = _macro_grams()

    class Meta:
        model = NutritionTarget
        fields = [
            "id",
            "energy_kcal",
            "protein_g",
            "fat_g",
            "carbohydrate_g",
            "effective_from",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]


class TargetInForceSerializer(FastRepresentation, serializers.ModelSerializer):
    """The nutrition target that applies on a day (the latest one effective on or before it)."""

    energy_kcal = serializers.DecimalField(max_digits=7, decimal_places=1, coerce_to_string=False)
    protein_g = serializers.DecimalField(max_digits=6, decimal_places=1, coerce_to_string=False, allow_null=True)
    fat_g = serializers.DecimalField(max_digits=6, decimal_places=1, coerce_to_string=False, allow_null=True)
    carbohydrate_g = serializers.DecimalField(max_digits=6, decimal_places=1, coerce_to_string=False, allow_null=True)

    class Meta:
        model = NutritionTarget
        fields = ["id", "energy_kcal", "protein_g", "fat_g", "carbohydrate_g", "effective_from"]
        read_only_fields = fields


class AdherenceQuerySerializer(serializers.Serializer):
    start = serializers.DateField(help_text="First local day (YYYY-MM-DD).")
    end = serializers.DateField(help_text="Last local day, inclusive; at most 366 days after start.")

    def validate(self, attrs):
        from apps.goals.selectors import MAX_ADHERENCE_DAYS

        span = (attrs["end"] - attrs["start"]).days + 1
        if span < 1:
            raise serializers.ValidationError({"end": "end must not be before start."}, code="invalid")
        if span > MAX_ADHERENCE_DAYS:
            message = f"The range is {span} days; at most {MAX_ADHERENCE_DAYS} are allowed."
            raise serializers.ValidationError({"end": message}, code="range_too_long")
        return attrs


class AdherenceDaySerializer(serializers.Serializer):
    date = serializers.DateField(help_text="The local day.")
    target = TargetInForceSerializer(allow_null=True, help_text="The target in force that day; null if none.")
    energy_kcal = serializers.FloatField(help_text="Energy eaten that day (diary entries).")
    within_target = serializers.BooleanField(
        allow_null=True,
        help_text="Energy within the tolerance of the target's energy_kcal; null without a target or after today.",
    )


class AdherenceSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()
    tolerance_percent = serializers.IntegerField(help_text="A day is within target at energy_kcal +- this percent.")
    streak = serializers.IntegerField(
        help_text="Consecutive days within target up to the latest day with a target (today in progress "
        "does not break it)."
    )
    days = AdherenceDaySerializer(many=True)
