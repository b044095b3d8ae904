"""Nutrition's part of an account (`apps.users.registry`): its lists in the export, the
demo diary and the bulk deletion of its rows."""

from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from apps.nutrition.demo import seed_demo_diary, seed_demo_water
from apps.nutrition.models import (
    DiaryEntry,
    Food,
    FoodPortion,
    FoodPreference,
    Meal,
    MealItem,
    NutritionTarget,
    WaterEntry,
)
from apps.users import registry
from fithub.db.deletion import delete_rows, referenced


def _seed_demo(*, user, days: int) -> str:
    return f"{seed_demo_diary(user=user, days=days)} diary entries added"


def _seed_demo_water(*, user, days: int) -> str:
    return f"{seed_demo_water(user=user, days=days)} water entries added"


def delete_account_rows(*, user) -> None:
    """The user's nutrition rows, a statement a table, what refers to a row before the row.

    Public foods stay. A custom food of the user's that another account's entries or meals
    still use (only the admin can link those) is archived without an owner, with its
    portions, instead of deleted: their history keeps it, as when its owner deletes it. Other
    accounts' preferences for the foods that go, go with them (CASCADE), and their entries
    logged from the user's saved meals lose the link (SET_NULL), as Django's deletion did."""
    delete_rows(DiaryEntry.objects.filter(user_id=user.pk))
    delete_rows(MealItem.objects.filter(meal__user_id=user.pk))
    DiaryEntry.objects.filter(saved_meal__user_id=user.pk).update(saved_meal=None)
    delete_rows(Meal.objects.filter(user_id=user.pk))
    foods = Food.objects.filter(user_id=user.pk)
    portions_in_use = referenced(FoodPortion.objects.filter(food__user_id=user.pk)).values("food_id")
    now = timezone.now()
    foods.filter(Q(pk__in=referenced(foods).values("pk")) | Q(pk__in=portions_in_use)).update(
        user=None, archived_at=Coalesce("archived_at", now), updated_at=now
    )
    delete_rows(FoodPreference.objects.filter(Q(user_id=user.pk) | Q(food__user_id=user.pk)))
    delete_rows(FoodPortion.objects.filter(food__user_id=user.pk))
    delete_rows(foods)
    delete_rows(NutritionTarget.objects.filter(user_id=user.pk))
    delete_rows(WaterEntry.objects.filter(user_id=user.pk))


def register() -> None:
    registry.add_export_section(
        "foods", lambda user: Food.objects.filter(user=user).order_by("created_at"), position=10, model=Food
    )
    registry.add_export_section(
        "food_portions",
        lambda user: FoodPortion.objects.filter(food__user=user).order_by("food_id", "id"),
        position=20,
        model=FoodPortion,
    )
    registry.add_export_section(
        "food_preferences",
        lambda user: FoodPreference.objects.filter(user=user).order_by("created_at"),
        position=30,
        model=FoodPreference,
    )
    registry.add_export_section(
        "meals", lambda user: Meal.objects.filter(user=user).order_by("created_at"), position=40, model=Meal
    )
    registry.add_export_section(
        "meal_items",
        lambda user: MealItem.objects.filter(meal__user=user).order_by("meal_id", "id"),
        position=50,
        model=MealItem,
    )
    registry.add_export_section(
        "diary_entries",
        lambda user: DiaryEntry.objects.filter(user=user).order_by("consumed_at", "id"),
        position=60,
        model=DiaryEntry,
    )
    registry.add_export_section(
        "water_entries",
        lambda user: WaterEntry.objects.filter(user=user).order_by("consumed_at", "id"),
        position=65,
        model=WaterEntry,
    )
    registry.add_export_section(
        "nutrition_targets",
        lambda user: NutritionTarget.objects.filter(user=user).order_by("effective_from"),
        position=100,
        model=NutritionTarget,
    )
    registry.add_demo_seeder(_seed_demo)
    registry.add_demo_seeder(_seed_demo_water)
    registry.add_account_deleter(delete_account_rows)
