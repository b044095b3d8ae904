"""The profile's computed fields: bmi, bmr_kcal (Mifflin-St Jeor) and tdee_kcal."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from tests.measurements.factories import MeasurementFactory

pytestmark = pytest.mark.django_db

ME = reverse("users-me")


def born_years_ago(years: int) -> dt.date:
    """A birth date that makes the user exactly `years` old today (birthday 40 days ago)."""
    day = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=40)
    return day.replace(year=day.year - years, day=min(day.day, 28))


def set_profile(user, **fields):
    for name, value in fields.items():
        setattr(user, name, value)
    user.save()


def weigh(user, kg, days_ago=0):
    MeasurementFactory(
        user=user, value=Decimal(str(kg)), measured_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=days_ago, hours=1)
    )


def test_known_female_profile(auth_client, user, builtin_types):
    set_profile(user, sex="female", height_cm=Decimal(165), birth_date=born_years_ago(36), activity_level="moderate")
    weigh(user, 62, days_ago=10)
    weigh(user, 60)  # the latest weight counts
    body = auth_client.get(ME).json()
    assert body["age"] == 36
    assert body["bmi"] == 22.0  # 60 / 1.65^2 = 22.04
    assert body["bmr_kcal"] == 1290  # 10*60 + 6.25*165 - 5*36 - 161 = 1290.25
    assert body["tdee_kcal"] == 2000  # 1290.25 * 1.55 = 1999.89


def test_known_male_profile(auth_client, user, builtin_types):
    set_profile(user, sex="male", height_cm=Decimal(180), birth_date=born_years_ago(30), activity_level="active")
    weigh(user, 80)
    body = auth_client.get(ME).json()
    assert body["bmi"] == 24.7  # 80 / 1.8^2 = 24.69
    assert body["bmr_kcal"] == 1780  # 800 + 1125 - 150 + 5
    assert body["tdee_kcal"] == 3071  # 1780 * 1.725 = 3070.5, rounded half up


def test_missing_inputs_give_nulls_not_errors(auth_client, user, builtin_types):
    body = auth_client.get(ME).json()
    assert (body["bmi"], body["bmr_kcal"], body["tdee_kcal"]) == (None, None, None)
    weigh(user, 70)
    body = auth_client.get(ME).json()
    assert (body["bmi"], body["bmr_kcal"]) == (None, None)  # no height
    set_profile(user, height_cm=Decimal(170))
    body = auth_client.get(ME).json()
    assert (body["bmi"], body["bmr_kcal"], body["tdee_kcal"]) == (24.2, None, None)  # no sex, no birth date


def test_patch_response_uses_the_new_profile(auth_client, user, builtin_types):
    weigh(user, 80)
    body = auth_client.patch(ME, {"height_cm": 180}).json()
    assert body["bmi"] == 24.7


def test_other_users_weights_do_not_count(auth_client, user, builtin_types):
    set_profile(user, height_cm=Decimal(180))
    MeasurementFactory(value=Decimal(100))
    assert auth_client.get(ME).json()["bmi"] is None


def test_profile_is_a_constant_small_number_of_queries(auth_client, user, builtin_types, django_assert_num_queries):
    set_profile(user, sex="male", height_cm=Decimal(180), birth_date=born_years_ago(30))
    with django_assert_num_queries(2):  # the user (JWT), the latest weight
        auth_client.get(ME)
    for day in range(100):
        weigh(user, 80 + day / 10, days_ago=day)
    with django_assert_num_queries(2):
        assert auth_client.get(ME).json()["bmr_kcal"] is not None
