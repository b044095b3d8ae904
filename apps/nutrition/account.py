"""Nutrition's part of an account (`apps.users.registry`): its lists in the export and the
demo diary."""

from apps.nutrition.demo import seed_demo_diary
from apps.nutrition.models import DiaryEntry, Food, FoodPortion, FoodPreference, Meal, MealItem, NutritionTarget
from apps.users import registry


def _seed_demo(*, user, days: int) -> str:
    return f"{seed_demo_diary(user=user, days=days)} diary entries added"


def register() -> None:
    registry.add_export_section(
        "foods", lambda user: Food.objects.filter(user=user).order_by("created_at"), position=10
    )
    registry.add_export_section(
        "food_portions", lambda user: FoodPortion.objects.filter(food__user=user).order_by("food_id", "id"), position=20
    )
    registry.add_export_section(
        "food_preferences", lambda user: FoodPreference.objects.filter(user=user).order_by("created_at"), position=30
    )
    registry.add_export_section(
        "meals", lambda user: Meal.objects.filter(user=user).order_by("created_at"), position=40
    )
    registry.add_export_section(
        "meal_items", lambda user: MealItem.objects.filter(meal__user=user).order_by("meal_id", "id"), position=50
    )
    registry.add_export_section(
        "diary_entries", lambda user: DiaryEntry.objects.filter(user=user).order_by("consumed_at", "id"), position=60
    )
    registry.add_export_section(
        "nutrition_targets",
        lambda user: NutritionTarget.objects.filter(user=user).order_by("effective_from"),
        position=100,
    )
    registry.add_demo_seeder(_seed_demo)
