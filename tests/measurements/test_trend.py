import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from apps.measurements.selectors import daily_trend
from tests.measurements.factories import MeasurementFactory
from tests.users.factories import UserFactory

pytestmark = pytest.mark.django_db

TREND = reverse("measurement-trend")

# Day of October 2026 -> the weights measured that day (UTC).
SERIES = {1: [80.0], 2: [79.0, 79.4], 3: [79.6], 6: [78.8], 9: [78.0], 10: [78.4]}
# Worked by hand. trend = mean of the daily means of the measured days in [d-6, d];
# rate = (trend(d) - trend(earliest measured day in [d-7, d-1])) * 7 / days between.
EXPECTED = [
    # date, daily mean, count, trend, rate per week
    ("2026-10-01", 80.0, 1, 80.0, None),
    ("2026-10-02", 79.2, 2, 79.6, -2.8),  # (80 + 79.2) / 2; (79.6 - 80) * 7 / 1
    ("2026-10-03", 79.6, 1, 79.6, -1.4),  # (80 + 79.2 + 79.6) / 3; (79.6 - 80) * 7 / 2
    ("2026-10-06", 78.8, 1, 79.4, -0.84),  # (80 + 79.2 + 79.6 + 78.8) / 4; (79.4 - 80) * 7 / 5
    ("2026-10-09", 78.0, 1, 78.8, -0.8),  # Oct 3..9: (79.6 + 78.8 + 78) / 3; vs Oct 2: (78.8 - 79.6) * 7 / 7
    ("2026-10-10", 78.4, 1, 78.4, -1.2),  # Oct 4..10: (78.8 + 78 + 78.4) / 3; vs Oct 3: (78.4 - 79.6) * 7 / 7
]


@pytest.fixture
def series(user, builtin_types):
    for day, values in SERIES.items():
        for hour, value in enumerate(values):
            MeasurementFactory(
                user=user,
                value=Decimal(str(value)),
                measured_at=dt.datetime(2026, 10, day, 7 + hour, tzinfo=dt.UTC),
            )
    MeasurementFactory(value=Decimal(120), measured_at=dt.datetime(2026, 10, 5, tzinfo=dt.UTC))  # someone else's
    other_type_at = dt.datetime(2026, 10, 5, tzinfo=dt.UTC)
    MeasurementFactory(user=user, type=builtin_types["waist"], value=Decimal(95), measured_at=other_type_at)


def rows(body):
    return [(p["date"], p["value"], p["count"], p["trend"], p["rate_per_week"]) for p in body["points"]]


def test_trend_on_a_known_series_equals_hand_computed_values(auth_client, series):
    response = auth_client.get(TREND, {"type": "weight", "start": "2026-10-01", "end": "2026-10-31"})
    assert response.status_code == 200, response.json()
    body = response.json()
    assert rows(body) == EXPECTED
    assert body["rate_per_week"] == -1.2
    assert body["unit"] == "kg"


def test_points_before_start_still_feed_the_trend(auth_client, series):
    body = auth_client.get(TREND, {"type": "weight", "start": "2026-10-06", "end": "2026-10-09"}).json()
    assert rows(body) == EXPECTED[3:5]


def test_days_are_local_days_of_the_profile_time_zone(user, builtin_types):
    user.timezone = "America/New_York"
    user.save()
    # 02:00 UTC on Oct 2 is still Oct 1 in New York (UTC-4).
    MeasurementFactory(user=user, value=Decimal(80), measured_at=dt.datetime(2026, 10, 1, 12, tzinfo=dt.UTC))
    MeasurementFactory(user=user, value=Decimal(78), measured_at=dt.datetime(2026, 10, 2, 2, tzinfo=dt.UTC))
    points = daily_trend(
        user=user, measurement_type=builtin_types["weight"], start=dt.date(2026, 10, 1), end=dt.date(2026, 10, 2)
    )
    assert [(p.date, p.value, p.count) for p in points] == [(dt.date(2026, 10, 1), Decimal(79), 2)]


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"type": "nope"},
        {"type": "weight", "start": "2026-10-10", "end": "2026-10-01"},
        {"type": "weight", "start": "2020-01-01", "end": "2026-10-01"},
        {"type": "weight", "start": "2026-02-30"},
    ],
)
def test_bad_trend_queries_are_400s(auth_client, builtin_types, params):
    assert auth_client.get(TREND, params).status_code == 400


def test_trend_query_count_does_not_grow_with_days(auth_client, user, builtin_types, django_assert_max_num_queries):
    start = dt.datetime(2026, 1, 1, 7, tzinfo=dt.UTC)
    for day in range(10):
        MeasurementFactory(user=user, value=Decimal(90 - day / 10), measured_at=start + dt.timedelta(days=day))
    params = {"type": "weight", "start": "2026-01-01", "end": "2026-12-31"}
    with django_assert_max_num_queries(3):
        assert len(auth_client.get(TREND, params).json()["points"]) == 10
    for day in range(10, 200):
        MeasurementFactory(user=user, value=Decimal(90 - day / 10), measured_at=start + dt.timedelta(days=day))
    with django_assert_max_num_queries(3):
        assert len(auth_client.get(TREND, params).json()["points"]) == 200


def test_blank_type_is_a_documented_400(auth_client):
    response = auth_client.get(reverse("measurement-trend"), {"start": "2000-01-01", "type": ""})
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "type"
    assert response.json()["errors"][0]["code"] == "blank"


def test_users_in_different_zones_share_no_compiled_grouping(builtin_types):
    """The daily means are compiled once per time zone: each user's days stay their own."""
    moment = dt.datetime(2026, 10, 5, 23, 30, tzinfo=dt.UTC)  # Oct 5 in New York, Oct 6 in Tokyo
    days = {}
    for zone in ("America/New_York", "Asia/Tokyo", "America/New_York", "UTC"):
        user = UserFactory(timezone=zone)
        MeasurementFactory(user=user, value=Decimal(70), measured_at=moment)
        points = daily_trend(
            user=user, measurement_type=builtin_types["weight"], start=dt.date(2026, 10, 1), end=dt.date(2026, 10, 9)
        )
        days.setdefault(zone, set()).update(point.date for point in points)
    assert days == {
        "America/New_York": {dt.date(2026, 10, 5)},
        "Asia/Tokyo": {dt.date(2026, 10, 6)},
        "UTC": {dt.date(2026, 10, 5)},
    }
