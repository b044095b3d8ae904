"""Numbers as clients send them: any finite number in range is taken and rounded half-even
to the column's places (what is stored is what is answered); anything else is a 400."""

import uuid
from decimal import ROUND_HALF_EVEN, Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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
    expected = _rounded(height, 1)
    if not Decimal(30) <= expected <= Decimal(300):
        assert response.status_code == 400
        return
    assert response.status_code == 200, response.json()
    assert Decimal(str(response.json()["height_cm"])) == expected


def test_the_schema_states_the_precision():
    from rest_framework.test import APIClient

    schema = APIClient().get("/api/schema/?format=json").json()
    described = schema["components"]["schemas"]["MeasurementRequest"]["properties"]["value"]["description"]
    assert "Rounded half-even to 4 decimal places." in described
    assert "multipleOf" not in str(schema["components"]["schemas"]["MeasurementRequest"])
