"""GET /api/v1/sync/changes/: every change of the caller's rows, by any path, after a cursor.

Rows are changed through the API, the services, the admin, cascades, QuerySet.update and
.delete, bulk_create and raw SQL; the feed must show each as it is now, as the row's own
endpoint shows it (or a tombstone)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Count
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from apps.nutrition import services as nutrition
from apps.nutrition.models import DiaryEntry, Food, NutritionTarget, WaterEntry
from apps.users import services as users
from fithub.db.change_log import current_sequence, prune_tombstones
from fithub.models import Change, ChangeSequence
from fithub.sync import registry
from fithub.sync.feed import encode_cursor
from tests.conftest import client_for
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
from tests.sync import FEED, latest, page, pull
from tests.users.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

# The endpoint that shows a row of each type: the feed's data must be what it answers.
DETAIL = {
    "profile": lambda pk: reverse("users-me"),
    "food": lambda pk: reverse("foods-detail", args=[pk]),
    "food_preference": lambda pk: reverse("food-preferences-detail", args=[pk]),
    "meal": lambda pk: reverse("meals-detail", args=[pk]),
    "diary_entry": lambda pk: reverse("diary-detail", args=[pk]),
    "water_entry": lambda pk: reverse("water-detail", args=[pk]),
    "nutrition_target": lambda pk: reverse("nutrition-target-detail", args=[pk]),
    "measurement_type": lambda pk: reverse("measurement-type-detail", args=[pk]),
    "measurement": lambda pk: reverse("measurement-detail", args=[pk]),
    "goal": lambda pk: reverse("goal-detail", args=[pk]),
}


def one_of_each(user, n: int = 1) -> None:
    """`n` rows of every synced type for `user`, with children and dependencies."""
    for i in range(n):
        food = CustomFoodFactory(user=user)
        FoodPortionFactory(food=food)
        FoodPreferenceFactory(user=user, food=food, favorite=True)
        MealItemFactory(meal=MealFactory(user=user), food=food)
        QuickAddEntryFactory(user=user)
        WaterEntryFactory(user=user)
        NutritionTarget.objects.create(user=user, energy_kcal=2000, effective_from=dt.date(2026, 1, 1 + i))
        kind = MeasurementTypeFactory(user=user)
        MeasurementFactory(user=user, type=kind, value=Decimal(30))
        MeasurementFactory(user=user)
        GoalFactory(user=user, type=kind, start_value=Decimal(30), target_value=Decimal(35)) if i == 0 else None


def test_every_type_is_shown_as_its_own_endpoint_shows_it(builtin_types):
    assert set(DETAIL) == set(registry.types()), "a new synced type needs its endpoint here"
    user = UserFactory()
    one_of_each(user)
    client = client_for(user)
    changes, _ = pull(client)
    assert {change["type"] for change in changes} == set(registry.types())
    for change in changes:
        assert change["op"] == "upsert"
        shown = client.get(DETAIL[change["type"]](change["id"]))
        assert shown.status_code == 200
        assert change["data"] == shown.json(), change["type"]
        assert change["version"] == change["data"]["version"]


def test_a_full_sync_pages_in_order_and_a_cursor_gives_only_what_follows():
    user = UserFactory()
    client = client_for(user)
    for _ in range(6):
        QuickAddEntryFactory(user=user)
    first = page(client, limit=3)
    assert first["has_more"] is True
    assert [c["type"] for c in first["changes"]] == ["profile", "diary_entry", "diary_entry"]
    rest, cursor = pull(client, first["cursor"], limit=3)
    assert len(rest) == 4
    assert {c["id"] for c in first["changes"]}.isdisjoint({c["id"] for c in rest})
    assert page(client, cursor) == {"changes": [], "cursor": cursor, "has_more": False}
    # A row already sent comes again, after the cursor, when it changes; a deleted one as a tombstone.
    changed = DiaryEntry.objects.filter(user=user).order_by("created_at")[0]
    DiaryEntry.objects.filter(pk=changed.pk).update(label="Changed")
    deleted = DiaryEntry.objects.filter(user=user).order_by("created_at")[1]
    deleted_id = str(deleted.pk)
    deleted.delete()
    after = page(client, cursor)["changes"]
    assert [(c["id"], c["op"], c["version"]) for c in after] == [
        (str(changed.pk), "upsert", 2),
        (deleted_id, "delete", 2),
    ]
    assert after[0]["data"]["label"] == "Changed"
    assert after[1]["data"] is None
    # The full sync now has each object once, its latest state: no tombstone-then-upsert doubles.
    everything, _ = pull(client)
    assert len(everything) == len({(c["type"], c["id"]) for c in everything}) == 7


def _client_store(user) -> dict:
    return {key: change for key, change in latest(pull(client_for(user))[0]).items() if change["op"] == "upsert"}


def test_every_path_of_change_reaches_the_feed(builtin_types):
    user = UserFactory()
    client = client_for(user)
    _, cursor = pull(client)
    # The API and its services.
    entry = client.post(
        reverse("diary-list"),
        {"label": "Toast", "energy_kcal": 200, "meal": "breakfast", "consumed_at": "2026-11-20T08:00:00Z"},
    ).json()
    client.delete(reverse("diary-detail", args=[entry["id"]]))
    # QuerySet.update and .delete, bulk_create and raw SQL.
    water = WaterEntryFactory(user=user)
    WaterEntry.objects.filter(pk=water.pk).update(ml=Decimal(300))
    bulk = WaterEntry.objects.bulk_create(
        [
            WaterEntry(user=user, ml=1, entered_value=1, entered_unit="ml", consumed_at=timezone.now(), local_date=day)
            for day in (dt.date(2026, 11, 18), dt.date(2026, 11, 19), dt.date(2026, 11, 20))
        ]
    )
    WaterEntry.objects.filter(pk=bulk[0].pk).delete()
    with connection.cursor() as cursor_:
        cursor_.execute("UPDATE nutrition_waterentry SET ml = 400 WHERE id = %s", [bulk[1].pk])
        cursor_.execute("DELETE FROM nutrition_waterentry WHERE id = %s", [bulk[2].pk])
    changes = {(c["type"], c["id"]): c for c in page(client, cursor)["changes"]}
    assert changes[("diary_entry", entry["id"])]["op"] == "delete"
    assert changes[("water_entry", str(water.pk))]["data"]["ml"] == 300.0
    assert changes[("water_entry", str(bulk[0].pk))]["op"] == "delete"
    assert changes[("water_entry", str(bulk[1].pk))]["data"]["ml"] == 400.0
    assert changes[("water_entry", str(bulk[2].pk))]["op"] == "delete"
    assert (
        changes[("water_entry", str(bulk[1].pk))]["version"],
        changes[("water_entry", str(bulk[2].pk))]["version"],
    ) == (2, 2)


def test_the_admin_and_cascades_reach_the_feed():
    user = UserFactory()
    client = client_for(user)
    food = CustomFoodFactory(user=user)
    preference = FoodPreferenceFactory(user=user, food=food)
    entry = QuickAddEntryFactory(user=user)
    _, cursor = pull(client)
    staff = Client()
    staff.force_login(UserFactory(is_staff=True, is_superuser=True))
    response = staff.post(
        reverse("admin:nutrition_foodpreference_change", args=[preference.pk]),
        {"user": user.pk, "food": food.pk, "favorite": "on"},
    )
    assert response.status_code == 302
    response = staff.post(
        reverse("admin:nutrition_diaryentry_changelist"),
        {"action": "delete_selected", "_selected_action": [entry.pk], "post": "yes"},
    )
    assert response.status_code == 302
    changes = {(c["type"], c["id"]): c for c in page(client, cursor)["changes"]}
    assert changes[("food_preference", str(preference.pk))]["data"]["favorite"] is True
    assert changes[("food", str(food.pk))]["data"]["is_favorite"] is True  # the food shows the preference
    assert changes[("diary_entry", str(entry.pk))]["op"] == "delete"
    _, cursor = pull(client, cursor)
    # Deleting the (unused) food cascades to its preference.
    nutrition.delete_food(food=food)
    changes = {(c["type"], c["id"]): c["op"] for c in page(client, cursor)["changes"]}
    assert changes == {("food", str(food.pk)): "delete", ("food_preference", str(preference.pk)): "delete"}


def test_a_row_given_to_another_owner_leaves_one_feed_for_the_other():
    giver, taker = UserFactory(), UserFactory()
    food = CustomFoodFactory(user=giver)
    _, cursor = pull(client_for(giver))
    Food.objects.filter(pk=food.pk).update(user=taker)
    assert [(c["id"], c["op"]) for c in page(client_for(giver), cursor)["changes"]] == [(str(food.pk), "delete")]
    assert (str(food.pk), "upsert") in [(c["id"], c["op"]) for c in pull(client_for(taker))[0]]


def test_an_account_deletion_keeps_no_log_and_tells_others_what_went_with_it():
    leaving, staying = UserFactory(), UserFactory()
    one_of_each(leaving)
    food = CustomFoodFactory(user=leaving)
    preference = FoodPreferenceFactory(user=staying, food=food)  # only the admin links another's food
    _, cursor = pull(client_for(staying))
    users.delete_account(user=leaving, password=PASSWORD)
    assert not Change.objects.filter(user_id=leaving.pk).exists()
    assert not ChangeSequence.objects.filter(user_id=leaving.pk).exists()
    assert [(c["id"], c["op"]) for c in page(client_for(staying), cursor)["changes"]] == [
        (str(preference.pk), "delete")
    ]


def test_current_sequence_counts_every_change_and_costs_one_query(django_assert_num_queries):
    user = UserFactory()
    with django_assert_num_queries(1):
        start = current_sequence(user.pk)
    entry = QuickAddEntryFactory(user=user)
    DiaryEntry.objects.filter(pk=entry.pk).update(label="x")
    entry.delete()
    assert current_sequence(user.pk) == start + 3
    assert current_sequence(UserFactory.build().pk) == 0


def test_the_log_holds_one_row_per_object():
    user = UserFactory()
    entry = QuickAddEntryFactory(user=user)
    for label in ("a", "b", "c"):
        DiaryEntry.objects.filter(pk=entry.pk).update(label=label)
    entry.delete()
    rows = list(Change.objects.filter(user_id=user.pk, type="diary_entry").values_list("op", "version", "seq"))
    assert rows == [("delete", 5, ChangeSequence.objects.get(user_id=user.pk).seq)]


def test_derived_representations_come_again_when_what_they_depend_on_changes(builtin_types):
    user = UserFactory(height_cm=Decimal(170))
    client = client_for(user)
    food = CustomFoodFactory(user=user, energy_kcal=100)
    meal = MealFactory(user=user)
    MealItemFactory(meal=meal, food=food, grams=200)
    _, cursor = pull(client)
    client.patch(reverse("foods-detail", args=[food.pk]), {"energy_kcal": 150}, format="json")
    client.post(reverse("measurement-list"), {"type": "weight", "value": 72.25, "measured_at": "2026-11-20T07:00:00Z"})
    changes = {c["type"]: c for c in page(client, cursor)["changes"]}
    assert changes["meal"]["data"]["totals"]["energy_kcal"] == 300.0
    assert changes["profile"]["data"]["bmi"] == 25.0
    assert changes["food"]["data"]["energy_kcal"] == 150.0


# --- Input and expiry ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "attr", "code"),
    [
        ({"since": "nonsense!"}, "since", "invalid"),
        ({"since": "czAx"}, "since", "invalid"),  # "s01": not how the feed writes 1
        ({"since": "eDE"}, "since", "invalid"),  # base64 of "x1"
        ({"since": encode_cursor(1) + "="}, "since", "invalid"),
        ({"since": "c" * 33}, "since", "max_length"),
        ({"since": ""}, "since", "required"),
        ({"limit": ""}, "limit", "required"),
        ({"since": "czk5OTk5OTk5OTk5OTk5OTk5OTk5OQ"}, "since", "invalid"),  # past a bigint
        ({"limit": 0}, "limit", "min_value"),
        ({"limit": 1001}, "limit", "max_value"),
        ({"limit": "ten"}, "limit", "invalid"),
    ],
)
def test_bad_parameters_are_400_naming_them(params, attr, code):
    response = client_for(UserFactory()).get(FEED, params)
    assert response.status_code == 400
    assert response.json()["errors"] == [{"code": code, "detail": response.json()["errors"][0]["detail"], "attr": attr}]


def test_a_cursor_ahead_of_the_history_is_410():
    client = client_for(UserFactory())
    _, cursor = pull(client)
    assert page(client, cursor)["changes"] == []
    response = client.get(FEED, {"since": encode_cursor(10**6)})
    assert response.status_code == 410
    assert response.json()["errors"][0]["code"] == "sync_cursor_expired"


def test_the_feed_needs_a_login(api_client):
    assert api_client.get(FEED).status_code == 401


def test_tombstones_are_pruned_after_their_time_and_older_cursors_answer_410():
    user = UserFactory()
    client = client_for(user)
    kept = QuickAddEntryFactory(user=user)
    old, recent = QuickAddEntryFactory(user=user), QuickAddEntryFactory(user=user)
    old_id, recent_id = old.pk, recent.pk
    _, before_any = pull(client)
    old.delete()
    Change.objects.filter(object_id=old_id).update(changed_at=timezone.now() - dt.timedelta(days=91))
    _, after_old = pull(client, before_any)
    recent.delete()
    assert prune_tombstones(before=timezone.now() - dt.timedelta(days=90)) == 1
    assert set(Change.objects.filter(user_id=user.pk).values_list("object_id", "op")) >= {
        (kept.pk, "upsert"),
        (recent_id, "delete"),
    }
    assert not Change.objects.filter(object_id=old_id).exists()
    assert ChangeSequence.objects.get(user_id=user.pk).pruned_through > 0
    expired = client.get(FEED, {"since": before_any})
    assert expired.status_code == 410
    assert expired.json()["errors"][0]["code"] == "sync_cursor_expired"
    assert [(c["id"], c["op"]) for c in page(client, after_old)["changes"]] == [(str(recent_id), "delete")]
    # A full sync still works, and nothing else was pruned.
    assert {c["id"] for c in pull(client)[0] if c["op"] == "upsert"} >= {str(kept.pk)}
    assert prune_tombstones(before=timezone.now() - dt.timedelta(days=90)) == 0


def test_the_prune_command_keeps_ninety_days(capsys):
    from django.core.management import call_command

    user = UserFactory()
    entry = QuickAddEntryFactory(user=user)
    entry_id = entry.pk
    entry.delete()
    tombstone = Change.objects.filter(object_id=entry_id, op="delete")
    tombstone.update(changed_at=timezone.now() - dt.timedelta(days=89))
    call_command("prune_tombstones")
    assert tombstone.exists()
    tombstone.update(changed_at=timezone.now() - dt.timedelta(days=91))
    call_command("prune_tombstones")
    assert not tombstone.exists()
    assert "1 tombstones older than 90 days pruned" in capsys.readouterr().out


# --- Cost ----------------------------------------------------------------------------------


@pytest.mark.parametrize("rows", [1, 4])
def test_a_page_costs_the_same_queries_whatever_its_size(rows, builtin_types, django_assert_num_queries):
    user = UserFactory()
    one_of_each(user, n=rows)
    client = client_for(user)
    client.get(FEED)  # the token's session, remembered
    # The counter, the log page, then per type: the profile and its body metrics (2), custom
    # foods with their portions and flags (1), preferences with their foods (1), meals and
    # their items (2), diary, water, targets, types, measurements, goals (1 each).
    with django_assert_num_queries(2 + 2 + 1 + 1 + 2 + 6):
        body = client.get(FEED).json()
    assert len(body["changes"]) == 1 + 9 * rows + 1  # the profile, nine rows each time, one goal


def test_each_user_has_a_counter_and_every_owned_row_a_log_row(builtin_types):
    user = UserFactory()
    one_of_each(user)
    counts = {
        name: entry.model._base_manager.filter(**({"pk": user.pk} if name == "profile" else {"user": user})).count()
        for name, entry in registry.types().items()
    }
    logged = dict(Change.objects.filter(user_id=user.pk).values_list("type").annotate(n=Count("*")))
    assert logged == counts
    assert ChangeSequence.objects.get(user_id=user.pk).seq >= sum(counts.values())
    assert not Change.objects.filter(type="food", object_id__in=Food.objects.filter(user=None).values("pk")).exists()
    assert PublicFoodFactory().version == 1


def test_the_migrations_backfill_serves_a_full_sync(builtin_types):
    """Rows written before the triggers existed: the migrations' BackfillChanges give them a
    log, as for a database upgraded with data in it."""
    import importlib

    from fithub.db.change_log import BackfillChanges

    user = UserFactory()
    one_of_each(user)
    before = {(c["type"], c["id"]): c["data"] for c in pull(client_for(user))[0]}
    Change.objects.all().delete()
    ChangeSequence.objects.all().delete()
    with connection.schema_editor(atomic=False) as editor:
        for module in (
            "apps.users.migrations.0008_versions",
            "apps.nutrition.migrations.0018_versions",
            "apps.measurements.migrations.0006_versions",
            "apps.goals.migrations.0005_versions",
        ):
            for operation in importlib.import_module(module).Migration.operations:
                if isinstance(operation, BackfillChanges):
                    operation.database_forwards("", editor, None, None)
    after = {(c["type"], c["id"]): c["data"] for c in pull(client_for(user))[0]}
    assert after == before
    # New changes number on from the backfill.
    seq = ChangeSequence.objects.get(user_id=user.pk).seq
    assert seq == len(before)
    QuickAddEntryFactory(user=user)
    assert ChangeSequence.objects.get(user_id=user.pk).seq == seq + 1
