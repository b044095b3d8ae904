"""Malformed input of every kind answers 4xx in the standard error shape, never 500."""

import pytest
from django.urls import reverse

from tests.nutrition.factories import FoodPortionFactory, MealFactory, PublicFoodFactory, QuickAddEntryFactory

pytestmark = pytest.mark.django_db
WHEN = {"meal": "lunch", "consumed_at": "2026-01-01T00:00:00Z"}


def test_malformed_input_is_a_client_error(auth_client, user):
    food = PublicFoodFactory()
    portion = FoodPortionFactory(food=food)
    entry = QuickAddEntryFactory(user=user)
    meal = MealFactory(user=user)
    quick = {"label": "x", "energy_kcal": 1}
    diary, foods, meals = reverse("diary-list"), reverse("foods-list"), reverse("meals-list")
    entry_url = reverse("diary-detail", args=[entry.pk])
    cases = [
        ("get", foods, {"search": "a\x00b"}),
        ("get", foods, {"barcode": "\x00"}),
        ("get", foods, {"search": "x" * 5000}),
        ("get", diary, {"cursor": "zzz"}),
        ("get", diary, {"date": "\x00"}),
        ("get", reverse("diary-summary"), {"start": "\x00", "end": "2026-01-01"}),
        ("get", reverse("meals-planned"), {"date": "99999-01-01"}),
        ("post", diary, {"food": 5, "grams": 1, **WHEN}),
        ("post", diary, {"food": str(food.pk), "portion": "abc", **WHEN}),
        ("post", diary, {"food": str(food.pk), "portion": portion.pk, "quantity": 1e308, **WHEN}),
        ("post", diary, {"food": [1], "grams": {}, "meal": [], "consumed_at": 5}),
        ("post", diary, {**quick, "label": "x" * 300, **WHEN}),
        ("post", diary, {**quick, "label": "a\x00", **WHEN}),
        ("post", diary, {**quick, "meal": "lunch", "consumed_at": "0001-01-01T00:00:00+14:00"}),
        ("post", diary, {**quick, "meal": "lunch", "consumed_at": "9999-12-31T23:59:59-12:00"}),
        ("post", diary, {**quick, "id": "nope", **WHEN}),
        ("patch", entry_url, {"food": None, "label": ""}),
        ("patch", entry_url, {"quantity": 2}),
        ("patch", entry_url, {"portion": portion.pk}),
        ("patch", entry_url, {"energy_kcal": None}),
        ("post", meals, {"name": "x", "items": [{"food": str(food.pk), "grams": 1e300}]}),
        ("post", meals, {"name": "x", "items": "abc"}),
        ("post", meals, {"name": "x", "weekdays": "monday"}),
        ("post", reverse("meals-log", args=[meal.pk]), {}),  # a meal with no items
        ("post", reverse("meals-log", args=["nope"]), {}),
        ("post", reverse("food-preferences-list"), {"food": None}),
        ("post", reverse("food-preferences-list"), {"food": str(food.pk), "favorite": "maybe"}),
        ("post", foods, {"name": "x", "portions": [{"description": "", "grams": 1}]}),
        ("post", foods, {"name": "x", "portions": [None]}),
        ("post", foods, {"name": "x", "barcode": "1" * 40}),
        ("patch", reverse("foods-detail", args=["nope"]), {"name": "x"}),
    ]
    for method, url, data in cases:
        kwargs = {} if method == "get" else {"format": "json"}
        response = getattr(auth_client, method)(url, data, **kwargs)
        assert 400 <= response.status_code < 500, (method, url, data, response.content)
        assert response.json()["type"] in {"validation_error", "client_error"}
