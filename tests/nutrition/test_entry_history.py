"""Edits keep history: a diary entry's nutrients change only when what was eaten changes."""

import datetime as dt

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.nutrition.models import NUTRIENT_FIELDS, MealSlot
from tests.conftest import client_for
from tests.nutrition.factories import CustomFoodFactory, FoodPortionFactory
from tests.users.factories import UserFactory

pytestmark = pytest.mark.django_db
DIARY = reverse("diary-list")
SAME = object()  # in a drawn PATCH: the value the entry already has


def detail(entry_id) -> str:
    return reverse("diary-detail", args=[entry_id])


def kept(body: dict) -> dict:
    return {key: body[key] for key in (*NUTRIENT_FIELDS, "label", "grams", "food", "portion", "quantity")}


def test_moving_an_entry_to_another_meal_keeps_its_nutrients(auth_client, user):
    food = CustomFoodFactory(user=user, name="Porridge", energy_kcal=100, protein_g=4)
    entry = auth_client.post(
        DIARY, {"food": str(food.pk), "grams": 200, "meal": "breakfast", "consumed_at": "2026-11-21T08:00:00Z"}
    ).json()
    assert auth_client.patch(reverse("foods-detail", args=[food.pk]), {"energy_kcal": 150}).status_code == 200
    moved = auth_client.patch(detail(entry["id"]), {"meal": "snack", "consumed_at": "2026-11-21T16:00:00Z"})
    assert moved.status_code == 200, moved.content
    assert (moved.json()["meal"], moved.json()["energy_kcal"], moved.json()["protein_g"]) == ("snack", 200, 8)
    # Changing the amount is a new record of what was eaten: the food as it is now.
    assert auth_client.patch(detail(entry["id"]), {"grams": 100}).json()["energy_kcal"] == 150


_patch_fields = st.fixed_dictionaries(
    {},
    optional={
        "meal": st.sampled_from(MealSlot.values),
        # hypothesis bounds are naive; the times drawn are in UTC.
        "consumed_at": st.datetimes(
            min_value=dt.datetime(2000, 1, 1),  # noqa: DTZ001
            max_value=dt.datetime(2026, 11, 1),  # noqa: DTZ001
            timezones=st.just(dt.UTC),
        ),
        "label": st.text(st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)), max_size=20),
        # The amount, sent again unchanged.
        "food": st.just(SAME),
        "amount": st.just(SAME),
    },
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    by_portion=st.booleans(),
    fields=_patch_fields,
    nutrients=st.tuples(*[st.floats(min_value=0, max_value=900, allow_nan=False)] * len(NUTRIENT_FIELDS)),
)
def test_any_patch_that_leaves_the_amount_alone_keeps_every_nutrient(db, by_portion, fields, nutrients):
    user = UserFactory()
    client = client_for(user)
    food = CustomFoodFactory(user=user)
    amount = {"grams": 120.0}
    if by_portion:
        portion = FoodPortionFactory(food=food, grams=35)
        amount = {"portion": portion.pk, "quantity": 1.5}
    when = {"meal": "lunch", "consumed_at": "2026-11-21T12:00:00Z"}
    logged = client.post(DIARY, {"food": str(food.pk), **amount, **when})
    assert logged.status_code == 201, logged.content
    before = logged.json()
    changed = client.patch(reverse("foods-detail", args=[food.pk]), dict(zip(NUTRIENT_FIELDS, nutrients, strict=True)))
    assert changed.status_code == 200, changed.content

    body = {key: value for key, value in fields.items() if key not in ("food", "amount")}
    if "consumed_at" in body:
        body["consumed_at"] = body["consumed_at"].isoformat()
    if "food" in fields:
        body["food"] = str(food.pk)
    if "amount" in fields:
        body.update(amount)
    response = client.patch(detail(before["id"]), body)
    assert response.status_code == 200, response.content
    after = response.json()
    assert kept(after) == kept(before)
    assert after["meal"] == body.get("meal", "lunch")
    again = client.get(detail(before["id"])).json()
    assert kept(again) == kept(before)
