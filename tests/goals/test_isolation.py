"""Every endpoint of measurements and goals: anonymous callers get 401, another user's rows 404."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from apps.nutrition.models import NutritionTarget
from tests.goals.factories import GoalFactory
from tests.measurements.factories import MeasurementFactory, MeasurementTypeFactory

pytestmark = pytest.mark.django_db

COLLECTIONS = [
    ("get", "measurement-type-list"),
    ("post", "measurement-type-list"),
    ("get", "measurement-list"),
    ("post", "measurement-list"),
    ("post", "measurement-bulk"),
    ("get", "measurement-latest"),
    ("get", "measurement-trend"),
    ("get", "goal-list"),
    ("post", "goal-list"),
    ("get", "nutrition-target-list"),
    ("post", "nutrition-target-list"),
]


def someone_elses_rows(builtin_types) -> dict:
    calf = MeasurementTypeFactory(name="Calf")
    return {
        "measurement-type-detail": calf,
        "measurement-detail": MeasurementFactory(user=calf.user, value=Decimal(80)),
        "goal-detail": GoalFactory(user=calf.user),
        "goal-progress": GoalFactory(user=calf.user, type=calf, start_value=30, target_value=35),
        "nutrition-target-detail": NutritionTarget.objects.create(
            user=calf.user, energy_kcal=2000, effective_from=dt.date(2026, 11, 1)
        ),
    }


@pytest.mark.parametrize(("method", "name"), COLLECTIONS)
def test_anonymous_callers_are_401(api_client, method, name):
    assert getattr(api_client, method)(reverse(name), {}).status_code == 401


@pytest.mark.parametrize(
    ("method", "name"),
    [
        ("get", "measurement-type-detail"),
        ("get", "measurement-detail"),
        ("patch", "measurement-detail"),
        ("delete", "measurement-detail"),
        ("get", "goal-detail"),
        ("patch", "goal-detail"),
        ("delete", "goal-detail"),
        ("get", "goal-progress"),
        ("get", "nutrition-target-detail"),
        ("delete", "nutrition-target-detail"),
    ],
)
def test_another_users_rows_are_404(auth_client, builtin_types, method, name):
    row = someone_elses_rows(builtin_types)[name]
    response = getattr(auth_client, method)(reverse(name, args=[row.pk]), {"note": "x"})
    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "not_found"
