"""Numbers as clients send them: any finite number in range is taken and rounded half-even
to the column's places (what is stored is what is answered); anything else is a 400. The
range is that of the number as sent, before rounding, as the schema's minimum/maximum say."""

import functools
import math
import uuid
from decimal import ROUND_HALF_EVEN, Decimal

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from rest_framework import serializers

from fithub import bounds
from fithub.api.fields import RoundedDecimalField
from tests.conftest import client_for

pytestmark = pytest.mark.django_db
CHECKS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
WHEN = "2026-11-21T07:00:00+01:00"


def _rounded(number, places: int) -> Decimal:
    return Decimal(repr(number) if isinstance(number, float) else str(number)).quantize(
        Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN
    )


def _measure(client, value):
    return client.post(
        "/api/v1/measurements/",
        {"id": str(uuid.uuid4()), "type": "weight", "value": value, "measured_at": WHEN},
        format="json",
    )


@CHECKS
@given(value=st.floats(min_value=20, max_value=500) | st.decimals(min_value=20, max_value=500, places=8))
def test_a_weight_in_range_is_stored_rounded_half_even(user, builtin_types, value):
    value = float(value) if isinstance(value, Decimal) else value
    response = _measure(client_for(user), value)
    expected = _rounded(value, 4)
    if not Decimal(20) <= expected <= Decimal(500):
        assert response.status_code == 400
        return
    assert response.status_code == 201, response.json()
    assert Decimal(str(response.json()["value"])) == expected


@CHECKS
@given(value=st.floats(allow_nan=False, allow_infinity=False).filter(lambda v: not 19 <= v <= 501))
def test_a_weight_out_of_range_is_a_400_naming_value(user, builtin_types, value):
    response = _measure(client_for(user), value)
    assert response.status_code == 400
    assert {error["attr"] for error in response.json()["errors"]} == {"value"}


@pytest.mark.parametrize(
    ("value", "stored"),
    [(74.84290263174965, "74.8429"), (72.12345, "72.1234"), (72.12355, "72.1236"), ("81.00005", "81.0000")],
)
def test_what_a_phone_computes_is_taken(user, builtin_types, value, stored):
    response = _measure(client_for(user), value)
    assert response.status_code == 201
    assert Decimal(str(response.json()["value"])) == Decimal(stored)


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-inf", "1e400", 1e20, "12abc", True])
def test_what_no_column_holds_is_a_400(user, builtin_types, value):
    response = _measure(client_for(user), value)
    assert response.status_code == 400
    assert {error["attr"] for error in response.json()["errors"]} == {"value"}


@pytest.mark.parametrize(("kcal", "stored"), [(2000.25, "2000.2"), (2000.35, "2000.4"), (1999.95, "2000.0")])
def test_a_kcal_target_is_rounded_half_even(user, kcal, stored):
    response = client_for(user).post(
        "/api/v1/nutrition-targets/", {"energy_kcal": kcal, "effective_from": "2026-11-01"}, format="json"
    )
    assert response.status_code == 201, response.json()
    assert Decimal(str(response.json()["energy_kcal"])) == Decimal(stored)


@CHECKS
@given(height=st.floats(min_value=30, max_value=300))
def test_a_height_in_range_is_stored_rounded(user, height):
    response = client_for(user).patch("/api/v1/users/me/", {"height_cm": height}, format="json")
    assert response.status_code == 200, response.json()
    assert Decimal(str(response.json()["height_cm"])) == _rounded(height, 1)


# Every bounded decimal input: (method, path, field, places, low, high, the rest of the body).
TARGET = {"energy_kcal": 2000, "effective_from": "2026-11-01"}
BOUNDED = [
    ("patch", "/api/v1/users/me/", "height_cm", 1, *bounds.HEIGHT_CM, {}),
    ("post", "/api/v1/nutrition-targets/", "energy_kcal", 1, Decimal(1), Decimal(20000), TARGET),
    ("post", "/api/v1/nutrition-targets/", "protein_g", 1, Decimal(0), Decimal(2000), TARGET),
    ("post", "/api/v1/nutrition-targets/", "fat_g", 1, Decimal(0), Decimal(2000), TARGET),
    ("post", "/api/v1/nutrition-targets/", "carbohydrate_g", 1, Decimal(0), Decimal(2000), TARGET),
]
numbers = (
    st.floats(allow_nan=False, allow_infinity=False)
    | st.floats(min_value=-10, max_value=25000)
    | st.decimals(min_value=-10, max_value=25000, places=6).map(float)
    | st.decimals(allow_nan=False, allow_infinity=False).map(str)
)


def _send(client, method, path, body):
    return getattr(client, method)(path, body, format="json")


@pytest.mark.parametrize(("method", "path", "field", "places", "low", "high", "rest"), BOUNDED)
@CHECKS
@given(number=numbers, near=st.sampled_from([None, "low", "high"]), by=st.decimals(min_value=-1, max_value=1, places=3))
def test_any_finite_number_is_taken_exactly_when_it_is_in_range_as_sent(
    user, method, path, field, places, low, high, rest, number, near, by
):
    """In range as sent: stored and answered rounded half-even. Out of range as sent, even by
    less than the rounding (300.04): a 400 naming the field."""
    from apps.nutrition.models import NutritionTarget

    if near is not None:  # just around a bound, where rounding used to hide the excess
        number = float((low if near == "low" else high) + by)

    NutritionTarget.objects.filter(user=user).delete()
    response = _send(client_for(user), method, path, {**rest, field: number})
    sent = Decimal(repr(number) if isinstance(number, float) else number)
    if low <= sent <= high:
        assert response.status_code in (200, 201), response.json()
        assert Decimal(str(response.json()[field])) == _rounded(number, places)
    else:
        assert response.status_code == 400
        assert {error["attr"] for error in response.json()["errors"]} == {field}


@pytest.mark.parametrize(("method", "path", "field", "places", "low", "high", "rest"), BOUNDED)
@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "nan", "1e400"])
def test_nan_and_infinity_are_refused(user, method, path, field, places, low, high, rest, number):
    response = _send(client_for(user), method, path, {**rest, field: number})
    assert response.status_code == 400
    assert {error["attr"] for error in response.json()["errors"]} == {field}


@pytest.mark.parametrize("height", [300.04, 300.01, "300.0000001", 29.96, 29.99999])
def test_a_height_past_the_bound_by_less_than_the_rounding_is_refused(user, height):
    response = client_for(user).patch("/api/v1/users/me/", {"height_cm": height}, format="json")
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["attr"] == "height_cm"
    assert error["code"] in {"max_value", "min_value"}
    user.refresh_from_db()
    assert user.height_cm is None


@pytest.mark.parametrize(("height", "stored"), [(300, "300.0"), (299.96, "300.0"), (30, "30.0"), (175.25, "175.2")])
def test_a_height_at_the_bounds_is_taken(user, height, stored):
    response = client_for(user).patch("/api/v1/users/me/", {"height_cm": height}, format="json")
    assert response.status_code == 200, response.json()
    assert Decimal(str(response.json()["height_cm"])) == Decimal(stored)


@settings(max_examples=300, deadline=None)
@example(number=300.04)
@example(number=Decimal("29.96"))
@example(number="300.0000001")
@given(number=st.decimals(allow_nan=False, allow_infinity=False) | st.floats(allow_nan=False, allow_infinity=False))
def test_the_field_checks_the_range_on_the_number_as_sent(number):
    field = RoundedDecimalField(max_digits=5, decimal_places=1, min_value=30, max_value=300)
    sent = Decimal(repr(number) if isinstance(number, float) else str(number))
    if 30 <= sent <= 300:
        assert field.run_validation(number) == _rounded(number, 1)
    else:
        with pytest.raises(serializers.ValidationError):
            field.run_validation(number)


@pytest.mark.parametrize("number", [math.nan, math.inf, -math.inf, "NaN", "Infinity", "-inf", "sNaN"])
def test_the_field_refuses_what_is_not_finite(number):
    with pytest.raises(serializers.ValidationError):
        RoundedDecimalField(max_digits=5, decimal_places=1).run_validation(number)


def test_the_weight_type_keeps_its_human_range(builtin_types):
    weight = builtin_types["weight"]
    assert (weight.min_value, weight.max_value) == bounds.WEIGHT_KG


@functools.cache
def schema_components() -> dict:
    from drf_spectacular.generators import SchemaGenerator

    return SchemaGenerator().get_schema(request=None, public=True)["components"]["schemas"]


def test_the_schema_states_each_bound_and_precision():
    height = schema_components()["PatchedUserRequest"]["properties"]["height_cm"]
    assert (height["minimum"], height["maximum"]) == (30, 300)
    assert "Rounded half-even to 1 decimal places." in height["description"]
    kcal = schema_components()["NutritionTargetRequest"]["properties"]["energy_kcal"]
    assert (kcal["minimum"], kcal["maximum"]) == (1, 20000)
    assert "multipleOf" not in str(schema_components())


def test_the_schema_states_the_precision():
    from rest_framework.test import APIClient

    schema = APIClient().get("/api/schema/?format=json").json()
    described = schema["components"]["schemas"]["MeasurementRequest"]["properties"]["value"]["description"]
    assert "Rounded half-even to 4 decimal places." in described
    assert "multipleOf" not in str(schema["components"]["schemas"]["MeasurementRequest"])
