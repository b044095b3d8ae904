"""Reads on accounts."""

from typing import Any

from django.utils import timezone

from apps.goals.models import Goal, NutritionTarget
from apps.measurements.models import Measurement, MeasurementType
from apps.nutrition.models import DiaryEntry, Food, FoodPortion, FoodPreference, Meal, MealItem
from apps.users.models import User

EXPORT_FORMAT_VERSION = 1


def _rows(queryset) -> list[dict[str, Any]]:
    """The stored columns of each row, without the owner and without derived (generated) columns."""
    columns = [
        field.attname
        for field in queryset.model._meta.concrete_fields
        if field.attname != "user_id" and not field.generated
    ]
    return list(queryset.values(*columns))


def export_user_data(*, user: User) -> dict[str, Any]:
    """Everything the user owns, one list per kind of row: one query per table, whatever
    the amount of data. Quantities are metric, times UTC (ISO 8601)."""
    return {
        "format": "fithub-export",
        "version": EXPORT_FORMAT_VERSION,
        "exported_at": timezone.now(),
        "foods": _rows(Food.objects.filter(user=user).order_by("created_at")),
        "food_portions": _rows(FoodPortion.objects.filter(food__user=user).order_by("food_id", "id")),
        "food_preferences": _rows(FoodPreference.objects.filter(user=user).order_by("created_at")),
        "meals": _rows(Meal.objects.filter(user=user).order_by("created_at")),
        "meal_items": _rows(MealItem.objects.filter(meal__user=user).order_by("meal_id", "id")),
        "diary_entries": _rows(DiaryEntry.objects.filter(user=user).order_by("consumed_at", "id")),
        "measurement_types": _rows(MeasurementType.objects.filter(user=user).order_by("created_at")),
        "measurements": _rows(Measurement.objects.filter(user=user).order_by("measured_at", "id")),
        "goals": _rows(Goal.objects.filter(user=user).order_by("created_at")),
        "nutrition_targets": _rows(NutritionTarget.objects.filter(user=user).order_by("effective_from")),
    }
