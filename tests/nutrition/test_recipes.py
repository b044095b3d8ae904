"""Saved meals as recipes: servings, a cooked weight, per-serving nutrients, and logging by
servings or by grams of the cooked dish."""

import pytest
from django.db import IntegrityError, connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.nutrition.models import DiaryEntry, Food, Meal
from tests.nutrition.factories import MealFactory, MealItemFactory, PublicFoodFactory

pytestmark = pytest.mark.django_db
MEALS = reverse("meals-list")


def detail(meal_id) -> str:
    return reverse("meals-detail", args=[meal_id])


def log_url(meal_id) -> str:
    return reverse("meals-log", args=[meal_id])


def errors(response) -> list[tuple[str | None, str]]:
    return [(error["attr"], error["code"]) for error in response.json()["errors"]]


@pytest.fixture
def stew(user):
    """A stew of 400 g of beef (250 kcal/100 g) and 600 g of potatoes (80 kcal/100 g) making
    4 servings and weighing 800 g cooked (water boils off): 1480 kcal, 370 a serving."""
    meal = MealFactory(user=user, name="Stew", servings=4, cooked_weight_g=800)
    MealItemFactory(meal=meal, food=PublicFoodFactory(energy_kcal=250, protein_g=26), grams=400, position=0)
    MealItemFactory(meal=meal, food=PublicFoodFactory(energy_kcal=80, protein_g=2), grams=600, position=1)
    return meal


def test_a_recipe_shows_its_totals_and_per_serving_nutrients(auth_client, stew):
    body = auth_client.get(detail(stew.pk)).json()
    assert (body["servings"], body["cooked_weight_g"], body["total_grams"]) == (4, 800, 1000)
    assert (body["totals"]["energy_kcal"], body["totals"]["protein_g"]) == (1480, 116)
    assert (body["per_serving"]["energy_kcal"], body["per_serving"]["protein_g"]) == (370, 29)
    assert set(body["per_serving"]) == set(body["totals"])


def test_a_meal_saved_without_servings_makes_one(auth_client):
    food = PublicFoodFactory(energy_kcal=100)
    response = auth_client.post(MEALS, {"name": "Toast", "items": [{"food": str(food.pk), "grams": 50}]}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["servings"], body["cooked_weight_g"], body["per_serving"]) == (1, None, body["totals"])


def test_servings_and_cooked_weight_are_saved_and_changed(auth_client):
    food = PublicFoodFactory(energy_kcal=100)
    body = {"name": "Soup", "servings": 6, "cooked_weight_g": 1800, "items": [{"food": str(food.pk), "grams": 1200}]}
    created = auth_client.post(MEALS, body, format="json").json()
    assert (created["servings"], created["cooked_weight_g"], created["per_serving"]["energy_kcal"]) == (6, 1800, 200)

    changed = auth_client.patch(detail(created["id"]), {"servings": 8, "cooked_weight_g": None}, format="json").json()

    assert (changed["servings"], changed["cooked_weight_g"], changed["per_serving"]["energy_kcal"]) == (8, None, 150)
    assert len(changed["items"]) == 1


def test_logging_servings_puts_that_share_of_every_item_in_the_diary(auth_client, stew):
    response = auth_client.post(
        log_url(stew.pk), {"servings": 1.5, "consumed_at": "2026-11-20T19:00:00Z"}, format="json"
    )
    assert response.status_code == 201, response.content
    entries = response.json()["entries"]
    assert [(entry["grams"], entry["energy_kcal"]) for entry in entries] == [(150, 375), (225, 180)]
    assert sum(entry["energy_kcal"] for entry in entries) == 1.5 * 370


def test_logging_grams_of_the_cooked_dish_takes_their_share_of_it(auth_client, stew):
    response = auth_client.post(log_url(stew.pk), {"grams": 200, "consumed_at": "2026-11-20T19:00:00Z"}, format="json")
    assert response.status_code == 201, response.content
    entries = response.json()["entries"]
    # 200 g of 800 g cooked: a quarter of each raw item.
    assert [(entry["grams"], entry["energy_kcal"]) for entry in entries] == [(100, 250), (150, 120)]


def test_the_entries_keep_their_snapshot_when_the_recipe_changes(auth_client, stew):
    entries = auth_client.post(log_url(stew.pk), {"servings": 1}, format="json").json()["entries"]
    auth_client.patch(detail(stew.pk), {"servings": 2}, format="json")
    Food.objects.filter(pk__in=stew.items.values("food")).update(energy_kcal=999)
    assert [DiaryEntry.objects.get(pk=entry["id"]).energy_kcal for entry in entries] == [250, 120]


def test_scale_still_works_for_older_clients(auth_client, stew):
    entries = auth_client.post(log_url(stew.pk), {"scale": 0.5}, format="json").json()["entries"]
    assert [entry["grams"] for entry in entries] == [200, 300]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"servings": 1, "grams": 100}, [("grams", "invalid")]),
        ({"servings": 1, "scale": 2}, [("scale", "invalid")]),
        ({"grams": 100, "scale": 2}, [("scale", "invalid")]),
        ({"servings": 0}, [("servings", "min_value")]),
        ({"servings": -1}, [("servings", "min_value")]),
        ({"servings": 1e9}, [("servings", "max_value")]),
        ({"servings": "2"}, [("servings", "invalid")]),
        ({"servings": True}, [("servings", "invalid")]),
        ({"grams": 0}, [("grams", "min_value")]),
        ({"grams": None}, [("grams", "null")]),
        # 1000 servings of a 4-serving stew: 100 kg of beef, over the diary's limit.
        ({"servings": 1000}, [("servings", "invalid")]),
    ],
)
def test_bad_amounts_are_400s_naming_the_field(auth_client, stew, body, expected):
    response = auth_client.post(log_url(stew.pk), body, format="json")
    assert response.status_code == 400
    assert errors(response) == expected
    assert not DiaryEntry.objects.exists()


def test_grams_need_a_cooked_weight(auth_client, user):
    meal = MealItemFactory(meal=MealFactory(user=user)).meal
    response = auth_client.post(log_url(meal.pk), {"grams": 100}, format="json")
    assert errors(response) == [("grams", "no_cooked_weight")]


@pytest.mark.parametrize(
    ("body", "attr", "code"),
    [
        ({"servings": 0}, "servings", "min_value"),
        ({"servings": None}, "servings", "null"),
        ({"servings": "many"}, "servings", "invalid"),
        ({"cooked_weight_g": 0}, "cooked_weight_g", "min_value"),
        ({"cooked_weight_g": 1e12}, "cooked_weight_g", "max_value"),
        ({"cooked_weight_g": "800"}, "cooked_weight_g", "invalid"),
    ],
)
def test_bad_recipe_fields_are_400s(auth_client, stew, body, attr, code):
    response = auth_client.patch(detail(stew.pk), body, format="json")
    assert response.status_code == 400
    assert errors(response) == [(attr, code)]


def test_the_database_refuses_a_recipe_without_servings():
    meal = MealFactory()
    with pytest.raises(IntegrityError):
        Meal.objects.filter(pk=meal.pk).update(servings=0)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    body=st.dictionaries(
        st.sampled_from(["servings", "grams", "scale", "meal", "consumed_at"]),
        st.one_of(
            st.none(),
            st.booleans(),
            st.integers(min_value=-(10**20), max_value=10**20),
            st.floats(allow_nan=False, allow_infinity=False),
            st.text(max_size=8),
        ),
    )
)
def test_any_log_body_is_a_201_or_a_400(auth_client, stew, body):
    response = auth_client.post(log_url(stew.pk), body, format="json")
    assert response.status_code in (201, 400), response.content


@pytest.mark.parametrize("items", [1, 12])
def test_the_list_of_recipes_costs_the_same_queries(auth_client, user, items):
    for index in range(3):
        meal = MealFactory(user=user, servings=index + 1)
        for position in range(items):
            MealItemFactory(meal=meal, position=position)
    with CaptureQueriesContext(connection) as captured:
        response = auth_client.get(MEALS)
    assert response.status_code == 200
    assert len(captured.captured_queries) == 2  # the page with its totals (and count), the items with foods
