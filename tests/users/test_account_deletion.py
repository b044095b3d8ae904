"""Deleting an account: each app deletes its rows in bulk (`apps.users.registry`), before
the user row; other accounts' rows and the public foods stay, and the number of statements
does not grow with the rows."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.goals.models import Goal
from apps.measurements.models import Measurement, MeasurementType
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
from apps.users import registry, services
from apps.users.models import SecurityEvent, User
from fithub.models import IdempotencyRecord, Session
from tests.conftest import client_for, tokens_for
from tests.goals.factories import GoalFactory
from tests.measurements.factories import MeasurementFactory, MeasurementTypeFactory
from tests.nutrition.factories import (
    CustomFoodFactory,
    FoodPortionFactory,
    FoodPreferenceFactory,
    MealFactory,
    MealItemFactory,
    PublicFoodFactory,
    QuickAddEntryFactory,
    WaterEntryFactory,
)
from tests.users.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

ME = reverse("users-me")
OWNED = [DiaryEntry, Food, FoodPortion, FoodPreference, Meal, MealItem, NutritionTarget, Measurement, MeasurementType]
OWNED += [Goal, Session, IdempotencyRecord, WaterEntry]


def check_foreign_keys() -> None:
    """PostgreSQL checks Django's foreign keys at commit (DEFERRABLE INITIALLY DEFERRED), and a
    test's transaction never commits: check them now. An IntegrityError is a dangling id."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")


OWNER_PATH = {FoodPortion: "food__user", MealItem: "meal__user"}


def rows(model, *, not_of=None) -> set:
    queryset = model._base_manager.all()
    if not_of is not None:
        queryset = queryset.exclude(**{OWNER_PATH.get(model, "user"): not_of})
    return set(queryset.values_list("pk", flat=True))


def fill(owner, public: Food, *, entries: int = 1) -> dict:
    """An account with a row of every kind: a custom food with a portion, preferences, a saved
    meal, entries (public food, custom food by portion, quick-add, from the meal), a target,
    a custom type, measurements and goals, a session and an idempotency record."""
    food = CustomFoodFactory(user=owner)
    portion = FoodPortionFactory(food=food)
    FoodPreferenceFactory(user=owner, food=public, favorite=True)
    FoodPreferenceFactory(user=owner, food=food, allergy=True)
    meal = MealFactory(user=owner)
    MealItemFactory(meal=meal, food=public)
    MealItemFactory(meal=meal, food=food)
    for _ in range(entries):
        QuickAddEntryFactory(user=owner)
        QuickAddEntryFactory(user=owner, food=public, label=public.name, grams=100)
        QuickAddEntryFactory(user=owner, food=food, portion=portion, quantity=2, grams=480, label=food.name)
        QuickAddEntryFactory(user=owner, food=food, grams=50, label=food.name, saved_meal=meal)
        MealItemFactory(meal=meal, food=food)
        WaterEntryFactory(user=owner)
    NutritionTarget.objects.create(user=owner, energy_kcal=2000, effective_from="2026-11-01")
    calf = MeasurementTypeFactory(user=owner, name="Calf")
    for index in range(entries):
        MeasurementFactory(user=owner)
        MeasurementFactory(user=owner, type=calf, value=Decimal(38 + index % 3))
    GoalFactory(user=owner)
    GoalFactory(user=owner, type=calf, start_value=38, target_value=40, status=Goal.Status.ABANDONED)
    GoalFactory(user=owner, type=calf, start_value=38, target_value=41)
    tokens_for(owner)
    IdempotencyRecord.objects.create(user=owner, key="k1", fingerprint="f")
    return {"food": food, "portion": portion, "meal": meal, "type": calf}


def test_every_row_of_the_account_goes_and_nothing_else(auth_client, user, builtin_types):
    public = PublicFoodFactory()
    public_portion = FoodPortionFactory(food=public)
    other = UserFactory()
    fill(other, public)
    fill(user, public)
    others = {model: rows(model, not_of=user) for model in OWNED}
    public_foods, builtins = rows(Food, not_of=user), rows(MeasurementType, not_of=user)
    QuickAddEntryFactory(user=user, food=public, portion=public_portion, quantity=1, grams=240, label="x")

    response = auth_client.delete(ME, {"password": PASSWORD})

    assert response.status_code == 204
    check_foreign_keys()
    assert not User.objects.filter(pk=user.pk).exists()
    for model in OWNED:
        assert rows(model) == others[model], model.__name__
    assert public_foods <= rows(Food)
    assert FoodPortion.objects.filter(pk=public_portion.pk).exists()
    assert builtins <= rows(MeasurementType)
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.ACCOUNT_DELETED, email=user.email).count() == 1
    assert client_for(other).get(reverse("diary-list")).status_code == 200


def test_each_app_registers_its_deleter_dependent_apps_first():
    modules = [deleter.__module__ for deleter in registry.account_deleters()]
    assert modules == ["apps.goals.account", "apps.measurements.account", "apps.nutrition.account"]


def test_the_statements_do_not_grow_with_the_rows(builtin_types):
    public = PublicFoodFactory()
    few, many = UserFactory(), UserFactory()
    fill(few, public, entries=1)
    fill(many, public, entries=50)
    assert DiaryEntry.objects.filter(user=many).count() == 200
    counts = []
    for user in (few, many):
        with CaptureQueriesContext(connection) as queries:
            services.delete_account(user=user, password=PASSWORD)
        counts.append(len(queries))
        # Rows are deleted by the database, never read into Python first (Django's Collector
        # read every entry that used a custom food, to check RESTRICT).
        reads = [query["sql"] for query in queries if query["sql"].startswith('SELECT "nutrition_diaryentry"')]
        assert not reads
    check_foreign_keys()
    assert counts[0] == counts[1], counts
    assert counts[1] <= 45, counts


def test_the_bound_holds_through_the_endpoint(auth_client, user, builtin_types, django_assert_max_num_queries):
    fill(user, PublicFoodFactory(), entries=20)
    with django_assert_max_num_queries(50):
        assert auth_client.delete(ME, {"password": PASSWORD}).status_code == 204
    check_foreign_keys()


def test_a_wrong_password_deletes_nothing(auth_client, user, builtin_types):
    fill(user, PublicFoodFactory())
    before = {model: rows(model) for model in OWNED}
    assert auth_client.delete(ME, {"password": "not it"}).status_code == 400
    assert {model: rows(model) for model in OWNED} == before


def test_rows_of_the_account_that_other_accounts_use_are_archived_without_an_owner(auth_client, user, builtin_types):
    """Only the admin can link another account's rows to a custom food, meal or type of the
    user's (the API finds only public and own ones); the RESTRICT keys must not make the
    deletion fail (it was a RestrictedError, a 500): what others use stays, archived."""
    mine = fill(user, PublicFoodFactory())
    unused = CustomFoodFactory(user=user)
    other = UserFactory()
    by_food = QuickAddEntryFactory(user=other, food=mine["food"], grams=50, label="theirs")
    by_portion_only = CustomFoodFactory(user=user)
    portion = FoodPortionFactory(food=by_portion_only)
    by_portion = QuickAddEntryFactory(user=other, portion=portion, quantity=1, grams=240, label="theirs")
    from_meal = QuickAddEntryFactory(user=other, saved_meal=mine["meal"])
    their_meal = MealFactory(user=other)
    item = MealItemFactory(meal=their_meal, food=mine["food"])
    preference = FoodPreferenceFactory(user=other, food=mine["food"], favorite=True)
    preference_on_deleted = FoodPreferenceFactory(user=other, food=unused, dislike=True)
    measurement = MeasurementFactory(user=other, type=mine["type"], value=Decimal(39))
    goal = GoalFactory(user=other, type=mine["type"], start_value=38, target_value=42)

    assert auth_client.delete(ME, {"password": PASSWORD}).status_code == 204

    check_foreign_keys()
    for kept in (mine["food"], by_portion_only):
        kept.refresh_from_db()
        assert (kept.user_id, kept.source) == (None, Food.Source.USER)
        assert kept.archived_at is not None
    assert FoodPortion.objects.filter(pk=portion.pk).exists()
    mine["type"].refresh_from_db()
    assert mine["type"].user_id is None
    assert mine["type"].archived_at is not None
    assert not Food.objects.filter(pk=unused.pk).exists()
    assert not FoodPreference.objects.filter(pk=preference_on_deleted.pk).exists()  # CASCADE, as before
    assert FoodPreference.objects.filter(pk=preference.pk).exists()
    by_food.refresh_from_db()
    by_portion.refresh_from_db()
    from_meal.refresh_from_db()
    assert (by_food.food_id, by_portion.portion_id) == (mine["food"].pk, portion.pk)
    assert from_meal.saved_meal_id is None  # SET_NULL, as before
    assert MealItem.objects.get(pk=item.pk).food_id == mine["food"].pk
    assert Measurement.objects.filter(pk=measurement.pk, type=mine["type"]).exists()
    assert Goal.objects.filter(pk=goal.pk, type=mine["type"]).exists()
    # Their diary, meal and measurements still read; the kept food and type are read-only.
    client = client_for(other)
    assert client.get(reverse("diary-detail", args=[by_food.pk])).status_code == 200
    assert client.get(reverse("meals-detail", args=[their_meal.pk])).status_code == 200
    assert client.get(reverse("measurement-detail", args=[measurement.pk])).status_code == 200
    food_url = reverse("foods-detail", args=[mine["food"].pk])
    assert client.get(food_url).status_code == 200
    assert client.patch(food_url, {"name": "mine now"}, format="json").status_code in (403, 404)
    assert mine["food"].pk not in {row["id"] for row in client.get(reverse("foods-list")).json()["results"]}


def test_a_user_deleted_in_the_admin_goes_in_bulk_too(builtin_types):
    from django.contrib import admin
    from django.test import RequestFactory

    public = PublicFoodFactory()
    users = [UserFactory(), UserFactory()]
    for user in users:
        fill(user, public)
    request = RequestFactory().post("/admin/")
    request.user = UserFactory(is_staff=True, is_superuser=True)
    admin.site._registry[User].delete_queryset(request, User.objects.filter(pk__in=[u.pk for u in users]))
    check_foreign_keys()
    assert not DiaryEntry.objects.exists()
    assert not Session.objects.filter(user__in=users).exists()


def test_quick_add_entries_only(auth_client, user):
    QuickAddEntryFactory.create_batch(3, user=user, consumed_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    assert auth_client.delete(ME, {"password": PASSWORD}).status_code == 204
    check_foreign_keys()
    assert not DiaryEntry.objects.exists()
