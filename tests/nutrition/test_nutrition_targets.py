import datetime as dt
from decimal import Decimal

import factory
import pytest
from django.urls import reverse

from apps.nutrition.models import NutritionTarget
from apps.nutrition.selectors import target_in_force, targets_by_day
from tests.conftest import client_for
from tests.users.factories import UserFactory

pytestmark = pytest.mark.django_db

TARGETS = reverse("nutrition-target-list")
D = dt.date


class NutritionTargetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = NutritionTarget

    user = factory.SubFactory(UserFactory)
    energy_kcal = Decimal(2000)
    effective_from = D(2026, 11, 1)


def test_set_a_target(auth_client, user):
    payload = {"energy_kcal": 2100, "protein_g": 130, "fat_g": 70, "carbohydrate_g": 220}
    payload["effective_from"] = "2026-11-23"
    response = auth_client.post(TARGETS, payload)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert {key: body[key] for key in payload} == payload
    assert NutritionTarget.objects.get(pk=body["id"]).user == user


def test_history_is_kept_and_listed_newest_first(auth_client, user):
    for day, kcal in ((1, 2200), (10, 2000), (20, 1800)):
        response = auth_client.post(TARGETS, {"energy_kcal": kcal, "effective_from": f"2026-11-{day:02d}"})
        assert response.status_code == 201
    rows = auth_client.get(TARGETS).json()["results"]
    assert [(row["effective_from"], row["energy_kcal"]) for row in rows] == [
        ("2026-11-20", 1800),
        ("2026-11-10", 2000),
        ("2026-11-01", 2200),
    ]


@pytest.mark.parametrize(
    "payload",
    [
        {"energy_kcal": 0, "effective_from": "2026-11-01"},
        {"energy_kcal": -5, "effective_from": "2026-11-01"},
        {"energy_kcal": "NaN", "effective_from": "2026-11-01"},
        {"energy_kcal": 1e300, "effective_from": "2026-11-01"},
        {"energy_kcal": 2000, "protein_g": -1, "effective_from": "2026-11-01"},
        {"energy_kcal": 2000, "effective_from": "2026-02-30"},
        {"energy_kcal": 2000},
    ],
)
def test_invalid_targets_are_400s(auth_client, payload):
    assert auth_client.post(TARGETS, payload).status_code == 400
    assert not NutritionTarget.objects.exists()


def test_one_target_per_date(auth_client, user):
    NutritionTargetFactory(user=user, effective_from=D(2026, 11, 1))
    NutritionTargetFactory(effective_from=D(2026, 11, 5))  # someone else's: no clash
    response = auth_client.post(TARGETS, {"energy_kcal": 1900, "effective_from": "2026-11-01"})
    assert response.status_code == 400
    assert auth_client.post(TARGETS, {"energy_kcal": 1900, "effective_from": "2026-11-05"}).status_code == 201


def test_other_users_targets_are_404(auth_client):
    theirs = NutritionTargetFactory()
    assert auth_client.get(reverse("nutrition-target-detail", args=[theirs.pk])).status_code == 404
    assert auth_client.delete(reverse("nutrition-target-detail", args=[theirs.pk])).status_code == 404
    assert auth_client.get(TARGETS).json()["results"] == []


def test_target_in_force_after_a_change(user):
    first = NutritionTargetFactory(user=user, effective_from=D(2026, 11, 1), energy_kcal=2200)
    second = NutritionTargetFactory(user=user, effective_from=D(2026, 11, 10), energy_kcal=1900)
    NutritionTargetFactory(effective_from=D(2026, 11, 5))  # someone else's
    assert target_in_force(user=user, day=D(2026, 10, 31)) is None
    assert target_in_force(user=user, day=D(2026, 11, 1)) == first
    assert target_in_force(user=user, day=D(2026, 11, 9)) == first
    assert target_in_force(user=user, day=D(2026, 11, 10)) == second
    assert target_in_force(user=user, day=D(2027, 1, 1)) == second


def test_targets_by_day_in_one_query(user, django_assert_num_queries):
    first = NutritionTargetFactory(user=user, effective_from=D(2026, 10, 1), energy_kcal=2400)
    second = NutritionTargetFactory(user=user, effective_from=D(2026, 11, 3), energy_kcal=2200)
    third = NutritionTargetFactory(user=user, effective_from=D(2026, 11, 5), energy_kcal=2000)
    NutritionTargetFactory(user=user, effective_from=D(2026, 11, 30), energy_kcal=1800)  # after the range
    NutritionTargetFactory(effective_from=D(2026, 11, 4))  # someone else's
    with django_assert_num_queries(1):
        days = targets_by_day(user=user, start=D(2026, 11, 2), end=D(2026, 11, 6))
    assert days == {
        D(2026, 11, 2): first,
        D(2026, 11, 3): second,
        D(2026, 11, 4): second,
        D(2026, 11, 5): third,
        D(2026, 11, 6): third,
    }
    with django_assert_num_queries(1):
        before = targets_by_day(user=user, start=D(2026, 9, 29), end=D(2026, 10, 1))
    assert before == {D(2026, 9, 29): None, D(2026, 9, 30): None, D(2026, 10, 1): first}
    with django_assert_num_queries(1):
        assert len(targets_by_day(user=user, start=D(2026, 1, 1), end=D(2026, 12, 31))) == 365


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (D(2026, 11, 10), D(2026, 11, 10)),  # one day, older targets behind it
        (D(2026, 11, 3), D(2026, 11, 5)),  # a target on every day of the range
        (D(2026, 11, 4), D(2026, 11, 12)),  # some days with, some without
        (D(2026, 10, 1), D(2026, 10, 3)),  # before every target
    ],
)
def test_targets_by_day_agrees_with_target_in_force_on_every_day(user, start, end):
    for day in (1, 2, 3, 4, 5, 8, 20):
        NutritionTargetFactory(user=user, effective_from=D(2026, 11, day), energy_kcal=1500 + day)
    days = targets_by_day(user=user, start=start, end=end)
    assert list(days) == [start + dt.timedelta(days=n) for n in range((end - start).days + 1)]
    assert days == {day: target_in_force(user=user, day=day) for day in days}


def test_list_query_count_is_constant(auth_client, user, django_assert_max_num_queries):
    NutritionTargetFactory(user=user)
    with django_assert_max_num_queries(3):
        assert len(auth_client.get(TARGETS).json()["results"]) == 1
    for day in range(2, 40):
        NutritionTargetFactory(user=user, effective_from=D(2026, 9, 1) + dt.timedelta(days=day))
    with django_assert_max_num_queries(3):
        assert len(auth_client.get(TARGETS, {"page_size": 100}).json()["results"]) == 39
    assert client_for(UserFactory()).get(TARGETS).json()["count"] == 0


def test_simultaneous_targets_for_one_date_are_a_400_not_a_500(auth_client, user, monkeypatch):
    NutritionTargetFactory(user=user, effective_from=D(2026, 11, 23))
    # Both requests pass full_clean's SELECT before either inserts: only the database sees it.
    monkeypatch.setattr(NutritionTarget, "validate_constraints", lambda self, exclude=None: None)
    response = auth_client.post(TARGETS, {"energy_kcal": 1900, "effective_from": "2026-11-23"})
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"code": "unique", "detail": "A target already takes effect on this date.", "attr": None}
    ]
