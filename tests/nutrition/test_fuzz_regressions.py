"""Inputs the schema fuzzer (tests/fithub/test_fuzz.py) found: each answers a 400 whose
`attr` and `code` the operation's documented 400 response lists, never a 500."""

import uuid

import pytest
from django.urls import reverse

from tests.nutrition.factories import (
    CustomFoodFactory,
    FoodPortionFactory,
    MealFactory,
    MealItemFactory,
    PublicFoodFactory,
)
from tests.schema_errors import documented_400, is_documented, schema

pytestmark = pytest.mark.django_db
WHEN = {"meal": "lunch", "consumed_at": "2026-11-01T08:30:00Z"}


def assert_documented(response, path: str, method: str) -> list[dict]:
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["type"] == "validation_error"
    for error in body["errors"]:
        assert is_documented(error["attr"], error["code"], path, method), (error, documented_400(path, method))
    return body["errors"]


def test_diary_entry_with_neither_food_nor_quick_add(auth_client):
    errors = assert_documented(auth_client.post(reverse("diary-list"), WHEN, format="json"), "/api/v1/diary/", "post")
    assert [(e["attr"], e["code"]) for e in errors] == [("food", "invalid")]


def test_diary_entry_whose_local_day_overflows(auth_client, user):
    """Refused as more than a day ahead before any local-day arithmetic overflows."""
    user.timezone = "Pacific/Kiritimati"  # UTC+14: 9999-12-31T23:00Z is in year 10000 there.
    user.save()
    data = {"label": "x", "energy_kcal": 1, "meal": "lunch", "consumed_at": "9999-12-31T23:00:00Z"}
    errors = assert_documented(auth_client.post(reverse("diary-list"), data, format="json"), "/api/v1/diary/", "post")
    assert [(e["attr"], e["code"]) for e in errors] == [("consumed_at", "future")]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"end": "2026-11-21"}, ("start", "required")),
        ({"start": "2020-01-01", "end": "2026-11-21"}, ("end", "range_too_long")),
        ({"start": "2026-11-21", "end": "nope"}, ("end", "invalid")),
    ],
)
def test_summary_query_errors_are_documented(auth_client, query, expected):
    response = auth_client.get(reverse("diary-summary"), query)
    errors = assert_documented(response, "/api/v1/diary/summary/", "get")
    assert (errors[0]["attr"], errors[0]["code"]) == expected


def test_planned_day_without_date(auth_client):
    errors = assert_documented(auth_client.get(reverse("meals-planned")), "/api/v1/meals/planned/", "get")
    assert [(e["attr"], e["code"]) for e in errors] == [("date", "required")]


def test_food_search_too_long(auth_client):
    response = auth_client.get(reverse("foods-list"), {"search": "0" * 201})
    errors = assert_documented(response, "/api/v1/foods/", "get")
    assert [(e["attr"], e["code"]) for e in errors] == [("search", "max_length")]


@pytest.mark.parametrize("food", [{}, [], "not-a-uuid"])
def test_preference_for_a_malformed_food_id(auth_client, food):
    data = {"food": food, "favorite": False, "dislike": False, "allergy": True}
    response = auth_client.post(reverse("food-preferences-list"), data, format="json")
    errors = assert_documented(response, "/api/v1/food-preferences/", "post")
    assert [(e["attr"], e["code"]) for e in errors] == [("food", "incorrect_type")]


def test_custom_food_portion_errors_name_the_item(auth_client):
    portions = [{"description": "1 bowl", "grams": 60}, {"grams": 1}, {"description": "a\x00"}]
    data = {"name": "Granola", "portions": portions}
    errors = assert_documented(auth_client.post(reverse("foods-list"), data, format="json"), "/api/v1/foods/", "post")
    assert [(e["attr"], e["code"]) for e in errors] == [
        ("portions.1.description", "required"),
        ("portions.2.description", "null_characters_not_allowed"),
        ("portions.2.grams", "required"),
    ]


def test_meal_with_an_unknown_food_and_weekday(auth_client):
    data = {
        "name": "Chicken and rice",
        "slot": "lunch",
        "weekdays": ["monday", "someday"],
        "items": [{"food": str(uuid.uuid4()), "grams": 150}],
    }
    errors = assert_documented(auth_client.post(reverse("meals-list"), data, format="json"), "/api/v1/meals/", "post")
    assert sorted((e["attr"], e["code"]) for e in errors) == [
        ("items.0.food", "does_not_exist"),
        ("weekdays.1", "invalid_choice"),
    ]


def test_logging_a_meal_scaled_beyond_the_limit(auth_client, user):
    meal = MealFactory(user=user)
    MealItemFactory(meal=meal, food=PublicFoodFactory(), grams=50_000)
    url = reverse("meals-log", args=[meal.pk])
    errors = assert_documented(auth_client.post(url, {"scale": 3}, format="json"), "/api/v1/meals/{id}/log/", "post")
    assert [(e["attr"], e["code"]) for e in errors] == [("scale", "invalid")]


def test_logging_an_empty_meal(auth_client, user):
    meal = MealFactory(user=user)
    url = reverse("meals-log", args=[meal.pk])
    errors = assert_documented(auth_client.post(url, {}, format="json"), "/api/v1/meals/{id}/log/", "post")
    assert [(e["attr"], e["code"]) for e in errors] == [(None, "invalid")]


@pytest.mark.parametrize(
    ("portion", "missing"),
    [({"description": "0"}, ["grams"]), ({"grams": 30}, ["description"]), ({}, ["description", "grams"])],
)
def test_a_patched_food_portion_is_whole(auth_client, user, portion, missing):
    # A PATCH of the food is partial; the portions it sends replace the list: each is whole.
    food = CustomFoodFactory(user=user)
    kept = FoodPortionFactory(food=food, description="1 bowl", grams=60)
    url = reverse("foods-detail", args=[food.pk])
    response = auth_client.patch(url, {"name": "Granola", "portions": [{"id": kept.pk, **portion}]}, format="json")
    errors = assert_documented(response, "/api/v1/foods/{id}/", "patch")
    assert [(e["attr"], e["code"]) for e in errors] == [(f"portions.0.{name}", "required") for name in missing]
    kept.refresh_from_db()
    assert (kept.description, kept.grams) == ("1 bowl", 60)


def test_a_patched_meal_item_is_whole(auth_client, user):
    meal = MealFactory(user=user)
    url = reverse("meals-detail", args=[meal.pk])
    response = auth_client.patch(url, {"items": [{"food": str(PublicFoodFactory().pk)}]}, format="json")
    errors = assert_documented(response, "/api/v1/meals/{id}/", "patch")
    assert [(e["attr"], e["code"]) for e in errors] == [("items.0.grams", "required")]


@pytest.mark.parametrize(
    ("path", "method", "field"),
    [
        ("/api/v1/foods/", "post", "portions"),
        ("/api/v1/foods/{id}/", "patch", "portions"),
        ("/api/v1/meals/", "post", "items"),
        ("/api/v1/meals/{id}/", "patch", "items"),
        ("/api/v1/measurements/bulk/", "post", "items"),
    ],
)
def test_a_null_list_of_items_is_documented(auth_client, user, path, method, field):
    if "{id}" in path:
        row = CustomFoodFactory(user=user) if field == "portions" else MealFactory(user=user)
        url = path.replace("{id}", str(row.pk))
    else:
        url = path
    response = getattr(auth_client, method)(url, {field: None}, format="json")
    errors = assert_documented(response, path, method)
    assert (field, "null") in [(e["attr"], e["code"]) for e in errors]


@pytest.mark.parametrize("method", ["patch", "delete"])
def test_a_write_on_a_public_food_is_a_documented_403(auth_client, method):
    food = PublicFoodFactory()
    response = getattr(auth_client, method)(reverse("foods-detail", args=[food.pk]), {"name": "x"}, format="json")
    assert response.status_code == 403
    assert response.json()["errors"][0]["code"] == "permission_denied"
    assert "403" in schema()["paths"]["/api/v1/foods/{id}/"][method]["responses"]


@pytest.mark.parametrize(
    ("change", "attr"),
    [
        ({"sodium_mg": False}, "sodium_mg"),
        ({"grams": "200"}, "grams"),
        ({"label": 0}, "label"),
        ({"meal": 1}, "meal"),
        ({"grams": 200, "food": ""}, "food"),
    ],
)
def test_a_diary_patch_of_the_wrong_json_type_is_refused(auth_client, user, change, attr):
    # DRF alone took false as 0.0, "200" as 200.0, 0 as "0" and "" as no food.
    entry = auth_client.post(
        reverse("diary-list"), {"label": "Burrito", "energy_kcal": 850, "grams": 200, **WHEN}, format="json"
    ).json()
    url = reverse("diary-detail", args=[entry["id"]])
    errors = assert_documented(auth_client.patch(url, change, format="json"), "/api/v1/diary/{id}/", "patch")
    assert [e["attr"] for e in errors] == [attr]
    assert auth_client.get(url).json() == entry


def test_a_portion_description_of_the_wrong_json_type_is_refused(auth_client, user):
    food = CustomFoodFactory(user=user)
    url = reverse("foods-detail", args=[food.pk])
    response = auth_client.patch(url, {"portions": [{"description": 0, "grams": 1}]}, format="json")
    errors = assert_documented(response, "/api/v1/foods/{id}/", "patch")
    assert [(e["attr"], e["code"]) for e in errors] == [("portions.0.description", "invalid")]
