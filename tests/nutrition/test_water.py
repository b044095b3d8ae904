"""Water: GET, POST, PATCH, DELETE /api/v1/water/, in ml or US fluid ounces (the unit kept)."""

import datetime as dt
import uuid
from decimal import ROUND_HALF_EVEN, Decimal

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.nutrition.models import WaterEntry
from tests.conftest import client_for
from tests.nutrition.factories import WaterEntryFactory
from tests.schema_errors import is_documented
from tests.users.factories import UserFactory

pytestmark = pytest.mark.django_db

WATER = "/api/v1/water/"
WHEN = "2026-11-21T10:15:00+01:00"
FL_OZ = Decimal("29.5735")
CHECKS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def detail(pk):
    return f"{WATER}{pk}/"


def _ml(value, unit="ml") -> Decimal:
    """What `value` sent in `unit` is stored as: the value rounded half-even to 2 places, then
    in ml rounded half-even to 2 places."""
    sent = Decimal(repr(value) if isinstance(value, float) else str(value))
    sent = sent.quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)
    factor = FL_OZ if unit == "fl_oz" else Decimal(1)
    return (sent * factor).quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)


def test_log_in_ml(user, auth_client):
    response = auth_client.post(WATER, {"ml": 250, "consumed_at": WHEN}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["ml"], body["entered_value"], body["entered_unit"]) == (250.0, 250.0, "ml")
    assert body["local_date"] == "2026-11-21"
    assert {"value", "unit"}.isdisjoint(body)  # write-only
    entry = WaterEntry.objects.get(pk=body["id"])
    assert (entry.user_id, entry.ml) == (user.pk, Decimal("250.00"))


def test_log_in_fluid_ounces_keeps_the_entered_unit(auth_client):
    response = auth_client.post(WATER, {"value": 8, "unit": "fl_oz", "consumed_at": WHEN}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert Decimal(str(body["ml"])) == Decimal("236.59")  # 8 x 29.5735 = 236.588
    assert (body["entered_value"], body["entered_unit"]) == (8.0, "fl_oz")
    # A value without a unit is in ml.
    body = auth_client.post(WATER, {"value": 330, "consumed_at": WHEN}, format="json").json()
    assert (body["ml"], body["entered_unit"]) == (330.0, "ml")


def test_the_local_day_is_the_profiles(user, auth_client):
    user.timezone = "America/Los_Angeles"
    user.save()
    body = auth_client.post(WATER, {"ml": 200, "consumed_at": "2026-11-22T06:30:00Z"}, format="json").json()
    assert body["local_date"] == "2026-11-21"  # 22:30 the evening before in Los Angeles


@pytest.mark.parametrize(
    ("payload", "attr", "code"),
    [
        ({}, "ml", "required"),
        ({"ml": 250, "value": 250}, "ml", "invalid"),
        ({"ml": 250, "unit": "fl_oz"}, "ml", "invalid"),
        ({"ml": 0}, "ml", "min_value"),
        ({"ml": 5000.01}, "ml", "max_value"),
        ({"ml": -5}, "ml", "min_value"),
        ({"ml": "NaN"}, "ml", "invalid"),
        ({"ml": "Infinity"}, "ml", "invalid"),
        ({"ml": "1e400"}, "ml", "max_value"),
        ({"ml": True}, "ml", "invalid"),
        ({"ml": [250]}, "ml", "invalid"),
        ({"value": 200, "unit": "fl_oz"}, "value", "out_of_range"),  # 5,914.7 ml
        ({"value": 0.02, "unit": "fl_oz"}, "value", "out_of_range"),  # 0.59 ml
        ({"value": 8, "unit": "oz"}, "unit", "invalid_choice"),
        ({"value": 8, "unit": 1}, "unit", "invalid_choice"),
        ({"value": 8, "unit": ""}, "unit", "invalid_choice"),
        ({"value": 8, "unit": None}, "unit", "null"),
    ],
)
def test_bad_amounts_are_400_naming_the_field(auth_client, payload, attr, code):
    response = auth_client.post(WATER, {"consumed_at": WHEN, **payload}, format="json")
    assert response.status_code == 400, response.content
    errors = response.json()["errors"]
    assert (errors[0]["attr"], errors[0]["code"]) == (attr, code), errors
    assert not WaterEntry.objects.exists()
    assert all(is_documented(error["attr"], error["code"], WATER, "post") for error in errors), errors


@pytest.mark.parametrize(
    ("consumed_at", "code"),
    [
        ("1899-12-31T23:59:59Z", "out_of_range"),
        ("2026-11-21T10:15:00", "naive"),
        ("0001-01-01T00:00:00+14:00", "out_of_range"),
        ("9999-12-31T23:59:59-14:00", "future"),
        ("yesterday", "invalid"),
        (None, "null"),
    ],
)
def test_bad_times_are_400_naming_consumed_at(auth_client, consumed_at, code):
    response = auth_client.post(WATER, {"ml": 250, "consumed_at": consumed_at}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0] | {"detail": None} == {"attr": "consumed_at", "code": code, "detail": None}


def test_a_time_more_than_a_day_ahead_is_refused(auth_client):
    ahead = (timezone.now() + dt.timedelta(days=1, minutes=5)).isoformat()
    response = auth_client.post(WATER, {"ml": 250, "consumed_at": ahead}, format="json")
    assert (response.status_code, response.json()["errors"][0]["code"]) == (400, "future")


units = st.sampled_from(["ml", "fl_oz"]) | st.text(max_size=6) | st.integers() | st.none() | st.booleans()
numbers = (
    st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from(["NaN", "Infinity", "-Infinity", "1e400", "0x10", ""])
    | st.decimals(allow_nan=False, allow_infinity=False).map(str)
    | st.text(max_size=12)
    | st.booleans()
    | st.none()
)


@CHECKS
@given(value=numbers, unit=units, by_ml=st.booleans())
def test_any_number_and_unit_is_a_201_or_a_400_never_a_500(user, value, unit, by_ml):
    body = {"consumed_at": WHEN, "id": str(uuid.uuid4())}
    body.update({"ml": value} if by_ml else {"value": value, "unit": unit})
    response = client_for(user).post(WATER, body, format="json")
    assert response.status_code in (201, 400), response.content
    if response.status_code == 400:
        errors = response.json()["errors"]
        assert errors[0]["attr"] in {"ml", "value", "unit"}
        assert all(is_documented(error["attr"], error["code"], WATER, "post") for error in errors), errors
        assert not WaterEntry.objects.filter(pk=body["id"]).exists()
        return
    stored = WaterEntry.objects.get(pk=body["id"])
    assert stored.ml == _ml(value, "ml" if by_ml else unit or "ml")
    assert Decimal(1) <= stored.ml <= Decimal(5000)
    assert Decimal(str(response.json()["ml"])) == stored.ml


def test_change_the_amount_or_the_time(user, auth_client):
    entry = auth_client.post(WATER, {"value": 8, "unit": "fl_oz", "consumed_at": WHEN}, format="json").json()
    # A value alone keeps the entered unit.
    body = auth_client.patch(detail(entry["id"]), {"value": 12}, format="json").json()
    assert (Decimal(str(body["ml"])), body["entered_value"], body["entered_unit"]) == (Decimal("354.88"), 12.0, "fl_oz")
    # A unit alone says the value was in that unit.
    body = auth_client.patch(detail(entry["id"]), {"unit": "ml"}, format="json").json()
    assert (body["ml"], body["entered_value"], body["entered_unit"]) == (12.0, 12.0, "ml")
    body = auth_client.patch(detail(entry["id"]), {"ml": 500}, format="json").json()
    assert (body["ml"], body["entered_value"], body["entered_unit"]) == (500.0, 500.0, "ml")
    body = auth_client.patch(detail(entry["id"]), {"consumed_at": "2026-11-19T23:30:00+00:00"}, format="json").json()
    assert (body["ml"], body["local_date"]) == (500.0, "2026-11-19")
    response = auth_client.patch(detail(entry["id"]), {"value": 300, "unit": "fl_oz"}, format="json")
    assert (response.status_code, response.json()["errors"][0]["attr"]) == (400, "value")
    response = auth_client.patch(detail(entry["id"]), {"ml": 300, "value": 3}, format="json")
    assert (response.status_code, response.json()["errors"][0]["attr"]) == (400, "ml")
    assert is_documented("ml", "invalid", f"{WATER}{{id}}/", "patch")
    assert is_documented("value", "out_of_range", f"{WATER}{{id}}/", "patch")
    assert WaterEntry.objects.get(pk=entry["id"]).ml == Decimal("500.00")


def test_delete(user, auth_client):
    entry = WaterEntryFactory(user=user)
    assert auth_client.delete(detail(entry.pk)).status_code == 204
    assert not WaterEntry.objects.filter(pk=entry.pk).exists()
    assert auth_client.delete(detail(entry.pk)).status_code == 404


def test_client_ids_and_idempotency(user, auth_client):
    chosen = str(uuid.uuid4())
    body = {"id": chosen, "value": 8, "unit": "fl_oz", "consumed_at": WHEN}
    assert auth_client.post(WATER, body, format="json").status_code == 201
    again = auth_client.post(WATER, body, format="json")
    assert (again.status_code, again.json()["id"]) == (200, chosen)
    differing = auth_client.post(WATER, {**body, "value": 9}, format="json")
    assert differing.status_code == 409
    in_ml = {"id": str(uuid.uuid4()), "ml": 250, "consumed_at": WHEN}
    assert auth_client.post(WATER, in_ml, format="json").status_code == 201
    assert auth_client.post(WATER, in_ml, format="json").status_code == 200
    assert auth_client.post(WATER, {**in_ml, "ml": 251}, format="json").status_code == 409
    # Someone else's id is refused without saying whose.
    theirs = WaterEntryFactory(user=UserFactory())
    response = auth_client.post(WATER, {**in_ml, "id": str(theirs.pk)}, format="json")
    assert response.status_code == 409
    # An Idempotency-Key replays the first answer and creates nothing.
    keyed = {"ml": 100, "consumed_at": WHEN}
    first = auth_client.post(WATER, keyed, format="json", HTTP_IDEMPOTENCY_KEY="drink-1")
    replay = auth_client.post(WATER, keyed, format="json", HTTP_IDEMPOTENCY_KEY="drink-1")
    assert first.status_code == 201
    assert (replay.status_code, replay.json()["id"], replay["Idempotent-Replayed"]) == (201, first.json()["id"], "true")
    assert WaterEntry.objects.filter(user=user).count() == 3


def test_the_list_is_newest_first_filtered_by_local_day_and_private(user, auth_client):
    days = [dt.datetime(2026, 11, day, 9, tzinfo=dt.UTC) for day in (18, 19, 20, 21)]
    mine = [WaterEntryFactory(user=user, consumed_at=at) for at in days]
    WaterEntryFactory(user=UserFactory(), consumed_at=days[-1])
    body = auth_client.get(WATER).json()
    assert [item["id"] for item in body["results"]] == [str(entry.pk) for entry in reversed(mine)]
    body = auth_client.get(WATER, {"date_after": "2026-11-19", "date_before": "2026-11-20"}).json()
    assert [item["local_date"] for item in body["results"]] == ["2026-11-20", "2026-11-19"]
    assert [item["id"] for item in auth_client.get(WATER, {"date": "2026-11-21"}).json()["results"]] == [
        str(mine[-1].pk)
    ]
    for params in ({"date": "2026-13-01"}, {"date": ""}, {"cursor": "forged"}, {"page_size": "0"}):
        response = auth_client.get(WATER, params)
        assert (response.status_code, response.json()["errors"][0]["attr"]) == (400, next(iter(params)))


@pytest.mark.parametrize("rows", [3, 120])
def test_the_list_is_one_query_whatever_the_rows(user, auth_client, django_assert_num_queries, rows):
    WaterEntryFactory.create_batch(rows, user=user)
    with django_assert_num_queries(1):  # the page (the user comes from the token; a cursor needs no count)
        response = auth_client.get(WATER, {"page_size": 50})
    assert len(response.json()["results"]) == min(rows, 50)
    assert bool(response.json()["next"]) == (rows > 50)


def test_logging_costs_a_few_statements(auth_client, django_assert_max_num_queries):
    with django_assert_max_num_queries(10):  # with its Idempotency-Key
        response = auth_client.post(
            WATER, {"ml": 250, "consumed_at": WHEN}, format="json", HTTP_IDEMPOTENCY_KEY="a-glass"
        )
    assert response.status_code == 201


def test_anonymous_callers_are_401(api_client):
    assert api_client.get(WATER).status_code == 401
    assert api_client.post(WATER, {"ml": 250, "consumed_at": WHEN}, format="json").status_code == 401


# --- The day summary, targets and adherence ---------------------------------------------

SUMMARY = "/api/v1/diary/summary/"
ADHERENCE = "/api/v1/nutrition-targets/adherence/"
TARGETS = "/api/v1/nutrition-targets/"


def _drink(user, at, ml):
    from apps.nutrition import services

    return services.log_water(user=user, consumed_at=at, ml=Decimal(str(ml)))


def test_the_day_summary_adds_up_each_local_days_water(user, auth_client):
    user.timezone = "Asia/Tokyo"
    user.save()
    drinks = [
        (dt.datetime(2026, 11, 19, 23, 0, tzinfo=dt.UTC), 300),  # 08:00 on the 20th in Tokyo
        (dt.datetime(2026, 11, 20, 3, 0, tzinfo=dt.UTC), 250.5),
        (dt.datetime(2026, 11, 20, 16, 0, tzinfo=dt.UTC), 400),  # 01:00 on the 21st in Tokyo
        (dt.datetime(2026, 11, 22, 1, 0, tzinfo=dt.UTC), 1000),  # after the range
    ]
    for at, ml in drinks:
        _drink(user, at, ml)
    WaterEntryFactory(user=UserFactory(), local_date=dt.date(2026, 11, 20), ml=Decimal(999))
    days = auth_client.get(SUMMARY, {"start": "2026-11-19", "end": "2026-11-21"}).json()["days"]
    expected = {}
    for entry in WaterEntry.objects.filter(user=user, local_date__range=("2026-11-19", "2026-11-21")):
        expected[entry.local_date.isoformat()] = expected.get(entry.local_date.isoformat(), 0) + float(entry.ml)
    assert {day["date"]: day["water_ml"] for day in days} == {
        "2026-11-19": expected.get("2026-11-19", 0.0),
        "2026-11-20": expected["2026-11-20"],
        "2026-11-21": expected["2026-11-21"],
    }
    assert [day["water_ml"] for day in days] == [0.0, 550.5, 400.0]


@pytest.mark.parametrize("days", [7, 300])
def test_the_summary_stays_one_round_trip_with_water(user, auth_client, django_assert_num_queries, days):
    start = dt.date(2026, 1, 1)
    for offset in range(0, days, 2):
        WaterEntryFactory(user=user, local_date=start + dt.timedelta(days=offset))
    end = start + dt.timedelta(days=days - 1)
    with django_assert_num_queries(1) as captured:  # the sums, the targets and the water, sent together
        response = auth_client.get(SUMMARY, {"start": start.isoformat(), "end": end.isoformat()})
    (statement,) = [query["sql"] for query in captured.captured_queries]
    assert "nutrition_waterentry" in statement
    assert sum(day["water_ml"] for day in response.json()["days"]) == 250.0 * len(range(0, days, 2))


def test_a_target_may_set_water(user, auth_client):
    response = auth_client.post(
        TARGETS, {"energy_kcal": 2000, "water_ml": 2500.04, "effective_from": "2026-11-01"}, format="json"
    )
    assert response.status_code == 201, response.json()
    assert response.json()["water_ml"] == 2500.0
    response = auth_client.post(TARGETS, {"energy_kcal": 2000, "effective_from": "2026-11-02"}, format="json")
    assert response.json()["water_ml"] is None
    for bad in (0, -1, 20000.5, "NaN", True):
        response = auth_client.post(
            TARGETS, {"energy_kcal": 2000, "water_ml": bad, "effective_from": "2026-11-03"}, format="json"
        )
        assert (response.status_code, response.json()["errors"][0]["attr"]) == (400, "water_ml"), bad
    day = auth_client.get(SUMMARY, {"start": "2026-11-01", "end": "2026-11-01"}).json()["days"][0]
    assert day["target"]["water_ml"] == 2500.0


def test_adherence_says_whether_the_water_target_was_met(user, auth_client):
    from apps.nutrition import services

    services.set_nutrition_target(
        user=user, energy_kcal=Decimal(2000), water_ml=Decimal(1500), effective_from=dt.date(2026, 11, 19)
    )
    services.set_nutrition_target(user=user, energy_kcal=Decimal(2000), effective_from=dt.date(2026, 11, 21))
    _drink(user, dt.datetime(2026, 11, 19, 9, tzinfo=dt.UTC), 1000)
    _drink(user, dt.datetime(2026, 11, 19, 15, tzinfo=dt.UTC), 500)  # exactly met
    _drink(user, dt.datetime(2026, 11, 20, 9, tzinfo=dt.UTC), 1499.99)
    _drink(user, dt.datetime(2026, 11, 21, 9, tzinfo=dt.UTC), 3000)  # no water in that target
    days = auth_client.get(ADHERENCE, {"start": "2026-11-18", "end": "2026-11-21"}).json()["days"]
    assert [(d["date"], d["water_ml"], d["water_met"]) for d in days] == [
        ("2026-11-18", 0.0, None),  # no target
        ("2026-11-19", 1500.0, True),
        ("2026-11-20", 1499.99, False),
        ("2026-11-21", 3000.0, None),
    ]


def test_adherence_water_is_null_after_today(user, auth_client):
    from apps.nutrition import services

    today = user.local_today()
    services.set_nutrition_target(
        user=user, energy_kcal=Decimal(2000), water_ml=Decimal(1500), effective_from=today - dt.timedelta(days=1)
    )
    tomorrow = (today + dt.timedelta(days=1)).isoformat()
    (last,) = auth_client.get(ADHERENCE, {"start": tomorrow, "end": tomorrow}).json()["days"]
    assert (last["water_ml"], last["water_met"]) == (0.0, None)


def test_adherence_stays_one_round_trip_with_water(user, auth_client, django_assert_max_num_queries):
    WaterEntryFactory.create_batch(5, user=user)
    auth_client.get(ADHERENCE, {"start": "2026-11-01", "end": "2026-11-30"})  # the user row, once
    with django_assert_max_num_queries(2) as captured:  # the user (today's zone), then one round trip
        auth_client.get(ADHERENCE, {"start": "2026-11-01", "end": "2026-11-30"})
    assert sum("nutrition_waterentry" in query["sql"] for query in captured.captured_queries) == 1


def test_reads_and_edits_cost_a_few_statements(user, auth_client, django_assert_max_num_queries):
    entry = WaterEntryFactory(user=user)
    with django_assert_max_num_queries(1):  # the row (the user comes from the token)
        assert auth_client.get(detail(entry.pk)).status_code == 200
    with django_assert_max_num_queries(4):  # the row, the update in a savepoint
        response = auth_client.patch(detail(entry.pk), {"value": 10, "unit": "fl_oz"}, format="json")
    assert response.status_code == 200
    with django_assert_max_num_queries(5):  # and the user's time zone, for the local day
        response = auth_client.patch(detail(entry.pk), {"consumed_at": WHEN}, format="json")
    assert response.status_code == 200
    with django_assert_max_num_queries(2):  # the row, the delete
        assert auth_client.delete(detail(entry.pk)).status_code == 204
