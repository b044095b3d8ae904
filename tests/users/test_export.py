import pytest
from django.urls import reverse

from tests.conftest import client_for
from tests.goals.factories import GoalFactory
from tests.measurements.factories import MeasurementFactory
from tests.nutrition.factories import (
    CustomFoodFactory,
    FoodPreferenceFactory,
    MealFactory,
    QuickAddEntryFactory,
    WaterEntryFactory,
)
from tests.users.factories import UserFactory

pytestmark = pytest.mark.django_db

EXPORT = reverse("users-me-export")


def _fill(user, n=1):
    rows = []
    for _ in range(n):
        rows += [
            CustomFoodFactory(user=user),
            FoodPreferenceFactory(user=user),
            MealFactory(user=user),
            QuickAddEntryFactory(user=user),
            MeasurementFactory(user=user),
            WaterEntryFactory(user=user),
        ]
    rows.append(GoalFactory(user=user))
    return rows


def test_the_export_holds_all_my_rows_and_none_of_anyone_elses():
    me, other = UserFactory(), UserFactory()
    mine, theirs = _fill(me), _fill(other)
    response = client_for(me).get(EXPORT)
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    body = response.json()
    assert body["profile"]["email"] == me.email
    exported = {str(row["id"]) for key, rows in body.items() if isinstance(rows, list) for row in rows}
    assert {str(row.pk) for row in mine} <= exported
    assert not {str(row.pk) for row in theirs} & exported
    assert all("user_id" not in row for rows in body.values() if isinstance(rows, list) for row in rows)


def test_the_export_costs_the_same_queries_whatever_the_data(django_assert_max_num_queries):
    small, large = UserFactory(), UserFactory()
    _fill(small, 1)
    _fill(large, 8)
    counts = []
    for user in (small, large):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        client = client_for(user)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(EXPORT).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]
    client = client_for(large)  # minting its token is a write of its own
    with django_assert_max_num_queries(13):  # auth, eleven tables, body metrics
        client.get(EXPORT)


def test_the_export_keeps_its_keys_in_one_order():
    """The apps register their lists (apps.users.registry); the document keeps format 1's order."""
    body = client_for(UserFactory()).get(EXPORT).json()
    assert list(body) == [
        "format",
        "version",
        "exported_at",
        "foods",
        "food_portions",
        "food_preferences",
        "meals",
        "meal_items",
        "diary_entries",
        "water_entries",
        "measurement_types",
        "measurements",
        "goals",
        "nutrition_targets",
        "profile",
    ]


def test_the_export_needs_a_login(api_client):
    assert api_client.get(EXPORT).status_code == 401


def test_the_export_leaves_out_derived_columns():
    me = UserFactory()
    CustomFoodFactory(user=me, name="Crème fraîche")
    (food,) = client_for(me).get(EXPORT).json()["foods"]
    assert food["name"] == "Crème fraîche"
    assert "search_name" not in food  # computed from the name: not the user's data
