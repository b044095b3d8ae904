"""The `RecentFood` rows (a user's latest entry of each food, kept by the diary's triggers)
match a recomputation from the entries after any sequence of writes, by every path that
changes entries: the services (log, update, delete, log a meal, copy a day), the API, the
ORM's bulk paths (`QuerySet.update`/`delete`, `bulk_create`), the admin, archiving a food
and deleting an account. GET /foods/recent/ then lists what the entries say."""

import contextlib
import datetime as dt
import threading
import time

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections, transaction
from django.db.models import F
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test

from apps.nutrition import selectors, services, triggers
from apps.nutrition.models import NUTRIENT_FIELDS, DiaryEntry, Food, RecentFood
from apps.users.services import remove_account
from tests.conftest import client_for
from tests.nutrition.factories import (
    CustomFoodFactory,
    FoodPortionFactory,
    MealFactory,
    MealItemFactory,
    PublicFoodFactory,
)
from tests.nutrition.test_logged_foods import RECENT, _all_pages, _expected_recent, _shown
from tests.users.factories import UserFactory

pytestmark = pytest.mark.django_db

# A few whole hours, so that entries often share a time (the tie goes to the larger id).
HOURS = st.integers(min_value=1, max_value=6)
PICK = st.integers(min_value=0, max_value=10_000)
BASE = timezone.now().replace(minute=0, second=0, microsecond=0) - dt.timedelta(days=3)


def _at(hours: int) -> dt.datetime:
    return BASE - dt.timedelta(hours=hours)


def recomputed(user_ids) -> dict:
    """{(user, food): (entry, consumed_at)} of each pair's latest entry, from the entries."""
    latest = {}
    rows = DiaryEntry.objects.filter(user_id__in=user_ids, food__isnull=False).order_by("consumed_at", "id")
    for user_id, food_id, entry_id, consumed_at in rows.values_list("user_id", "food_id", "id", "consumed_at"):
        latest[(user_id, food_id)] = (entry_id, consumed_at)
    return latest


def stored(user_ids) -> dict:
    rows = RecentFood.objects.filter(user_id__in=user_ids)
    return {(u, f): (e, at) for u, f, e, at in rows.values_list("user_id", "food_id", "entry_id", "last_logged_at")}


class DiaryWrites(RuleBasedStateMachine):
    """Two accounts writing entries of a few foods by every path; after each step the rows
    are compared with the entries, and the first account's recent list with the entries'."""

    def __init__(self) -> None:
        super().__init__()
        self.users = [UserFactory(), UserFactory()]
        self.ever = {user.pk for user in self.users}
        self.foods = [PublicFoodFactory() for _ in range(3)] + [CustomFoodFactory(user=self.users[0])]
        self.portion = FoodPortionFactory(food=self.foods[0], grams=50.0)
        self.meal = MealFactory(user=self.users[0])
        self.meal_foods = self.foods[1:3]
        for food in self.meal_foods:
            MealItemFactory(meal=self.meal, food=food, grams=80.0)

    def _loggable(self, index: int) -> Food | None:
        foods = [food for food in self.foods if food.archived_at is None]
        return foods[index % len(foods)] if foods else None

    def _food(self, index: int) -> Food | None:
        return self.foods[index % len(self.foods)] if self.foods else None

    def _entry(self, user_index: int, pick: int) -> DiaryEntry | None:
        entries = list(DiaryEntry.objects.filter(user=self.users[user_index % 2]).order_by("id"))
        return entries[pick % len(entries)] if entries else None

    @rule(user=st.integers(0, 1), food=PICK, hours=HOURS, by_portion=st.booleans())
    def log_food(self, user, food, hours, by_portion):
        food = self._loggable(food)
        if food is None:
            return
        by_portion = by_portion and food.pk == self.portion.food_id
        amount = {"portion": self.portion, "quantity": 2.0} if by_portion else {"grams": 70.0}
        services.log_food(user=self.users[user], meal="lunch", consumed_at=_at(hours), food=food, **amount)

    @rule(user=st.integers(0, 1), hours=HOURS)
    def log_quick_add(self, user, hours):
        services.log_food(
            user=self.users[user], meal="snack", consumed_at=_at(hours), label="Cake", nutrients={"energy_kcal": 300}
        )

    @precondition(lambda self: all(food.archived_at is None for food in self.meal_foods))
    @rule(hours=HOURS)
    def log_meal(self, hours):
        services.log_meal(user=self.users[0], meal=self.meal, consumed_at=_at(hours))

    @rule(user=st.integers(0, 1), pick=PICK, days=st.integers(1, 2))
    def copy_day(self, user, pick, days):
        entry = self._entry(user, pick)
        if entry is None:
            return
        with contextlib.suppress(ValidationError):  # an archived food on that day: refused, nothing written
            services.copy_entries(
                user=self.users[user], from_date=entry.local_date, to_date=entry.local_date - dt.timedelta(days=days)
            )

    @rule(user=st.integers(0, 1), pick=PICK, food=PICK)
    def change_food(self, user, pick, food):
        entry, food = self._entry(user, pick), self._loggable(food)
        if entry is not None and food is not None:
            services.update_entry(entry=entry, data={"food": food, "grams": 90.0})

    @rule(user=st.integers(0, 1), pick=PICK, hours=HOURS)
    def move_in_time(self, user, pick, hours):
        entry = self._entry(user, pick)
        if entry is not None:
            services.update_entry(entry=entry, data={"consumed_at": _at(hours)})

    @rule(user=st.integers(0, 1), pick=PICK, grams=st.sampled_from([10.0, 250.0]))
    def change_amount(self, user, pick, grams):
        entry = self._entry(user, pick)
        if entry is not None and entry.food_id is not None:
            services.update_entry(entry=entry, data={"grams": grams})

    @rule(user=st.integers(0, 1), pick=PICK)
    def make_quick_add(self, user, pick):
        entry = self._entry(user, pick)
        if entry is not None:
            services.update_entry(entry=entry, data={"food": None, "label": "Leftovers", "energy_kcal": 120})

    @rule(user=st.integers(0, 1), pick=PICK, through_api=st.booleans())
    def delete_entry(self, user, pick, through_api):
        entry = self._entry(user, pick)
        if entry is None:
            return
        if through_api:
            response = client_for(self.users[user]).delete(reverse("diary-detail", args=[entry.pk]))
            assert response.status_code == 204
        else:
            entry.delete()

    @rule(user=st.integers(0, 1), food=PICK, hours=st.integers(-3, 3))
    def shift_a_foods_entries(self, user, food, hours):
        DiaryEntry.objects.filter(user=self.users[user], food=self._food(food)).update(
            consumed_at=F("consumed_at") + dt.timedelta(hours=hours)
        )

    @rule(user=st.integers(0, 1), pick=PICK, food=PICK)
    def relink_with_update(self, user, pick, food):
        entry = self._entry(user, pick)
        if entry is not None and self.foods:
            DiaryEntry.objects.filter(pk=entry.pk).update(food=self._food(food), portion=None)

    @rule(pick=PICK)
    def move_to_the_other_account(self, pick):
        entry = self._entry(0, pick)
        if entry is not None:
            DiaryEntry.objects.filter(pk=entry.pk).update(user=self.users[1])

    @rule(user=st.integers(0, 1), food=PICK)
    def delete_a_foods_entries(self, user, food):
        DiaryEntry.objects.filter(user=self.users[user], food=self._food(food)).delete()

    @rule(user=st.integers(0, 1), hours=st.lists(HOURS, min_size=1, max_size=4))
    def bulk_create(self, user, hours):
        food = self._loggable(user + len(hours))
        if food is None:
            return
        DiaryEntry.objects.bulk_create(
            DiaryEntry(
                user=self.users[user],
                food=food,
                grams=30.0,
                label=food.name,
                meal="dinner",
                consumed_at=_at(h),
                local_date=_at(h).date(),
            )
            for h in hours
        )

    @rule(food=PICK)
    def delete_food(self, food):
        """Deleted through the service: archived while entries or meals use it, else gone."""
        food = self.foods[food % len(self.foods)]
        if food.archived_at is None:
            if services.delete_food(food=food):
                food.refresh_from_db()
            else:
                self.foods.remove(food)

    @rule()
    def delete_the_other_account(self):
        remove_account(user=self.users[1])
        self.users[1] = UserFactory()
        self.ever.add(self.users[1].pk)

    @invariant()
    def rows_match_the_entries(self):
        assert stored(self.ever) == recomputed(self.ever)

    @invariant()
    def the_recent_list_matches_the_entries(self):
        me = self.users[0]
        foods = selectors.recent_foods(user=me, offset=0, size=50)
        shown = [
            {
                "id": str(food.pk),
                "last_logged_at": food.last_logged_at,
                "grams": food.last_grams,
                "portion": food.last_portion,
                "quantity": food.last_quantity,
            }
            for food in foods
        ]
        expected = _expected_recent(me)
        assert shown == expected
        assert selectors.logged_foods_count(user=me, kind="recent") == len(expected)
        assert all(food.pagination_total == len(expected) for food in foods)


def test_any_sequence_of_writes_keeps_the_rows_of_the_entries():
    run_state_machine_as_test(
        DiaryWrites,
        settings=settings(
            max_examples=25,
            stateful_step_count=14,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )


def _log(user, food, hours, **amount):
    amount = amount or {"grams": 100.0}
    return services.log_food(user=user, meal="lunch", consumed_at=_at(hours), food=food, **amount).entries[0]


def test_deleting_or_moving_the_latest_entry_falls_back_to_the_one_before(user):
    food = PublicFoodFactory()
    older, _, latest = _log(user, food, 5, grams=10), _log(user, food, 4, grams=20), _log(user, food, 3, grams=30)
    assert RecentFood.objects.get(user=user, food=food).entry_id == latest.pk
    latest.delete()
    row = RecentFood.objects.get(user=user, food=food)
    assert (row.entry.grams, row.last_logged_at) == (20, _at(4))
    services.update_entry(entry=DiaryEntry.objects.get(grams=20, user=user), data={"consumed_at": _at(9)})
    assert RecentFood.objects.get(user=user, food=food).entry_id == older.pk
    DiaryEntry.objects.filter(user=user).delete()
    assert not RecentFood.objects.filter(user=user).exists()


def test_entries_at_the_same_time_go_to_the_larger_id(user):
    food = PublicFoodFactory()
    entries = [_log(user, food, 2) for _ in range(3)]
    assert RecentFood.objects.get(user=user, food=food).entry_id == max(entry.pk for entry in entries)


def test_quick_adds_have_no_row_and_an_amount_change_shows_without_one(user, auth_client):
    food = PublicFoodFactory()
    services.log_food(user=user, meal="snack", consumed_at=_at(1), label="Cake", nutrients={"energy_kcal": 300})
    entry = _log(user, food, 2, grams=40)
    assert list(RecentFood.objects.filter(user=user).values_list("food_id", flat=True)) == [food.pk]
    services.update_entry(entry=entry, data={"grams": 65.0})
    (item,) = auth_client.get(RECENT).json()["results"]
    assert (item["id"], item["grams"]) == (str(food.pk), 65.0)


def test_the_admin_keeps_the_rows(user):
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    first, second = PublicFoodFactory(), PublicFoodFactory()
    entry = _log(user, first, 2)
    _log(user, first, 6, grams=12)
    form = {
        "user": user.pk,
        "food": second.pk,
        "grams": 100.0,
        "label": "moved",
        "meal": "lunch",
        "consumed_at_0": _at(2).strftime("%Y-%m-%d"),
        "consumed_at_1": _at(2).strftime("%H:%M:%S"),
        "local_date": _at(2).date().isoformat(),
        **dict.fromkeys(NUTRIENT_FIELDS, 0),
    }
    response = client.post(reverse("admin:nutrition_diaryentry_change", args=[entry.pk]), form)
    assert response.status_code == 302, response.content
    assert stored([user.pk]) == recomputed([user.pk])
    assert {row.food_id: row.entry.grams for row in RecentFood.objects.filter(user=user)} == {
        first.pk: 12,
        second.pk: 100,
    }
    response = client.post(
        reverse("admin:nutrition_diaryentry_changelist"),
        {"action": "delete_selected", "_selected_action": [entry.pk], "post": "yes"},
    )
    assert response.status_code == 302
    assert stored([user.pk]) == recomputed([user.pk]) != {}


def test_deleting_an_account_removes_its_rows_and_keeps_the_others():
    me, other = UserFactory(), UserFactory()
    shared, mine = PublicFoodFactory(), CustomFoodFactory(user=me)
    _log(me, shared, 1)
    _log(me, mine, 2)
    _log(other, shared, 3)
    remove_account(user=me)
    assert stored([me.pk, other.pk]) == recomputed([other.pk]) != {}


@pytest.mark.parametrize("entries", [3, 40])
def test_a_rebuild_gives_what_the_triggers_kept(user, entries):
    """The migration's backfill (triggers.rebuild) and the triggers agree."""
    foods = [PublicFoodFactory() for _ in range(5)]
    for index in range(entries):
        _log(user, foods[index % 5], index % 7)
    kept = stored([user.pk])
    with connection.schema_editor(atomic=True) as editor:
        triggers.rebuild(editor)
    assert stored([user.pk]) == kept == recomputed([user.pk])


@pytest.mark.parametrize(("foods", "entries"), [(3, 5), (60, 400)])
def test_the_recent_page_is_one_query_at_any_size(user, auth_client, django_assert_num_queries, foods, entries):
    menu = [PublicFoodFactory() for _ in range(foods)]
    for index in range(entries):
        _log(user, menu[index % foods], index % 6 + 1)
    for page in (1, 2):  # a later page too: the rows before it are skipped in the index
        with django_assert_num_queries(1):
            body = auth_client.get(RECENT, {"page": page, "page_size": 2}).json()
        assert body["count"] == foods
        assert len(body["results"]) == min(2, foods - 2 * (page - 1))
    items, count = _all_pages(auth_client, RECENT, page_size=7)
    assert [_shown(item) for item in items] == _expected_recent(user)
    assert count == foods


def test_an_entry_of_someone_elses_custom_food_is_counted_but_not_shown(user, auth_client):
    theirs = CustomFoodFactory(user=UserFactory())
    public = PublicFoodFactory()
    DiaryEntry.objects.create(
        user=user, food=theirs, grams=10, label="x", meal="lunch", consumed_at=_at(1), local_date=_at(1).date()
    )  # only the admin links those
    _log(user, public, 2)
    body = auth_client.get(RECENT).json()
    assert [item["id"] for item in body["results"]] == [str(public.pk)]
    assert body["count"] == 2


def _wait_for_a_blocked_lock(timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    with connections["default"].cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute("SELECT count(*) FROM pg_locks WHERE NOT granted")
            if cursor.fetchone()[0]:
                return
            time.sleep(0.02)
    raise AssertionError("the second writer never waited")


@pytest.mark.django_db(transaction=True)
def test_two_writers_of_one_user_recompute_one_after_the_other():
    """One transaction deletes the latest entry (its food falls back to the oldest) and, before
    it commits, another logs an entry between them. The second's recompute waits for the first
    (the per-user advisory lock) and then sees its delete: the row ends at the new entry. With
    no lock, the second's insert met the first's new row (a duplicate key)."""
    user, food = UserFactory(), PublicFoodFactory()
    _log(user, food, 5)
    latest = _log(user, food, 1)
    deleted, go_on, errors = threading.Event(), threading.Event(), []

    def first():
        try:
            with transaction.atomic():
                DiaryEntry.objects.filter(pk=latest.pk).delete()
                deleted.set()
                go_on.wait(10)
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    def second():
        try:
            deleted.wait(10)
            _log(user, food, 3, grams=33)
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    deleted.wait(10)
    _wait_for_a_blocked_lock()
    go_on.set()
    for thread in threads:
        thread.join(20)
    assert errors == []
    row = RecentFood.objects.get(user=user, food=food)
    assert (row.entry.grams, row.last_logged_at) == (33, _at(3))
    assert stored([user.pk]) == recomputed([user.pk])
