"""The target in force on each day of the diary summary, and adherence with its streak."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from apps.nutrition.models import NutritionTarget
from tests.nutrition.factories import QuickAddEntryFactory
from tests.users.factories import UserFactory

pytestmark = pytest.mark.django_db

ADHERENCE = reverse("nutrition-target-adherence")
SUMMARY = reverse("diary-summary")


def eat(user, day: dt.date, kcal: float) -> None:
    at = dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC)
    QuickAddEntryFactory(user=user, consumed_at=at, local_date=day, energy_kcal=kcal)


@pytest.fixture
def diary(user):
    """Targets: 2000 kcal from T-9, 1500 kcal from T-4 (T = the user's today). Eaten:
    T-9 2000 in, T-8 2300 out, T-7 2150 in, T-6 1850 in, T-5 1800 in (edge), T-4 1650 in
    (edge), T-3 1400 in, T-2 1500 in, T-1 1649 in, T nothing yet."""
    today = user.local_today()
    day = lambda n: today - dt.timedelta(days=n)  # noqa: E731
    first = NutritionTarget.objects.create(user=user, energy_kcal=Decimal(2000), effective_from=day(9))
    second = NutritionTarget.objects.create(user=user, energy_kcal=Decimal(1500), effective_from=day(4))
    for n, kcal in [(9, 2000), (8, 2300), (7, 2150), (6, 1850), (5, 1800), (4, 1650), (3, 1400), (2, 1500), (1, 1649)]:
        eat(user, day(n), kcal)
    eat(UserFactory(), day(8), 2000)  # someone else's day does not count
    return {"today": today, "day": day, "first": first, "second": second}


def test_summary_days_carry_the_target_in_force_after_a_change(auth_client, diary):
    day = diary["day"]
    response = auth_client.get(SUMMARY, {"start": day(10).isoformat(), "end": diary["today"].isoformat()})
    assert response.status_code == 200, response.content
    targets = {row["date"]: row["target"] for row in response.json()["days"]}
    assert targets[day(10).isoformat()] is None
    assert targets[day(9).isoformat()]["id"] == str(diary["first"].pk)
    assert targets[day(5).isoformat()]["energy_kcal"] == 2000.0
    assert targets[day(4).isoformat()] == {
        "id": str(diary["second"].pk),
        "energy_kcal": 1500.0,
        "protein_g": None,
        "fat_g": None,
        "carbohydrate_g": None,
        "water_ml": None,
        "effective_from": day(4).isoformat(),
    }
    assert targets[diary["today"].isoformat()]["id"] == str(diary["second"].pk)


def test_adherence_on_a_known_diary(auth_client, diary):
    day, today = diary["day"], diary["today"]
    response = auth_client.get(
        ADHERENCE, {"start": day(10).isoformat(), "end": (today + dt.timedelta(days=2)).isoformat()}
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["tolerance_percent"], body["streak"]) == (10, 7)
    rows = {row["date"]: row for row in body["days"]}
    assert len(rows) == 13
    within = {n: rows[day(n).isoformat()]["within_target"] for n in range(10, -3, -1)}
    assert within == {
        10: None,  # no target yet
        9: True,
        8: False,  # 2300 > 2200
        7: True,
        6: True,
        5: True,  # 1800 = 2000 - 10%
        4: True,  # 1650 = 1500 + 10%, the new target
        3: True,
        2: True,
        1: True,
        0: False,  # today, nothing eaten yet: does not break the streak
        -1: None,  # the future
        -2: None,
    }
    assert rows[day(8).isoformat()]["energy_kcal"] == 2300.0
    assert rows[day(4).isoformat()]["target"]["energy_kcal"] == 1500.0
    assert rows[day(5).isoformat()]["target"]["energy_kcal"] == 2000.0


def test_streak_counts_today_once_within_and_stops_at_a_missed_day(auth_client, user, diary):
    day, today = diary["day"], diary["today"]
    eat(user, today, 1500)
    response = auth_client.get(ADHERENCE, {"start": day(10).isoformat(), "end": today.isoformat()})
    assert response.json()["streak"] == 8
    eat(user, day(2), 1000)  # 2500 on T-2: out of target
    response = auth_client.get(ADHERENCE, {"start": day(10).isoformat(), "end": today.isoformat()})
    assert response.json()["streak"] == 2


def test_streak_ends_at_the_latest_day_with_a_target_in_range(auth_client, diary):
    day = diary["day"]
    response = auth_client.get(ADHERENCE, {"start": day(10).isoformat(), "end": day(6).isoformat()})
    assert response.json()["streak"] == 2  # T-7 and T-6; T-8 missed


def test_no_targets_means_nulls_and_no_streak(auth_client, user):
    today = user.local_today()
    eat(user, today, 2000)
    response = auth_client.get(
        ADHERENCE, {"start": (today - dt.timedelta(days=3)).isoformat(), "end": today.isoformat()}
    )
    body = response.json()
    assert body["streak"] == 0
    assert [row["within_target"] for row in body["days"]] == [None] * 4
    assert [row["target"] for row in body["days"]] == [None] * 4


@pytest.mark.parametrize(
    ("params", "attr", "code"),
    [
        ({}, "start", "required"),
        ({"start": "2026-11-01"}, "end", "required"),
        ({"start": "2026-11-10", "end": "2026-11-01"}, "end", "invalid"),
        ({"start": "2025-01-01", "end": "2026-01-02"}, "end", "range_too_long"),
        ({"start": "2026-02-30", "end": "2026-03-01"}, "start", "invalid"),
    ],
)
def test_bad_ranges_are_400(auth_client, params, attr, code):
    response = auth_client.get(ADHERENCE, params)
    assert response.status_code == 400
    errors = {(error["attr"], error["code"]) for error in response.json()["errors"]}
    assert (attr, code) in errors


def test_366_days_are_allowed(auth_client):
    response = auth_client.get(ADHERENCE, {"start": "2024-01-01", "end": "2024-12-31"})
    assert (response.status_code, len(response.json()["days"])) == (200, 366)


@pytest.mark.parametrize("days", [7, 300])
def test_query_counts_are_constant(auth_client, user, django_assert_max_num_queries, days):
    start = dt.date(2026, 1, 1)
    for offset in range(0, days, 3):
        eat(user, start + dt.timedelta(days=offset), 1800)
    for offset in range(0, days, 30):
        NutritionTarget.objects.create(
            user=user, energy_kcal=2000 + offset, effective_from=start + dt.timedelta(offset)
        )
    end = (start + dt.timedelta(days=days - 1)).isoformat()
    with django_assert_max_num_queries(2):  # the user (auth), the targets and daily totals (one round trip)
        response = auth_client.get(ADHERENCE, {"start": start.isoformat(), "end": end})
    assert len(response.json()["days"]) == days
    with django_assert_max_num_queries(1):  # the aggregate and the targets (one round trip)
        response = auth_client.get(SUMMARY, {"start": start.isoformat(), "end": end})
    assert sum(1 for row in response.json()["days"] if row["target"] is not None) == days
