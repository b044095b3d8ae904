"""Versions: 1 when created, one more on every change by any path; the API shows the new one.

The database bumps them (fithub.db.change_log); these tests change rows by each path and
read the version back from the database, and check that what the API answers is that."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.urls import reverse

from apps.goals.models import Goal
from apps.measurements.models import Measurement
from apps.nutrition.models import DiaryEntry, Food, FoodPortion, FoodPreference, Meal, MealItem
from apps.users.models import User
from fithub.models import Session
from tests.conftest import client_for
from tests.fithub.test_isolation import OWNED_ROWS
from tests.measurements.factories import MeasurementFactory, MeasurementTypeFactory, builtin
from tests.nutrition.factories import (
    CustomFoodFactory,
    FoodPortionFactory,
    FoodPreferenceFactory,
    MealFactory,
    MealItemFactory,
    PublicFoodFactory,
    QuickAddEntryFactory,
)
from tests.users.factories import UserFactory

pytestmark = pytest.mark.django_db

VERSIONED = {
    **{model: maker for model, maker in OWNED_ROWS.items() if model is not Session},
    User: lambda user: user,
}


def stored(row) -> int:
    return type(row)._base_manager.filter(pk=row.pk).values_list("version", flat=True).get()


@pytest.mark.parametrize("model", list(VERSIONED), ids=lambda model: model.__name__)
def test_every_path_bumps_the_version_by_one(model):
    row = VERSIONED[model](UserFactory())
    start = stored(row)
    if model is not User:
        assert type(row)._base_manager.get(pk=row.pk).version == start == 1
    row.save()
    assert row.version == stored(row) == start + 1
    model._base_manager.filter(pk=row.pk).update(updated_at=row.updated_at)
    assert stored(row) == start + 2
    row.refresh_from_db()
    model._base_manager.bulk_update([row], ["updated_at"])
    assert stored(row) == start + 3
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {model._meta.db_table} SET updated_at = updated_at WHERE id = %s", [row.pk])  # noqa: S608
    assert stored(row) == start + 4
    # A statement that sets the version does not choose it.
    model._base_manager.filter(pk=row.pk).update(version=1000)
    assert stored(row) == start + 5


def test_a_save_that_writes_no_column_does_not_count():
    entry = QuickAddEntryFactory()
    entry.save(update_fields=[])
    assert entry.version == stored(entry) == 1


def _patch(client, url, body):
    response = client.patch(url, body, format="json")
    assert response.status_code == 200, response.content[:300]
    return response.json()


def test_the_api_answers_with_the_version_it_wrote(builtin_types):
    user = UserFactory()
    client = client_for(user)
    food = client.post(
        reverse("foods-list"),
        {"name": "Granola", "energy_kcal": 400, "portions": [{"description": "bowl", "grams": 60}]},
    ).json()
    assert food["version"] == stored(Food.objects.get(pk=food["id"]))
    food = _patch(client, reverse("foods-detail", args=[food["id"]]), {"name": "Oat granola", "portions": []})
    assert food["version"] == stored(Food.objects.get(pk=food["id"])) > 2
    meal = client.post(reverse("meals-list"), {"name": "Bowl", "items": [{"food": food["id"], "grams": 80}]}).json()
    assert meal["version"] == stored(Meal.objects.get(pk=meal["id"]))
    meal = _patch(client, reverse("meals-detail", args=[meal["id"]]), {"items": [{"food": food["id"], "grams": 90}]})
    assert meal["version"] == stored(Meal.objects.get(pk=meal["id"]))
    entry = client.post(
        reverse("diary-list"),
        {"food": food["id"], "grams": 50, "meal": "breakfast", "consumed_at": "2026-11-20T08:00:00Z"},
    ).json()
    assert entry["version"] == 1
    assert _patch(client, reverse("diary-detail", args=[entry["id"]]), {"grams": 70})["version"] == 2
    water = client.post(reverse("water-list"), {"ml": 250, "consumed_at": "2026-11-20T09:00:00Z"}).json()
    assert _patch(client, reverse("water-detail", args=[water["id"]]), {"ml": 300})["version"] == 2
    preference = client.post(reverse("food-preferences-list"), {"food": food["id"], "favorite": True}).json()
    assert (
        _patch(client, reverse("food-preferences-detail", args=[preference["id"]]), {"allergy": True})["version"] == 2
    )
    # POST for a food already rated updates it.
    again = client.post(reverse("food-preferences-list"), {"food": food["id"], "dislike": False}).json()
    assert again["version"] == 3 == stored(FoodPreference.objects.get(pk=preference["id"]))
    kind = client.post(reverse("measurement-type-list"), {"name": "Calf", "unit": "cm"}).json()
    assert _patch(client, reverse("measurement-type-detail", args=[kind["id"]]), {"name": "Calves"})["version"] == 2
    weight = client.post(
        reverse("measurement-list"), {"type": "weight", "value": 80, "measured_at": "2026-11-20T07:00:00Z"}
    ).json()
    assert _patch(client, reverse("measurement-detail", args=[weight["id"]]), {"note": "after a run"})["version"] == 2
    goal = client.post(reverse("goal-list"), {"type": "weight", "target_value": 75, "target_date": "2027-06-01"}).json()
    goal = _patch(client, reverse("goal-detail", args=[goal["id"]]), {"target_value": 74})
    assert goal["version"] == stored(Goal.objects.get(pk=goal["id"])) == 2
    profile = client.get(reverse("users-me")).json()
    assert _patch(client, reverse("users-me"), {"display_name": "Ada"})["version"] == profile["version"] + 1
    assert client.get(reverse("users-me")).json()["version"] == stored(User.objects.get(pk=user.pk))


# --- Child rows and what a representation depends on -----------------------------------------


def test_a_portion_bumps_its_food_and_an_item_its_meal():
    food = CustomFoodFactory()
    portion = FoodPortionFactory(food=food)
    assert stored(food) == 2
    portion.grams = 100
    portion.save()
    FoodPortion.objects.filter(pk=portion.pk).update(archived_at=dt.datetime(2026, 11, 20, tzinfo=dt.UTC))
    portion.delete()
    assert stored(food) == 5
    meal = MealFactory()
    item = MealItemFactory(meal=meal)
    MealItem.objects.bulk_create(
        [MealItem(meal=meal, food=item.food, grams=10), MealItem(meal=meal, food=item.food, grams=20)]
    )
    assert stored(meal) == 3  # one per statement
    meal.items.all().delete()
    assert stored(meal) == 4


def test_a_food_change_bumps_the_meals_using_it_and_a_rename_its_preferences():
    food = CustomFoodFactory()
    meal, other = MealFactory(user=food.user), MealFactory(user=food.user)
    MealItemFactory(meal=meal, food=food)
    preference = FoodPreferenceFactory(user=food.user, food=food)
    before = {"meal": stored(meal), "other": stored(other), "preference": stored(preference)}
    Food.objects.filter(pk=food.pk).update(energy_kcal=123)  # the meal's totals change
    assert (stored(meal), stored(other), stored(preference)) == (
        before["meal"] + 1,
        before["other"],
        before["preference"],
    )
    Food.objects.filter(pk=food.pk).update(name="Renamed")  # items' and the preference's food_name
    assert (stored(meal), stored(preference)) == (before["meal"] + 2, before["preference"] + 1)
    Food.objects.filter(pk=food.pk).update(barcode="123")  # shown by neither
    assert (stored(meal), stored(preference)) == (before["meal"] + 2, before["preference"] + 1)


def test_a_public_food_change_bumps_every_users_meals_and_preferences():
    food = PublicFoodFactory()
    mine, theirs = MealItemFactory(food=food).meal, MealItemFactory(food=food).meal
    preference = FoodPreferenceFactory(food=food)
    versions = (stored(mine), stored(theirs), stored(preference), stored(food))
    food.name = "Kale, curly, raw"
    food.save()
    assert (stored(mine), stored(theirs), stored(preference), stored(food)) == tuple(v + 1 for v in versions)


def test_a_preference_bumps_a_custom_food_but_never_a_public_one():
    custom, public = CustomFoodFactory(), PublicFoodFactory()
    mine = FoodPreferenceFactory(user=custom.user, food=custom)
    assert stored(custom) == 2  # is_favorite and the others are part of the food
    FoodPreferenceFactory(user=custom.user, food=public)
    assert stored(public) == 1
    mine.favorite = True
    mine.save()
    assert stored(custom) == 3
    FoodPreference.objects.filter(pk=mine.pk).update(updated_at=mine.updated_at)  # no flag changed
    assert stored(custom) == 3
    mine.delete()
    assert stored(custom) == 4


def test_a_weight_bumps_the_profile_and_other_measurements_do_not(builtin_types):
    user = UserFactory()
    start = stored(user)
    weight = MeasurementFactory(user=user)
    assert stored(user) == start + 1  # bmi, bmr_kcal and tdee_kcal follow the latest weight
    Measurement.objects.filter(pk=weight.pk).update(value=Decimal(81))
    assert stored(user) == start + 2
    Measurement.objects.filter(pk=weight.pk).update(note="morning")
    assert stored(user) == start + 2
    MeasurementFactory(user=user, type=builtin("waist"), value=Decimal(80))
    MeasurementFactory(user=user, type=MeasurementTypeFactory(user=user, unit="cm"), value=Decimal(30))
    assert stored(user) == start + 2
    weight.delete()
    assert stored(user) == start + 3


def test_a_diary_entry_does_not_follow_its_food():
    food = CustomFoodFactory()
    entry = QuickAddEntryFactory(user=food.user, food=food, grams=100)
    Food.objects.filter(pk=food.pk).update(name="Renamed", energy_kcal=1)
    assert stored(entry) == 1  # an entry keeps the label and nutrients it was logged with
    assert stored(DiaryEntry.objects.get(pk=entry.pk)) == 1
