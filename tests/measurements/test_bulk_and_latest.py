import datetime as dt
import uuid
from decimal import Decimal

import pytest
from django.urls import reverse

from apps.measurements.models import Measurement
from tests.conftest import client_for
from tests.measurements.factories import MeasurementFactory, MeasurementTypeFactory
from tests.users.factories import UserFactory

pytestmark = pytest.mark.django_db

BULK = reverse("measurement-bulk")
LATEST = reverse("measurement-latest")


def week(values, unit="kg"):
    start = dt.datetime(2026, 6, 1, 7, tzinfo=dt.UTC)
    return [
        {"type": "weight", "value": value, "unit": unit, "measured_at": (start + dt.timedelta(days=i)).isoformat()}
        for i, value in enumerate(values)
    ]


def test_bulk_creates_the_whole_batch(auth_client, user, builtin_types):
    response = auth_client.post(BULK, {"items": week([180, 179.5, 179, 178.4], unit="lb")})
    assert response.status_code == 201, response.json()
    results = response.json()["results"]
    assert [row["entered_value"] for row in results] == [180, 179.5, 179, 178.4]
    assert results[0]["value"] == 81.6466  # 180 lb
    assert Measurement.objects.filter(user=user).count() == 4


@pytest.mark.parametrize(
    ("bad_row", "attr", "code"),
    [
        ({"value": 5000}, "items.2.value", "out_of_range"),
        ({"value": "NaN"}, "items.2.value", "invalid"),
        ({"unit": "cm"}, "items.2.unit", "invalid_unit"),
        ({"type": "nope"}, "items.2.type", "does_not_exist"),
        ({"measured_at": "not a time"}, "items.2.measured_at", "invalid"),
        ({"measured_at": "2099-01-01T00:00:00Z"}, "items.2.measured_at", "future"),
    ],
)
def test_bulk_is_all_or_nothing_and_names_the_row(auth_client, builtin_types, bad_row, attr, code):
    items = week([81, 80.5, 80, 79.5])
    items[2].update(bad_row)
    response = auth_client.post(BULK, {"items": items})
    assert response.status_code == 400, response.json()
    assert [(error["attr"], error["code"]) for error in response.json()["errors"]] == [(attr, code)]
    assert not Measurement.objects.exists()


@pytest.mark.parametrize("body", [{"items": []}, {"items": "x"}, {}, {"items": [1, 2]}])
def test_bulk_rejects_malformed_batches(auth_client, builtin_types, body):
    assert auth_client.post(BULK, body, format="json").status_code == 400
    assert not Measurement.objects.exists()


def test_bulk_is_limited_to_500_rows(auth_client, builtin_types):
    items = week([80]) * 501
    assert auth_client.post(BULK, {"items": items}).status_code == 400
    assert not Measurement.objects.exists()


def test_bulk_resent_with_ids_creates_nothing_twice(auth_client, user, builtin_types):
    items = [{**row, "id": str(uuid.uuid4())} for row in week([81, 80.5])]
    assert auth_client.post(BULK, {"items": items}).status_code == 201
    again = auth_client.post(BULK, {"items": [*items, *week([80])]})
    assert again.status_code == 201
    assert [row["id"] for row in again.json()["results"][:2]] == [items[0]["id"], items[1]["id"]]
    assert Measurement.objects.filter(user=user).count() == 3
    # Another user re-using those ids is refused and writes nothing.
    other = client_for(UserFactory())
    response = other.post(BULK, {"items": [*week([70]), items[1]]})
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "items.1.id"
    assert Measurement.objects.count() == 3
    duplicate = auth_client.post(BULK, {"items": [items[0], items[0]]})
    assert duplicate.status_code == 400


def test_bulk_query_count_does_not_grow_with_the_batch(auth_client, user, builtin_types, django_assert_max_num_queries):
    with django_assert_max_num_queries(8):
        assert auth_client.post(BULK, {"items": week([81, 80])}).status_code == 201
    with django_assert_max_num_queries(8):
        assert auth_client.post(BULK, {"items": week([80] * 100)}).status_code == 201


def test_latest_gives_one_row_per_type(auth_client, user, builtin_types):
    base = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    for day in range(3):
        MeasurementFactory(user=user, value=Decimal(80 - day), measured_at=base + dt.timedelta(days=day))
    MeasurementFactory(user=user, type=builtin_types["waist"], value=Decimal(91), measured_at=base)
    MeasurementFactory(user=user, type=builtin_types["waist"], value=Decimal(90), measured_at=base - dt.timedelta(1))
    own = MeasurementTypeFactory(user=user, name="Calf", unit="cm")
    MeasurementFactory(user=user, type=own, value=Decimal(38), measured_at=base)
    MeasurementFactory(value=Decimal(120), measured_at=base + dt.timedelta(days=5))  # someone else's
    rows = auth_client.get(LATEST).json()
    assert {row["type_key"] or row["type"]: row["value"] for row in rows} == {
        "weight": 78,
        "waist": 91,
        str(own.pk): 38,
    }


def test_latest_is_one_query(auth_client, user, builtin_types, django_assert_max_num_queries):
    MeasurementFactory.create_batch(2, user=user)
    with django_assert_max_num_queries(2):  # the user (JWT) and the window query
        assert len(auth_client.get(LATEST).json()) == 1
    for key in ("waist", "hips", "chest", "neck"):
        MeasurementFactory.create_batch(5, user=user, type=builtin_types[key], value=Decimal(50))
    with django_assert_max_num_queries(2):
        assert len(auth_client.get(LATEST).json()) == 5


def test_bulk_losing_a_race_on_an_id_is_a_400_not_a_500(auth_client, user, builtin_types, monkeypatch):
    from apps.measurements import services

    row = {**week([80])[0], "id": str(uuid.uuid4())}
    real_filter = services.Measurement.objects.filter

    def filter_missing_the_concurrent_row(*args, **kwargs):
        # The existence check runs before a concurrent request commits the same id.
        if "pk__in" in kwargs:
            MeasurementFactory(id=row["id"], user=user)
            return real_filter(pk__in=[])
        return real_filter(*args, **kwargs)

    monkeypatch.setattr(services.Measurement.objects, "filter", filter_missing_the_concurrent_row)
    response = auth_client.post(BULK, {"items": [row]})
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "conflict"


def test_bulk_without_items_is_a_400_on_items(auth_client):
    response = auth_client.post(reverse("measurement-bulk"), {}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == [{"code": "required", "detail": "This field is required.", "attr": "items"}]


def test_bulk_with_a_null_row_is_a_400_on_that_row(auth_client):
    response = auth_client.post(reverse("measurement-bulk"), {"items": [None]}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == [{"code": "null", "detail": "This field may not be null.", "attr": "items.0"}]
