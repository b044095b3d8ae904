import pytest
from django.urls import reverse

from apps.nutrition.models import DiaryEntry, Meal
from tests.nutrition.factories import (
    CustomFoodFactory,
    FoodPreferenceFactory,
    MealFactory,
    MealItemFactory,
    PublicFoodFactory,
)
from tests.users.factories import UserFactory

pytestmark = pytest.mark.django_db
MEALS = reverse("meals-list")
PLANNED = reverse("meals-planned")


def detail(meal_id) -> str:
    return reverse("meals-detail", args=[meal_id])


def log_url(meal_id) -> str:
    return reverse("meals-log", args=[meal_id])


def test_create_a_meal_with_items_and_computed_totals(auth_client, user):
    rice = PublicFoodFactory(energy_kcal=130, protein_g=2.7, fat_g=0.3, carbohydrate_g=28)
    chicken = CustomFoodFactory(user=user, energy_kcal=165, protein_g=31, fat_g=3.6, carbohydrate_g=0)
    response = auth_client.post(
        MEALS,
        {
            "name": "Chicken and rice",
            "slot": "dinner",
            "weekdays": ["monday", "wednesday"],
            "items": [{"food": str(rice.pk), "grams": 200}, {"food": str(chicken.pk), "grams": 150}],
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["name"], body["slot"], body["weekdays"], body["total_grams"]) == (
        "Chicken and rice",
        "dinner",
        ["monday", "wednesday"],
        350,
    )
    assert body["totals"]["energy_kcal"] == pytest.approx(260 + 247.5)
    assert body["totals"]["protein_g"] == pytest.approx(5.4 + 46.5)
    assert [item["grams"] for item in body["items"]] == [200, 150]

    changed = auth_client.patch(detail(body["id"]), {"items": [{"food": str(rice.pk), "grams": 100}]}, format="json")
    assert changed.status_code == 200
    assert (changed.json()["totals"]["energy_kcal"], changed.json()["weekdays"]) == (130, ["monday", "wednesday"])


@pytest.mark.parametrize(
    "payload",
    [
        {"name": "x", "items": [{"food": "0193a1c2-7e5f-7a3b-8c4d-2e1f0a9b8c7d", "grams": 10}]},
        {"name": "x", "items": [{"grams": 10}]},
        {"name": "x", "weekdays": ["funday"]},
        {"name": "x", "slot": "brunch"},
        {"name": ""},
    ],
)
def test_meal_validation(auth_client, payload):
    assert auth_client.post(MEALS, payload, format="json").status_code == 400


def test_meal_items_refuse_someone_elses_food_and_bad_grams(auth_client):
    theirs = CustomFoodFactory()
    mine = PublicFoodFactory()
    for item in ({"food": str(theirs.pk), "grams": 10}, {"food": str(mine.pk), "grams": -1}):
        assert auth_client.post(MEALS, {"name": "x", "items": [item]}, format="json").status_code == 400


def test_log_a_meal_writes_every_item_in_one_request(auth_client, user):
    meal = MealFactory(user=user, slot="lunch")
    first = MealItemFactory(meal=meal, grams=100, food=PublicFoodFactory(energy_kcal=100), position=0)
    allergen = PublicFoodFactory(energy_kcal=50, name="Peanuts")
    MealItemFactory(meal=meal, grams=200, food=allergen, position=1)
    FoodPreferenceFactory(user=user, food=allergen, allergy=True)

    response = auth_client.post(log_url(meal.pk), {"consumed_at": "2026-11-23T12:30:00Z"}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert [(e["food"], e["grams"], e["energy_kcal"], e["meal"]) for e in body["entries"]] == [
        (str(first.food_id), 100, 100, "lunch"),
        (str(allergen.pk), 200, 100, "lunch"),
    ]
    assert [w["food"] for w in body["warnings"]] == [str(allergen.pk)]
    assert DiaryEntry.objects.filter(user=user, saved_meal=meal).count() == 2

    scaled = auth_client.post(log_url(meal.pk), {"meal": "dinner", "scale": 0.5}, format="json").json()
    assert [(e["grams"], e["meal"]) for e in scaled["entries"]] == [(50, "dinner"), (100, "dinner")]


def test_logging_is_all_or_nothing_and_private(auth_client, user):
    empty = MealFactory(user=user)
    assert auth_client.post(log_url(empty.pk), {}, format="json").status_code == 400
    theirs = MealItemFactory(meal=MealFactory(user=UserFactory())).meal
    assert auth_client.post(log_url(theirs.pk), {}, format="json").status_code == 404
    assert auth_client.get(detail(theirs.pk)).status_code == 404
    meal = MealItemFactory(meal=MealFactory(user=user)).meal
    assert auth_client.post(log_url(meal.pk), {"consumed_at": "not a time"}, format="json").status_code == 400
    assert auth_client.post(log_url(meal.pk), {"scale": "NaN"}, format="json").status_code == 400
    assert DiaryEntry.objects.count() == 0


def test_the_days_plan_and_what_was_logged(auth_client, user):
    oats = MealFactory(user=user, name="Oats", slot="breakfast", planned_weekdays=0b10001)  # Monday and Friday
    monday_and_friday = MealItemFactory(meal=oats).meal
    monday = MealItemFactory(meal=MealFactory(user=user, name="Salad", slot="lunch", planned_weekdays=0b1)).meal
    MealFactory(user=user, name="Tuesday only", planned_weekdays=0b10)
    MealFactory(user=UserFactory(), name="Someone else's", planned_weekdays=0b1111111)

    response = auth_client.get(PLANNED, {"date": "2026-11-23"})  # a Monday
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["date"], body["weekday"]) == ("2026-11-23", "monday")
    assert [(m["name"], m["logged"]) for m in body["meals"]] == [("Oats", False), ("Salad", False)]

    auth_client.post(log_url(monday.pk), {"consumed_at": "2026-11-23T12:00:00Z"}, format="json")
    auth_client.post(log_url(monday_and_friday.pk), {"consumed_at": "2026-11-24T08:00:00Z"}, format="json")
    body = auth_client.get(PLANNED, {"date": "2026-11-23"}).json()
    assert [(m["name"], m["logged"]) for m in body["meals"]] == [("Oats", False), ("Salad", True)]
    friday = auth_client.get(PLANNED, {"date": "2026-11-27"}).json()
    assert [m["name"] for m in friday["meals"]] == ["Oats"]
    for bad in ({}, {"date": "2026-02-30"}, {"date": "monday"}):
        assert auth_client.get(PLANNED, bad).status_code == 400


def test_delete_a_meal_keeps_the_diary(auth_client, user):
    meal = MealItemFactory(meal=MealFactory(user=user)).meal
    auth_client.post(log_url(meal.pk), {}, format="json")
    assert auth_client.delete(detail(meal.pk)).status_code == 204
    assert not Meal.objects.filter(pk=meal.pk).exists()
    assert DiaryEntry.objects.filter(user=user).count() == 1


@pytest.mark.parametrize("count", [3, 30])
def test_meal_list_query_count_is_constant(auth_client, user, django_assert_max_num_queries, count):
    for _ in range(count):
        MealItemFactory.create_batch(3, meal=MealFactory(user=user))
    with django_assert_max_num_queries(4):  # user, count, page with totals, items with foods
        response = auth_client.get(MEALS, {"page_size": 200})
    assert len(response.json()["results"]) == count


@pytest.mark.parametrize("count", [2, 20])
def test_planned_query_count_is_constant(auth_client, user, django_assert_max_num_queries, count):
    for _ in range(count):
        MealItemFactory.create_batch(2, meal=MealFactory(user=user, planned_weekdays=0b1111111))
    with django_assert_max_num_queries(3):  # user, meals with totals and logged flags, items with foods
        response = auth_client.get(PLANNED, {"date": "2026-11-23"})
    assert len(response.json()["meals"]) == count
