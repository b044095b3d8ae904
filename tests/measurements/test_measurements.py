import base64
import datetime as dt
import uuid
from decimal import Decimal

import orjson
import pytest
from django.urls import reverse

from apps.measurements.models import Measurement
from tests.conftest import client_for
from tests.measurements.factories import MeasurementFactory, MeasurementTypeFactory
from tests.users.factories import UserFactory

pytestmark = pytest.mark.django_db

LIST = reverse("measurement-list")
WHEN = "2026-11-20T07:15:00+01:00"


def detail(pk) -> str:
    return reverse("measurement-detail", args=[pk])


def test_record_a_weight_in_kg_by_key(auth_client, user, builtin_types):
    response = auth_client.post(LIST, {"type": "weight", "value": 81.25, "measured_at": WHEN, "note": "morning"})
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["type"] == str(builtin_types["weight"].pk)
    shown = (body["value"], body["stored_unit"], body["entered_value"], body["entered_unit"])
    assert shown == (81.25, "kg", 81.25, "kg")
    assert body["measured_at"] == "2026-11-20T06:15:00Z"
    assert Measurement.objects.get(pk=body["id"]).user == user


def test_pounds_are_stored_as_kg_and_shown_back(auth_client, builtin_types):
    body = auth_client.post(LIST, {"type": "weight", "value": 160, "unit": "lb", "measured_at": WHEN}).json()
    # 160 lb x 0.45359237 = 72.5747792 kg
    assert body["value"] == 72.5748
    assert (body["entered_value"], body["entered_unit"]) == (160, "lb")
    row = Measurement.objects.get(pk=body["id"])
    assert row.value == Decimal("72.5748")


def test_inches_are_stored_as_cm(auth_client, builtin_types):
    body = auth_client.post(LIST, {"type": "waist", "value": 32, "unit": "in", "measured_at": WHEN}).json()
    assert body["value"] == 81.28
    assert (body["entered_value"], body["entered_unit"], body["stored_unit"]) == (32, "in", "cm")


@pytest.mark.parametrize(
    ("payload", "attr"),
    [
        ({"type": "weight", "value": 0}, "value"),
        ({"type": "weight", "value": 5000}, "value"),
        ({"type": "weight", "value": 1200, "unit": "lb"}, "value"),  # 544 kg
        ({"type": "body_fat", "value": 90}, "value"),
        ({"type": "resting_heart_rate", "value": 5}, "value"),
        ({"type": "waist", "value": 3}, "value"),
        ({"type": "weight", "value": 80, "unit": "cm"}, "unit"),
        ({"type": "weight", "value": "NaN"}, "value"),
        ({"type": "weight", "value": "Infinity"}, "value"),
        ({"type": "weight", "value": 1e300}, "value"),
        ({"type": "weight", "value": "heavy"}, "value"),
        ({"type": "weight", "value": 80, "measured_at": "2026-13-45T00:00:00Z"}, "measured_at"),
        ({"type": "weight", "value": 80, "measured_at": "2099-01-01T00:00:00Z"}, "measured_at"),
        ({"type": "stride", "value": 80}, "type"),
        ({"type": str(uuid.uuid4()), "value": 80}, "type"),
        ({"type": 12, "value": 80}, "type"),
    ],
)
def test_invalid_measurements_are_400s_naming_the_field(auth_client, builtin_types, payload, attr):
    response = auth_client.post(LIST, {"measured_at": WHEN, **payload}, format="json")
    assert response.status_code == 400, response.content
    assert [error["attr"] for error in response.json()["errors"]] == [attr]
    assert not Measurement.objects.exists()


def test_range_bounds_are_inclusive(auth_client, builtin_types):
    assert auth_client.post(LIST, {"type": "weight", "value": 20, "measured_at": WHEN}).status_code == 201
    assert auth_client.post(LIST, {"type": "weight", "value": 500, "measured_at": WHEN}).status_code == 201


def test_custom_type_without_range_accepts_any_sane_value(auth_client, user):
    calf = MeasurementTypeFactory(user=user, unit="score")
    response = auth_client.post(LIST, {"type": str(calf.pk), "value": -3.5, "measured_at": WHEN})
    assert response.status_code == 201, response.json()
    assert response.json()["entered_unit"] == "score"


def test_patch_converts_and_keeps_the_type(auth_client, user, builtin_types):
    row = MeasurementFactory(user=user, value=Decimal(80))
    response = auth_client.patch(detail(row.pk), {"value": 170, "unit": "lb", "type": "body_fat", "note": "fixed"})
    assert response.status_code == 200, response.json()
    row.refresh_from_db()
    assert row.type == builtin_types["weight"]
    assert (row.value, row.entered_value, row.entered_unit, row.note) == (
        Decimal("77.1107"),
        Decimal(170),
        "lb",
        "fixed",
    )
    assert auth_client.patch(detail(row.pk), {"value": 5000, "unit": "kg"}).status_code == 400


def test_other_users_measurements_are_404(auth_client, builtin_types):
    theirs = MeasurementFactory()
    assert auth_client.get(detail(theirs.pk)).status_code == 404
    assert auth_client.patch(detail(theirs.pk), {"note": "x"}).status_code == 404
    assert auth_client.delete(detail(theirs.pk)).status_code == 404
    assert auth_client.get(LIST).json()["results"] == []


def test_delete(auth_client, user, builtin_types):
    row = MeasurementFactory(user=user)
    assert auth_client.delete(detail(row.pk)).status_code == 204
    assert not Measurement.objects.filter(pk=row.pk).exists()


def test_client_chosen_id_is_idempotent(auth_client, builtin_types):
    payload = {"id": str(uuid.uuid4()), "type": "weight", "value": 80, "measured_at": WHEN}
    assert auth_client.post(LIST, payload).status_code == 201
    again = auth_client.post(LIST, payload)
    assert again.status_code == 200
    assert again.json()["id"] == payload["id"]
    assert Measurement.objects.count() == 1
    assert client_for(UserFactory()).post(LIST, payload).status_code == 409


def test_list_is_newest_first_with_cursor_pages_and_filters(auth_client, user, builtin_types):
    start = dt.datetime(2026, 11, 1, 7, tzinfo=dt.UTC)
    for day in range(10):
        MeasurementFactory(user=user, value=Decimal(80 - day), measured_at=start + dt.timedelta(days=day))
    MeasurementFactory(user=user, type=builtin_types["waist"], value=Decimal(90), measured_at=start)
    first = auth_client.get(LIST, {"type": "weight", "page_size": 4}).json()
    assert [row["value"] for row in first["results"]] == [71, 72, 73, 74]
    assert "cursor=" in first["next"]
    second = auth_client.get(first["next"]).json()
    assert [row["value"] for row in second["results"]] == [75, 76, 77, 78]
    ranged = auth_client.get(LIST, {"type": "weight", "start": "2026-11-03T00:00:00Z", "end": "2026-11-05T12:00:00Z"})
    assert [row["value"] for row in ranged.json()["results"]] == [76, 77, 78]
    by_id = auth_client.get(LIST, {"type": str(builtin_types["waist"].pk)}).json()["results"]
    assert [row["value"] for row in by_id] == [90]
    assert auth_client.get(LIST, {"start": "yesterday"}).status_code == 400


def test_list_query_count_is_constant(auth_client, user, builtin_types, django_assert_max_num_queries):
    MeasurementFactory.create_batch(3, user=user)
    with django_assert_max_num_queries(2):
        assert len(auth_client.get(LIST).json()["results"]) == 3
    MeasurementFactory.create_batch(60, user=user, type=builtin_types["waist"], value=Decimal(90))
    with django_assert_max_num_queries(2):
        assert len(auth_client.get(LIST, {"page_size": 50}).json()["results"]) == 50


@pytest.mark.parametrize(
    "params",
    [
        {"start": "9999-12-31T23:59:59.999999-23:59"},
        {"end": "9999-12-31T23:59:59-01:00"},
        {"start": "0001-01-01T00:00:00+01:00"},
    ],
)
def test_times_beyond_the_storable_range_are_400s(auth_client, params):
    response = auth_client.get(reverse("measurement-list"), params)
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert (error["code"], error["attr"]) == ("invalid", next(iter(params)))


@pytest.mark.parametrize("position", [b"p=garbage", b"p=9999-12-31 23:59:59-23:59", b"p=2026-11-20 06:15:00"])
def test_forged_cursor_positions_are_invalid_cursors(auth_client, position):
    response = auth_client.get(reverse("measurement-list"), {"cursor": base64.b64encode(position).decode()})
    assert response.status_code == 404
    assert response.json()["errors"][0]["detail"] == "Invalid cursor"


def test_a_real_next_cursor_still_works(auth_client, user, builtin_types):
    for day in range(1, 4):
        MeasurementFactory(
            user=user, type=builtin_types["weight"], measured_at=dt.datetime(2026, 11, day, tzinfo=dt.UTC)
        )
    first = auth_client.get(reverse("measurement-list"), {"page_size": 2}).json()
    second = auth_client.get(first["next"]).json()
    assert len(first["results"]) == 2
    assert len(second["results"]) == 1


def test_readings_before_1900_are_refused(auth_client, builtin_types):
    payload = {"type": "weight", "value": 80, "measured_at": "0001-01-01T12:00:00Z"}
    response = auth_client.post(reverse("measurement-list"), payload)
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "measured_at"


def test_offsets_postgresql_does_not_accept_still_filter(auth_client, user, builtin_types):
    when = dt.datetime(1990, 1, 1, 12, tzinfo=dt.UTC)
    MeasurementFactory(user=user, type=builtin_types["weight"], measured_at=when)
    response = auth_client.get(reverse("measurement-list"), {"start": "1749-02-08T04:19:28.03-21:00"})
    assert response.status_code == 200
    assert len(response.json()["results"]) == 1
    response = auth_client.get(reverse("measurement-list"), {"start": "1990-01-01T12:00:01-21:00"})
    assert response.json()["results"] == []


@pytest.mark.parametrize("params", [{}, {"page_size": 4}, {"type": "weight", "page_size": 3}])
def test_list_pages_show_rows_as_drf_shows_them_with_the_measurement_serializer(
    user, builtin_types, django_assert_num_queries, params
):
    """The list reads `.values()` rows and renders them with MeasurementSerializer's plan:
    each row is what DRF's own field-by-field representation gives for the instance."""
    from rest_framework import serializers

    from apps.measurements.api.serializers import MeasurementSerializer

    start = dt.datetime(2026, 11, 1, 7, tzinfo=dt.UTC)
    for n in range(9):  # every third one at the time of the one before: the id breaks the tie
        when = start + dt.timedelta(hours=7 * (n - n % 3 // 2))
        MeasurementFactory(user=user, value=Decimal(80) - n, measured_at=when, entered_unit="lb" if n % 2 else "kg")
        MeasurementFactory(user=user, type=builtin_types["waist"], value=Decimal(90) + n, measured_at=when)
    MeasurementFactory(value=Decimal(100))  # someone else's
    client = client_for(user)
    found, url, query = [], LIST, params
    while url:
        body = client.get(url, query).json()
        found.extend(body["results"])
        url, query = body["next"], None
    instances = Measurement.objects.select_related("type").in_bulk([row["id"] for row in found], field_name="id")
    for row in found:
        instance = instances[uuid.UUID(row["id"])]
        expected = serializers.Serializer.to_representation(MeasurementSerializer(instance), instance)
        assert orjson.dumps(row) == orjson.dumps(expected, default=float)
    assert len(found) == (9 if "type" in params else 18)
    with django_assert_num_queries(1):  # the page (the user comes from the token)
        client.get(LIST, params)
