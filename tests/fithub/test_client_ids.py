"""A create re-sent with an id the caller already has: the body is validated, and it must
describe the stored row (200 with that row) or it is a 409; nothing is written either way."""

import datetime as dt

import pytest
from django.urls import reverse

from tests.nutrition.factories import FoodPortionFactory, PublicFoodFactory

pytestmark = pytest.mark.django_db
ROW_ID = "0193a1c2-7e5f-7a3b-8c4d-2e1f0a9b8c7d"
LATER = (dt.date.today() + dt.timedelta(days=90)).isoformat()  # noqa: DTZ011 - a date well ahead


# url name: (food, portion) -> (body, a change of it, an invalid change of it)
CASES = {
    "foods": lambda food, portion: (
        {
            "name": "Granola",
            "energy_kcal": 471,
            "barcode": " 123456 ",
            "portions": [{"description": "1 bowl", "grams": 60}],
        },
        {"portions": [{"description": "1 bowl", "grams": 65}]},
        {"energy_kcal": -1},
    ),
    "food-preferences": lambda food, portion: (
        {"food": str(food.pk), "favorite": True},
        {"favorite": False, "dislike": True},
        {"food": "nope"},
    ),
    "meals": lambda food, portion: (
        {
            "name": "Breakfast",
            "weekdays": ["friday", "monday", "friday"],
            "items": [{"food": str(food.pk), "grams": 50}],
        },
        {"items": [{"food": str(food.pk), "grams": 60}]},
        {"items": [{"food": str(food.pk), "grams": 0}]},
    ),
    "diary": lambda food, portion: (
        {
            "food": str(food.pk),
            "portion": portion.pk,
            "grams": None,
            "label": "ignored for a food",
            "meal": "lunch",
            "consumed_at": "2026-11-21T12:00:00+01:00",
        },
        {"quantity": 2},
        {"meal": "brunch"},
    ),
    "nutrition-target": lambda food, portion: (
        {"energy_kcal": 2100, "protein_g": 120, "effective_from": "2026-11-01"},
        {"energy_kcal": 2200},
        {"energy_kcal": 0},
    ),
    "measurement-type": lambda food, portion: (
        {"name": "Calf", "unit": "cm", "min_value": 10},
        {"unit": "mm"},
        {"name": ""},
    ),
    "measurement": lambda food, portion: (
        {"type": "weight", "value": 160, "unit": "lb", "measured_at": "2026-11-20T07:00:00Z"},
        {"unit": "kg"},
        {"value": "NaN"},
    ),
    "goal": lambda food, portion: (
        {"type": "weight", "start_value": 80, "target_value": 75, "target_date": LATER},
        {"target_value": 74},
        {"target_date": "soon"},
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_a_resent_id_must_describe_the_stored_row(auth_client, builtin_types, name):
    food = PublicFoodFactory()
    portion = FoodPortionFactory(food=food, grams=40)
    made, change, invalid = CASES[name](food, portion)
    url = reverse(f"{name}-list")
    body = {"id": ROW_ID, **made}
    first = auth_client.post(url, body)
    assert first.status_code == 201, first.content
    again = auth_client.post(url, body)
    assert (again.status_code, again.json()) == (200, first.json())

    differs = auth_client.post(url, {**body, **change})
    assert differs.status_code == 409, differs.content
    assert [(e["code"], e["attr"]) for e in differs.json()["errors"]] == [("conflict", None)]
    bad = auth_client.post(url, {**body, **invalid})
    assert bad.status_code == 400, bad.content
    assert bad.json()["type"] == "validation_error"
    assert auth_client.get(reverse(f"{name}-detail", args=[ROW_ID])).json() == first.json()


def test_the_conflict_names_the_fields_that_differ(auth_client):
    body = {"id": ROW_ID, "name": "Granola", "energy_kcal": 471, "brand": "Home"}
    assert auth_client.post(reverse("foods-list"), body).status_code == 201
    response = auth_client.post(reverse("foods-list"), {**body, "energy_kcal": 480, "brand": "Shop"})
    assert response.status_code == 409
    assert "brand, energy_kcal" in response.json()["errors"][0]["detail"]
