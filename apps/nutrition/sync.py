"""Nutrition's types in the sync feed (fithub.sync.registry): each as its own endpoint shows it."""

from apps.nutrition import selectors
from apps.nutrition.api import examples
from apps.nutrition.api.serializers import (
    DiaryEntrySerializer,
    FoodPreferenceSerializer,
    FoodSerializer,
    MealSerializer,
    NutritionTargetSerializer,
    WaterEntrySerializer,
)
from apps.nutrition.models import DiaryEntry, Food, FoodPreference, Meal, NutritionTarget, WaterEntry
from fithub.sync import registry


def custom_foods(user):
    """The user's own foods (archived ones too) with their portions and preference flags."""
    mine = selectors.annotate_preferences(Food.objects.filter(user_id=user.pk), user)
    return selectors.with_portions(mine, archived=True)


def register() -> None:
    registry.register(
        "food",
        model=Food,
        serializer=FoodSerializer,
        rows=custom_foods,
        example=examples.CUSTOM_FOOD,
        description="Your own foods only: public foods are not in the feed.",
    )
    registry.register(
        "food_preference",
        model=FoodPreference,
        serializer=FoodPreferenceSerializer,
        rows=lambda user: FoodPreference.objects.select_related("food").filter(user_id=user.pk),
        example=examples.PREFERENCE_EXAMPLE.value,
    )
    registry.register(
        "meal", model=Meal, serializer=MealSerializer, rows=lambda user: selectors.meals(user=user),
        example=examples.MEAL_EXAMPLE.value,
    )  # fmt: skip
    registry.register(
        "diary_entry",
        model=DiaryEntry,
        serializer=DiaryEntrySerializer,
        rows=lambda user: DiaryEntry.objects.filter(user_id=user.pk),
        example=examples.ENTRY_EXAMPLE.value,
    )
    registry.register(
        "water_entry",
        model=WaterEntry,
        serializer=WaterEntrySerializer,
        rows=lambda user: WaterEntry.objects.filter(user_id=user.pk),
        example=examples.WATER_EXAMPLE.value,
    )
    registry.register(
        "nutrition_target",
        model=NutritionTarget,
        serializer=NutritionTargetSerializer,
        rows=lambda user: NutritionTarget.objects.filter(user_id=user.pk),
        example=examples.TARGET_EXAMPLE.value,
    )
