"""Times and dates as clients send them (fithub.bounds): a time needs its UTC offset, in
bodies and in query filters; diary and measurement times run from 1900-01-01T00:00Z to one
day ahead of now; birth dates from 1900-01-01 to today. Outside, a 400 naming the field (or
the parameter), never a 500 and never a guess."""

import datetime as dt
import importlib
import inspect
import uuid

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework import serializers

from apps.measurements.models import Measurement
from apps.nutrition.models import DiaryEntry
from fithub import bounds
from tests.conftest import client_for
from tests.measurements.factories import MeasurementFactory
from tests.nutrition.factories import MealFactory, MealItemFactory, PublicFoodFactory, QuickAddEntryFactory

pytestmark = pytest.mark.django_db
CHECKS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
DIARY = "/api/v1/diary/"
MEASUREMENTS = "/api/v1/measurements/"
UTC = dt.UTC

# Every offset a real zone uses, -14:00 to +14:00, to the minute.
offsets = st.integers(min_value=-14 * 60, max_value=14 * 60).map(lambda minutes: dt.timedelta(minutes=minutes))
# A moment well inside the range: 1900 to yesterday.
in_range = st.datetimes(min_value=dt.datetime(1900, 1, 2), max_value=dt.datetime(2026, 11, 30), timezones=st.just(UTC))  # noqa: DTZ001
any_wall_time = st.datetimes(min_value=dt.datetime(1, 1, 1), max_value=dt.datetime(9999, 12, 31, 23, 59, 59))  # noqa: DTZ001
NAIVE_FORMS = [
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%dT%H:%M:%S.%f",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d",
]


def _iso(moment: dt.datetime, offset: dt.timedelta) -> str:
    """`moment` written as the wall time at `offset`, with that offset."""
    return moment.astimezone(dt.timezone(offset)).isoformat()


def _wall(moment: dt.datetime, form: str) -> str:
    return f"{moment.year:04d}" + moment.strftime(form)[len(str(moment.year)) :]


def _quick_add(client, consumed_at):
    body = {"label": "Snack", "energy_kcal": 120, "meal": "snack", "consumed_at": consumed_at}
    return client.post(DIARY, body, format="json")


def _measure(client, measured_at):
    body = {"id": str(uuid.uuid4()), "type": "weight", "value": 80, "measured_at": measured_at}
    return client.post(MEASUREMENTS, body, format="json")


def _error(response) -> tuple[str, str]:
    assert response.status_code == 400, response.content
    [error] = response.json()["errors"]
    return error["attr"], error["code"]


# --- Offsets ---------------------------------------------------------------------------


@CHECKS
@given(moment=in_range, offset=offsets)
def test_a_time_with_any_real_offset_is_that_moment(user, builtin_types, moment, offset):
    client = client_for(user)
    sent = _iso(moment, offset)
    entry = _quick_add(client, sent)
    assert entry.status_code == 201, entry.json()
    assert DiaryEntry.objects.get(pk=entry.json()["id"]).consumed_at == moment
    measurement = _measure(client, sent)
    assert measurement.status_code == 201, measurement.json()
    assert Measurement.objects.get(pk=measurement.json()["id"]).measured_at == moment


@CHECKS
@given(moment=in_range.map(lambda m: m.replace(tzinfo=None)), form=st.sampled_from(NAIVE_FORMS))
def test_a_time_without_offset_is_refused_naming_the_field(user, builtin_types, moment, form):
    client = client_for(user)
    sent = _wall(moment, form)
    assert _error(_quick_add(client, sent)) == ("consumed_at", "naive")
    assert _error(_measure(client, sent)) == ("measured_at", "naive")


def test_a_naive_consumed_at_is_refused_not_read_as_utc(auth_client):
    response = _quick_add(auth_client, "2026-11-21T12:30:00")
    assert _error(response) == ("consumed_at", "naive")
    assert "offset" in response.json()["errors"][0]["detail"]
    assert not DiaryEntry.objects.exists()


def test_naive_times_are_refused_on_edits_logs_and_batches(user, auth_client, builtin_types):
    entry = QuickAddEntryFactory(user=user)
    patched = auth_client.patch(f"{DIARY}{entry.pk}/", {"consumed_at": "2026-11-21T12:30:00"}, format="json")
    assert _error(patched) == ("consumed_at", "naive")
    meal = MealFactory(user=user)
    MealItemFactory(meal=meal, food=PublicFoodFactory())
    logged = auth_client.post(
        reverse("meals-log", args=[meal.pk]), {"consumed_at": "2026-11-21T12:30:00"}, format="json"
    )
    assert _error(logged) == ("consumed_at", "naive")
    measurement = MeasurementFactory(user=user, type=builtin_types["weight"])
    patched = auth_client.patch(
        f"{MEASUREMENTS}{measurement.pk}/", {"measured_at": "2026-11-21T07:00:00"}, format="json"
    )
    assert _error(patched) == ("measured_at", "naive")
    items = [
        {"type": "weight", "value": 80, "measured_at": "2026-11-21T07:00:00Z"},
        {"type": "weight", "value": 80, "measured_at": "2026-11-22T07:00:00"},
    ]
    batch = auth_client.post(reverse("measurement-bulk"), {"items": items}, format="json")
    assert _error(batch) == ("items.1.measured_at", "naive")
    assert Measurement.objects.count() == 1


def test_every_writable_time_in_a_request_body_needs_an_offset():
    """Any serializer the schema lists as a request body (`...Request`) takes its times with
    an offset: a new writable datetime cannot quietly read local times as UTC."""
    from fithub.api.fields import AwareDateTimeField
    from tests.fithub.test_numbers import schema_components

    requests = {
        name.removeprefix("Patched").removesuffix("Request") for name in schema_components() if name.endswith("Request")
    }
    found = []
    for app in ("goals", "measurements", "nutrition", "users"):
        module = importlib.import_module(f"apps.{app}.api.serializers")
        for name, cls in inspect.getmembers(module, inspect.isclass):
            if not issubclass(cls, serializers.Serializer) or cls.__module__ != module.__name__:
                continue
            if name.removesuffix("Serializer") not in requests:
                continue
            for field_name, field in cls().fields.items():
                if isinstance(field, serializers.DateTimeField) and not field.read_only:
                    found.append((name, field_name))
                    assert isinstance(field, AwareDateTimeField), (name, field_name)
    assert {
        ("DiaryEntryWriteSerializer", "consumed_at"),
        ("MealLogSerializer", "consumed_at"),
        ("MeasurementSerializer", "measured_at"),
    } <= set(found)


# --- The range of diary and measurement times --------------------------------------------


@CHECKS
@given(wall=any_wall_time, offset=st.integers(min_value=-(24 * 60 - 1), max_value=24 * 60 - 1))
def test_any_time_outside_1900_to_tomorrow_is_a_400_naming_the_field(user, builtin_types, wall, offset):
    """Years 1 to 9999 at any offset Python accepts: accepted exactly when the moment falls in
    the range, otherwise a 400 naming the field; never a 500."""
    moment = wall.replace(tzinfo=dt.timezone(dt.timedelta(minutes=offset)))
    sent = moment.isoformat()
    try:
        expected = bounds.EARLIEST_TIME <= moment.astimezone(UTC) <= bounds.latest_time()
    except OverflowError:
        expected = False
    client = client_for(user)
    for response, field in ((_quick_add(client, sent), "consumed_at"), (_measure(client, sent), "measured_at")):
        if expected:
            assert response.status_code == 201, response.json()
        else:
            assert _error(response)[0] == field


@pytest.mark.parametrize(
    ("sent", "code"),
    [
        ("1899-12-31T23:59:59.999999Z", "out_of_range"),
        ("1900-01-01T00:59:59+01:00", "out_of_range"),
        ("0001-01-01T00:00:00Z", "out_of_range"),
        ("0001-01-01T00:00:00+14:00", "out_of_range"),
        ("9999-06-01T00:00:00Z", "future"),
        ("9999-12-31T23:59:59-12:00", "future"),
    ],
)
def test_times_beyond_the_bounds_are_refused(auth_client, builtin_types, sent, code):
    assert _error(_quick_add(auth_client, sent)) == ("consumed_at", code)
    assert _error(_measure(auth_client, sent)) == ("measured_at", code)


def test_the_bounds_themselves_are_accepted(auth_client, builtin_types):
    nearly_tomorrow = (dt.datetime.now(UTC) + dt.timedelta(days=1, minutes=-5)).isoformat()
    for sent in ("1900-01-01T00:00:00Z", "1900-01-01T01:00:00+01:00", nearly_tomorrow):
        assert _quick_add(auth_client, sent).status_code == 201, sent
        assert _measure(auth_client, sent).status_code == 201, sent
    too_late = (dt.datetime.now(UTC) + dt.timedelta(days=1, minutes=5)).isoformat()
    assert _error(_quick_add(auth_client, too_late)) == ("consumed_at", "future")


def test_the_diary_no_longer_sorts_year_9999_first(user, auth_client):
    assert _quick_add(auth_client, "9999-12-31T12:00:00Z").status_code == 400
    assert _quick_add(auth_client, "2026-11-21T12:00:00Z").status_code == 201
    assert [row["consumed_at"] for row in auth_client.get(DIARY).json()["results"]] == ["2026-11-21T12:00:00Z"]


def test_the_models_refuse_out_of_range_times_too(user, builtin_types):
    """The admin and every service's full_clean go through the models' validators."""
    entry = QuickAddEntryFactory.build(user=user, consumed_at=dt.datetime(1, 1, 1, tzinfo=UTC))
    with pytest.raises(ValidationError) as raised:
        entry.full_clean(exclude=["user", "food", "portion", "saved_meal"])
    assert "consumed_at" in raised.value.error_dict
    measurement = Measurement(
        user=user, type=builtin_types["weight"], value=80, entered_value=80, entered_unit="kg",
        measured_at=dt.datetime(9999, 1, 1, tzinfo=UTC),
    )  # fmt: skip
    with pytest.raises(ValidationError) as raised:
        measurement.full_clean(exclude=["user", "type"])
    assert [error.code for error in raised.value.error_dict["measured_at"]] == ["future"]


# --- Time filters ----------------------------------------------------------------------


@pytest.mark.parametrize("param", ["start", "end"])
@pytest.mark.parametrize("sent", ["2026-11-21T07:00:00", "2026-11-21 07:00", "2026-11-21"])
def test_a_filter_time_without_offset_is_a_400_naming_the_parameter(auth_client, param, sent):
    assert _error(auth_client.get(MEASUREMENTS, {param: sent})) == (param, "naive")


@CHECKS
@given(
    wall=any_wall_time,
    offset=st.none() | st.integers(min_value=-(24 * 60 - 1), max_value=24 * 60 - 1),
    param=st.sampled_from(["start", "end"]),
)
def test_a_filter_time_is_a_200_or_a_400_naming_it_whatever_the_year(user, wall, offset, param):
    """Years 1 to 9999, any offset Python accepts (PostgreSQL takes only +-15:59) or none."""
    moment = wall if offset is None else wall.replace(tzinfo=dt.timezone(dt.timedelta(minutes=offset)))
    response = client_for(user).get(MEASUREMENTS, {param: moment.isoformat()})
    if offset is None:
        assert _error(response) == (param, "naive")
        return
    try:
        storable = dt.datetime.min.replace(tzinfo=UTC) < moment.astimezone(UTC) < dt.datetime.max.replace(tzinfo=UTC)
    except OverflowError:
        storable = False
    if storable:
        assert response.status_code == 200, response.json()
    else:
        assert _error(response) == (param, "invalid")


# --- Birth dates -----------------------------------------------------------------------


@CHECKS
@given(born=st.dates(min_value=dt.date(1, 1, 1), max_value=dt.date(9999, 12, 31)))
def test_a_birth_date_is_taken_from_1900_to_today(user, born):
    response = client_for(user).patch("/api/v1/users/me/", {"birth_date": born.isoformat()}, format="json")
    if bounds.EARLIEST_BIRTH_DATE <= born <= user.local_today():
        assert response.status_code == 200, response.json()
        assert response.json()["birth_date"] == born.isoformat()
        assert response.json()["age"] >= 0
    else:
        attr, code = _error(response)
        assert (attr, code) == ("birth_date", "out_of_range" if born.year < 1900 else "future")


def test_a_birth_date_in_year_1_is_refused(user, auth_client):
    response = auth_client.patch("/api/v1/users/me/", {"birth_date": "0001-01-01"}, format="json")
    assert _error(response) == ("birth_date", "out_of_range")
    user.refresh_from_db()
    assert user.birth_date is None


def test_today_in_the_users_zone_is_a_birth_date(user, auth_client):
    user.timezone = "Pacific/Kiritimati"
    user.save()
    today = user.local_today()
    assert auth_client.patch("/api/v1/users/me/", {"birth_date": str(today)}, format="json").status_code == 200
    tomorrow = str(today + dt.timedelta(days=1))
    assert _error(auth_client.patch("/api/v1/users/me/", {"birth_date": tomorrow}, format="json"))[0] == "birth_date"


def test_the_user_model_refuses_impossible_birth_dates(user):
    for born, code in ((dt.date(1, 1, 1), "out_of_range"), (dt.date(9999, 1, 1), "future")):
        user.birth_date = born
        with pytest.raises(ValidationError) as raised:
            user.full_clean(exclude=["password"])
        assert [error.code for error in raised.value.error_dict["birth_date"]] == [code]


# --- The schema states it --------------------------------------------------------------


def test_the_schema_states_the_time_and_date_bounds():
    from tests.fithub.test_numbers import schema_components

    components = schema_components()
    consumed_at = components["DiaryEntryWriteRequest"]["properties"]["consumed_at"]["description"]
    assert bounds.TIME_RANGE_TEXT in consumed_at
    assert "UTC offset" in consumed_at
    measured_at = components["MeasurementRequest"]["properties"]["measured_at"]["description"]
    assert bounds.TIME_RANGE_TEXT in measured_at
    birth_date = components["PatchedUserRequest"]["properties"]["birth_date"]["description"]
    assert bounds.BIRTH_DATE_RANGE_TEXT in birth_date


def test_the_schema_documents_the_new_error_codes():
    from tests.schema_errors import is_documented

    for code in ("naive", "out_of_range", "future"):
        assert is_documented("consumed_at", code, "/api/v1/diary/", "post"), code
    for attr in ("start", "end"):
        assert is_documented(attr, "naive", "/api/v1/measurements/", "get"), attr
    for code in ("out_of_range", "future"):
        assert is_documented("birth_date", code, "/api/v1/users/me/", "patch"), code
