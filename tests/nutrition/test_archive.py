"""Foods and portions in use are archived, not deleted: what uses them keeps working, nothing
new can use them, search leaves them out; portions keep their ids when a food is edited."""

import pytest
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.nutrition.models import DiaryEntry, Food, FoodPortion, MealItem
from tests.conftest import client_for
from tests.nutrition.factories import (
    CustomFoodFactory,
    FoodPortionFactory,
    MealFactory,
    MealItemFactory,
    PublicFoodFactory,
)
from tests.users.factories import UserFactory

pytestmark = pytest.mark.django_db
FOODS = reverse("foods-list")
DIARY = reverse("diary-list")
MEALS = reverse("meals-list")
WHEN = {"meal": "lunch", "consumed_at": "2026-11-21T12:00:00Z"}


def food_url(food) -> str:
    return reverse("foods-detail", args=[food.pk])


def errors(response) -> list[tuple[str, str]]:
    assert response.status_code == 400, response.content
    return [(error["attr"], error["code"]) for error in response.json()["errors"]]


def found(client, query: str) -> list[str]:
    return [food["name"] for food in client.get(FOODS, {"search": query}).json()["results"]]


def test_deleting_a_custom_food_in_use_archives_it_and_its_uses_keep_working(auth_client, user):
    food = CustomFoodFactory(user=user, name="Granola", energy_kcal=400)
    entry = auth_client.post(DIARY, {"food": str(food.pk), "grams": 50, **WHEN}).json()
    meal = auth_client.post(MEALS, {"name": "Breakfast", "items": [{"food": str(food.pk), "grams": 60}]}).json()
    assert auth_client.delete(food_url(food)).status_code == 204

    shown = auth_client.get(food_url(food))
    assert shown.status_code == 200
    assert shown.json()["archived_at"] is not None
    assert found(auth_client, "granola") == []
    assert auth_client.get(FOODS, {"search": ""}).json()["count"] == 0
    # The meal still has it, with its totals, and can be logged and edited with it.
    kept = auth_client.get(reverse("meals-detail", args=[meal["id"]])).json()
    assert ([item["food"] for item in kept["items"]], kept["totals"]["energy_kcal"]) == ([str(food.pk)], 240)
    assert auth_client.post(reverse("meals-log", args=[meal["id"]]), {}).status_code == 201
    renamed = {"name": "Brunch", "items": [{"food": str(food.pk), "grams": 70}]}
    assert auth_client.patch(reverse("meals-detail", args=[meal["id"]]), renamed).status_code == 200
    # The entry still has it, and its amount can still change.
    changed = auth_client.patch(reverse("diary-detail", args=[entry["id"]]), {"grams": 100})
    assert (changed.status_code, changed.json()["food"], changed.json()["energy_kcal"]) == (200, str(food.pk), 400)
    # Nothing new may use it.
    assert errors(auth_client.post(DIARY, {"food": str(food.pk), "grams": 50, **WHEN})) == [("food", "archived")]
    other = auth_client.post(DIARY, {"food": str(PublicFoodFactory().pk), "grams": 5, **WHEN}).json()
    moved = auth_client.patch(reverse("diary-detail", args=[other["id"]]), {"food": str(food.pk)})
    assert errors(moved) == [("food", "archived")]
    new_meal = {"name": "Lunch", "items": [{"food": str(PublicFoodFactory().pk), "grams": 5}]}
    new_meal["items"].append({"food": str(food.pk), "grams": 10})
    assert errors(auth_client.post(MEALS, new_meal)) == [("items.1.food", "archived")]
    preference = {"food": str(food.pk), "favorite": True}
    assert errors(auth_client.post(reverse("food-preferences-list"), preference)) == [("food", "archived")]


def test_a_food_used_by_nothing_is_deleted(auth_client, user):
    unused = CustomFoodFactory(user=user)
    FoodPortionFactory(food=unused)
    assert auth_client.delete(food_url(unused)).status_code == 204
    assert auth_client.get(food_url(unused)).status_code == 404
    assert not FoodPortion.objects.filter(food_id=unused.pk).exists()
    # An archived food is deleted once nothing uses it any more.
    used = CustomFoodFactory(user=user)
    entry = auth_client.post(DIARY, {"food": str(used.pk), "grams": 50, **WHEN}).json()
    assert auth_client.delete(food_url(used)).status_code == 204
    assert Food.objects.get(pk=used.pk).archived_at is not None
    assert auth_client.delete(reverse("diary-detail", args=[entry["id"]])).status_code == 204
    assert auth_client.delete(food_url(used)).status_code == 204
    assert not Food.objects.filter(pk=used.pk).exists()


def test_deleting_the_account_still_removes_its_foods_and_what_uses_them(auth_client, user):
    from tests.users.factories import PASSWORD

    food = CustomFoodFactory(user=user)
    portion = FoodPortionFactory(food=food)
    auth_client.post(DIARY, {"food": str(food.pk), "portion": portion.pk, **WHEN})
    auth_client.post(MEALS, {"name": "Breakfast", "items": [{"food": str(food.pk), "grams": 60}]})
    assert auth_client.delete(reverse("users-me"), {"password": PASSWORD}).status_code == 204
    assert not Food.objects.filter(pk=food.pk).exists()
    assert not DiaryEntry.objects.exists()


@pytest.fixture
def staff_client():
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def test_deleting_a_public_food_in_the_admin_archives_it_when_a_meal_uses_it(staff_client):
    used = PublicFoodFactory(name="Kale, raw")
    item = MealItemFactory(meal=MealFactory(), food=used)
    unused = PublicFoodFactory(name="Spinach, raw")
    page = staff_client.get(reverse("admin:nutrition_food_delete", args=[used.pk]))
    assert page.status_code == 200
    assert b"archived, not deleted" in page.content
    assert b"Cannot delete" not in page.content
    response = staff_client.post(reverse("admin:nutrition_food_delete", args=[used.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert Food.objects.get(pk=used.pk).archived_at is not None
    assert MealItem.objects.filter(pk=item.pk, food=used).exists()
    # The bulk action too; a food nothing uses is deleted.
    action = {"action": "delete_selected", "_selected_action": [used.pk, unused.pk], "post": "yes"}
    assert staff_client.post(reverse("admin:nutrition_food_changelist"), action).status_code == 302
    assert list(Food.objects.values_list("name", flat=True)) == ["Kale, raw"]
    assert MealItem.objects.filter(pk=item.pk).exists()


def test_a_portion_diary_entries_use_cannot_be_deleted_in_the_admin(staff_client):
    food = PublicFoodFactory(name="Kale, raw")
    portion = FoodPortionFactory(food=food)
    DiaryEntry.objects.create(
        user=UserFactory(), food=food, portion=portion, quantity=1, grams=portion.grams, label=food.name, **WHEN,
        local_date="2026-11-21",
    )  # fmt: skip
    form = {
        "name": food.name, "brand": "", "barcode": "", "food_group": "", "source": "usda", "source_id": food.source_id,
        "portions-TOTAL_FORMS": 1, "portions-INITIAL_FORMS": 1, "portions-MIN_NUM_FORMS": 0,
        "portions-MAX_NUM_FORMS": 1000, "portions-0-id": portion.pk, "portions-0-food": food.pk,
        "portions-0-position": 1, "portions-0-seq": portion.seq, "portions-0-description": "1 cup",
        "portions-0-grams": portion.grams, "portions-0-DELETE": "on",
    }  # fmt: skip
    response = staff_client.post(reverse("admin:nutrition_food_change", args=[food.pk]), form)
    assert response.status_code == 200  # the form again, with the error
    assert b"would require deleting the following protected related objects" in response.content
    assert FoodPortion.objects.filter(pk=portion.pk).exists()


def test_portions_keep_their_ids_and_a_removed_one_in_use_is_archived(auth_client, user):
    created = auth_client.post(
        FOODS,
        {
            "name": "Bagel",
            "energy_kcal": 250,
            "portions": [{"description": "1 small", "grams": 70}, {"description": "1 large", "grams": 130}],
        },
    ).json()
    small, large = [portion["id"] for portion in created["portions"]]
    food = Food.objects.get(pk=created["id"])
    entry = auth_client.post(DIARY, {"food": str(food.pk), "portion": small, "quantity": 2, **WHEN}).json()
    unused = FoodPortionFactory(food=food, seq=9, position=3)

    portions = [{"id": large, "description": "1 large", "grams": 125}, {"description": "1 slice", "grams": 30}]
    edited = auth_client.patch(food_url(food), {"portions": portions})
    assert edited.status_code == 200, edited.content
    shown = [
        (p["id"] == large, p["description"], p["grams"], p["archived_at"] is None) for p in edited.json()["portions"]
    ]
    assert shown[:2] == [(True, "1 large", 125, True), (False, "1 slice", 30, True)]
    assert [(p["id"], p["archived_at"] is None) for p in edited.json()["portions"][2:]] == [(small, False)]
    assert not FoodPortion.objects.filter(pk=unused.pk).exists()  # nothing used it
    # The entry keeps its portion and nutrients, and its quantity can still change.
    entry_url = reverse("diary-detail", args=[entry["id"]])
    assert auth_client.get(entry_url).json()["portion"] == small
    requantified = auth_client.patch(entry_url, {"quantity": 1})
    assert (requantified.status_code, requantified.json()["grams"], requantified.json()["portion"]) == (200, 70, small)
    # Search offers only the portions that can be logged.
    [listed] = auth_client.get(FOODS, {"search": "bagel"}).json()["results"]
    assert [p["description"] for p in listed["portions"]] == ["1 large", "1 slice"]
    # Nothing new may use the archived portion, nor may an edit bring it back by id.
    log_small = {"food": str(food.pk), "portion": small, **WHEN}
    assert errors(auth_client.post(DIARY, log_small)) == [("portion", "archived")]
    back = [{"id": small, "description": "1 small", "grams": 70}]
    assert errors(auth_client.patch(food_url(food), {"portions": back})) == [("portions.0.id", "archived")]


@pytest.mark.parametrize(
    ("portions", "expected"),
    [
        ([{"id": 999999, "description": "1 cup", "grams": 5}], [("portions.0.id", "does_not_exist")]),
        ("twice", [("portions.1.id", "unique")]),
        ("someone else's", [("portions.0.id", "does_not_exist")]),
    ],
)
def test_portion_ids_must_be_the_foods_own(auth_client, user, portions, expected):
    food = CustomFoodFactory(user=user)
    mine = FoodPortionFactory(food=food)
    theirs = FoodPortionFactory(food=CustomFoodFactory())
    if portions == "twice":
        portions = [{"id": mine.pk, "description": "a", "grams": 1}, {"id": mine.pk, "description": "b", "grams": 2}]
    elif portions == "someone else's":
        portions = [{"id": theirs.pk, "description": "mine now", "grams": 1}]
    assert errors(auth_client.patch(food_url(food), {"portions": portions})) == expected
    theirs.refresh_from_db()
    assert theirs.description == "1 cup"


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_sequence_of_portion_edits_keeps_ids_and_entries_portions(db, data):
    user = UserFactory()
    client = client_for(user)
    food = CustomFoodFactory(user=user, energy_kcal=100)
    active: list[dict] = []  # the food's portions, as the client last saw them
    entries: dict[str, int] = {}  # entry id -> its portion
    weights = st.integers(min_value=1, max_value=500).map(float)
    for _ in range(data.draw(st.integers(min_value=1, max_value=5), label="steps")):
        if active and data.draw(st.booleans(), label="log"):
            portion = data.draw(st.sampled_from(active), label="portion")
            body = {"food": str(food.pk), "portion": portion["id"], **WHEN}
            logged = client.post(DIARY, body)
            assert logged.status_code == 201, logged.content
            entries[logged.json()["id"]] = portion["id"]
            continue
        kept = data.draw(st.permutations(active), label="order")[: data.draw(st.integers(0, len(active)))]
        sent = [{"id": p["id"], "description": p["description"], "grams": data.draw(weights)} for p in kept]
        for _ in range(data.draw(st.integers(0, 3), label="new")):
            at = data.draw(st.integers(0, len(sent)), label="at")
            sent.insert(at, {"description": f"new {len(entries)}", "grams": data.draw(weights)})
        edited = client.patch(food_url(food), {"portions": sent})
        assert edited.status_code == 200, edited.content
        shown = edited.json()["portions"]
        now_active = [p for p in shown if p["archived_at"] is None]
        assert [(p["description"], p["grams"]) for p in now_active] == [(p["description"], p["grams"]) for p in sent]
        assert [p["id"] for p, s in zip(now_active, sent, strict=True) if "id" in s] == [s["id"] for s in kept]
        removed = {p["id"] for p in active} - {p["id"] for p in kept}
        archived = {p["id"] for p in shown if p["archived_at"] is not None}
        used = set(entries.values())
        assert removed & used <= archived
        assert not FoodPortion.objects.filter(pk__in=removed - used).exists()
        active = now_active
    for entry_id, portion_id in entries.items():
        portion = FoodPortion.objects.get(pk=portion_id)
        assert portion.food_id == food.pk
        changed = client.patch(reverse("diary-detail", args=[entry_id]), {"quantity": 2})
        assert changed.status_code == 200, changed.content
        assert (changed.json()["portion"], changed.json()["grams"]) == (portion_id, portion.grams * 2)
    seqs = list(FoodPortion.objects.filter(food=food).values_list("seq", flat=True))
    assert len(seqs) == len(set(seqs))
