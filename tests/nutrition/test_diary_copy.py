"""POST /api/v1/diary/copy/: a day's entries, or one meal's, logged again on another day."""

import datetime as dt
import uuid
from zoneinfo import ZoneInfo

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.dateparse import parse_datetime
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.nutrition import services
from apps.nutrition.models import DiaryEntry
from tests.conftest import client_for
from tests.nutrition.factories import CustomFoodFactory, FoodPortionFactory, FoodPreferenceFactory, PublicFoodFactory
from tests.users.factories import UserFactory

pytestmark = pytest.mark.django_db
COPY = reverse("diary-copy")
DIARY = reverse("diary-list")


def log(client, **data):
    response = client.post(DIARY, data, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def copy(client, **data):
    return client.post(COPY, data, format="json")


def errors(response) -> list[tuple[str | None, str]]:
    return [(error["attr"], error["code"]) for error in response.json()["errors"]]


@pytest.fixture
def la_user(db):
    return UserFactory(timezone="America/Los_Angeles")


def test_a_day_is_copied_as_new_entries_at_the_same_local_times(la_user):
    client = client_for(la_user)
    food = PublicFoodFactory(energy_kcal=200)
    breakfast = log(client, food=str(food.pk), grams=50, meal="breakfast", consumed_at="2026-11-20T07:45:00-08:00")
    snack = log(client, label="Cookie", energy_kcal=120, meal="snack", consumed_at="2026-11-20T16:00:00-08:00")

    response = copy(client, from_date="2026-11-20", to_date="2026-11-21")

    assert response.status_code == 201, response.content
    copies = response.json()["entries"]
    assert [entry["meal"] for entry in copies] == ["breakfast", "snack"]
    assert {entry["id"] for entry in copies}.isdisjoint({breakfast["id"], snack["id"]})
    assert [parse_datetime(entry["consumed_at"]) for entry in copies] == [
        dt.datetime(2026, 11, 21, 7, 45, tzinfo=ZoneInfo("America/Los_Angeles")),
        dt.datetime(2026, 11, 21, 16, 0, tzinfo=ZoneInfo("America/Los_Angeles")),
    ]
    assert [entry["local_date"] for entry in copies] == ["2026-11-21", "2026-11-21"]
    assert (copies[0]["food"], copies[0]["grams"], copies[0]["energy_kcal"]) == (str(food.pk), 50, 100)
    assert (copies[1]["food"], copies[1]["label"], copies[1]["energy_kcal"]) == (None, "Cookie", 120)
    assert DiaryEntry.objects.filter(user=la_user, local_date=dt.date(2026, 11, 21)).count() == 2
    assert DiaryEntry.objects.filter(user=la_user, local_date=dt.date(2026, 11, 20)).count() == 2


def test_foods_are_logged_with_their_current_nutrients_and_the_originals_keep_theirs(user, auth_client):
    food = CustomFoodFactory(user=user, energy_kcal=100, protein_g=10)
    original = log(auth_client, food=str(food.pk), grams=200, meal="lunch", consumed_at="2026-11-20T12:00:00Z")
    food.energy_kcal, food.protein_g = 150, 20
    food.save()

    [copied] = copy(auth_client, from_date="2026-11-20", to_date="2026-11-22").json()["entries"]

    assert (copied["energy_kcal"], copied["protein_g"], copied["label"]) == (300, 40, food.name)
    assert DiaryEntry.objects.get(pk=original["id"]).energy_kcal == 200


def test_one_meal_is_copied_into_another(user, auth_client):
    food = PublicFoodFactory()
    log(auth_client, food=str(food.pk), grams=80, meal="breakfast", consumed_at="2026-11-20T08:00:00Z")
    log(auth_client, food=str(food.pk), grams=90, meal="dinner", consumed_at="2026-11-20T19:00:00Z")

    response = copy(auth_client, from_date="2026-11-20", to_date="2026-11-20", meal="dinner", to_meal="lunch")

    assert response.status_code == 201, response.content
    [copied] = response.json()["entries"]
    assert (copied["meal"], copied["grams"], copied["consumed_at"]) == ("lunch", 90, "2026-11-20T19:00:00Z")
    assert DiaryEntry.objects.filter(user=user, local_date=dt.date(2026, 11, 20)).count() == 3


def test_a_portion_stays_a_portion_and_a_deleted_one_becomes_its_grams(user, auth_client):
    food = CustomFoodFactory(user=user, energy_kcal=100)
    cup, slice_ = FoodPortionFactory(food=food, grams=240), FoodPortionFactory(food=food, description="slice", grams=30)
    log(auth_client, food=str(food.pk), portion=cup.pk, quantity=2, meal="lunch", consumed_at="2026-11-20T12:00:00Z")
    log(auth_client, food=str(food.pk), portion=slice_.pk, meal="lunch", consumed_at="2026-11-20T12:05:00Z")
    services.update_food(food=food, portions=[{"id": cup.pk, "description": "1 cup", "grams": 250}])  # slice goes

    cups, slices = copy(auth_client, from_date="2026-11-20", to_date="2026-11-21").json()["entries"]

    assert (cups["portion"], cups["quantity"], cups["grams"], cups["energy_kcal"]) == (cup.pk, 2, 500, 500)
    assert (slices["portion"], slices["quantity"], slices["grams"], slices["energy_kcal"]) == (None, None, 30, 30)


@pytest.mark.parametrize(
    ("zone", "source", "day", "expected"),
    [
        # 02:30 does not exist in New York on 2026-03-08 (02:00 -> 03:00): fold=0, the EST offset.
        ("America/New_York", "2026-03-01T02:30:00-05:00", "2026-03-08", "2026-03-08T07:30:00Z"),
        # 01:30 happens twice on 2026-11-01 (02:00 EDT -> 01:00 EST): fold=0, the first (EDT).
        ("America/New_York", "2026-10-25T01:30:00-04:00", "2026-11-01", "2026-11-01T05:30:00Z"),
        ("Europe/Berlin", "2026-03-22T02:15:00+01:00", "2026-03-29", "2026-03-29T01:15:00Z"),
        ("Asia/Kathmandu", "2026-01-10T23:50:00+05:45", "2026-02-01", "2026-02-01T18:05:00Z"),
    ],
)
def test_a_time_that_does_not_exist_or_exists_twice_on_the_target_day_takes_fold_0(zone, source, day, expected):
    user = UserFactory(timezone=zone)
    client = client_for(user)
    entry = log(client, label="Tea", energy_kcal=2, meal="snack", consumed_at=source)

    response = copy(client, from_date=entry["local_date"], to_date=day)

    assert response.status_code == 201, response.content
    [copied] = response.json()["entries"]
    assert parse_datetime(copied["consumed_at"]) == parse_datetime(expected)
    assert copied["local_date"] == day


def test_times_follow_the_zone_the_profile_has_now(user, auth_client):
    log(auth_client, label="Tea", energy_kcal=2, meal="snack", consumed_at="2026-11-20T09:00:00Z")
    user.timezone = "Asia/Tokyo"  # 09:00 UTC on the 20th was 18:00 in Tokyo
    user.save()

    [copied] = copy(auth_client, from_date="2026-11-20", to_date="2026-11-21").json()["entries"]

    assert parse_datetime(copied["consumed_at"]) == dt.datetime(2026, 11, 21, 18, 0, tzinfo=ZoneInfo("Asia/Tokyo"))
    assert copied["local_date"] == "2026-11-21"


def test_allergies_warn_on_the_copies(user, auth_client):
    food = PublicFoodFactory(name="Peanuts, raw")
    FoodPreferenceFactory(user=user, food=food, allergy=True)
    log(auth_client, food=str(food.pk), grams=30, meal="snack", consumed_at="2026-11-20T15:00:00Z")

    body = copy(auth_client, from_date="2026-11-20", to_date="2026-11-21").json()

    assert [(warning["code"], warning["food"]) for warning in body["warnings"]] == [("allergy", str(food.pk))]


# --- Refusals: all or nothing ---------------------------------------------------------------


def test_a_day_with_nothing_to_copy_is_a_400(user, auth_client):
    log(auth_client, label="Tea", energy_kcal=2, meal="snack", consumed_at="2026-11-20T09:00:00Z")

    assert errors(copy(auth_client, from_date="2026-11-19", to_date="2026-11-21")) == [("from_date", "empty")]
    response = copy(auth_client, from_date="2026-11-20", to_date="2026-11-21", meal="dinner")
    assert errors(response) == [("from_date", "empty")]


def test_another_users_entries_are_never_copied(user, auth_client):
    other = UserFactory()
    log(client_for(other), label="Tea", energy_kcal=2, meal="snack", consumed_at="2026-11-20T09:00:00Z")

    assert errors(copy(auth_client, from_date="2026-11-20", to_date="2026-11-21")) == [("from_date", "empty")]
    assert not DiaryEntry.objects.filter(user=user).exists()


def test_a_day_with_a_deleted_food_is_refused_whole(user, auth_client):
    kept, deleted = CustomFoodFactory(user=user), CustomFoodFactory(user=user, name="Old granola")
    log(auth_client, food=str(kept.pk), grams=10, meal="breakfast", consumed_at="2026-11-20T08:00:00Z")
    log(auth_client, food=str(deleted.pk), grams=10, meal="breakfast", consumed_at="2026-11-20T08:01:00Z")
    assert auth_client.delete(reverse("foods-detail", args=[deleted.pk])).status_code == 204  # archived: in use

    response = copy(auth_client, from_date="2026-11-20", to_date="2026-11-21")

    assert response.status_code == 400
    assert errors(response) == [("from_date", "archived")]
    assert "Old granola" in response.json()["errors"][0]["detail"]
    assert not DiaryEntry.objects.filter(user=user, local_date=dt.date(2026, 11, 21)).exists()


def test_copies_more_than_a_day_ahead_are_refused(user, auth_client):
    log(auth_client, label="Tea", energy_kcal=2, meal="snack", consumed_at="2026-11-20T09:00:00Z")
    response = copy(auth_client, from_date="2026-11-20", to_date="2999-12-31")
    assert errors(response) == [("to_date", "future")]
    assert DiaryEntry.objects.filter(user=user).count() == 1


def test_too_many_entries_are_refused(user, auth_client, monkeypatch):
    monkeypatch.setattr(services, "MAX_COPIED_ENTRIES", 2)
    for minute in range(3):
        log(auth_client, label="Tea", energy_kcal=2, meal="snack", consumed_at=f"2026-11-20T09:0{minute}:00Z")
    assert errors(copy(auth_client, from_date="2026-11-20", to_date="2026-11-21")) == [("from_date", "too_many")]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({}, [("from_date", "required"), ("to_date", "required")]),
        ({"from_date": "2026-11-20"}, [("to_date", "required")]),
        ({"from_date": "2026-02-30", "to_date": "2026-11-21"}, [("from_date", "invalid")]),
        ({"from_date": "0001-01-01", "to_date": "2026-11-21"}, [("from_date", "invalid")]),
        ({"from_date": "2026-11-20", "to_date": "9999-12-31"}, [("to_date", "invalid")]),
        ({"from_date": 20261120, "to_date": "2026-11-21"}, [("from_date", "invalid")]),
        ({"from_date": "2026-11-20", "to_date": "2026-11-21", "meal": "brunch"}, [("meal", "invalid_choice")]),
        ({"from_date": "2026-11-20", "to_date": "2026-11-21", "to_meal": 3}, [("to_meal", "invalid_choice")]),
        ({"from_date": "2026-11-20", "to_date": "2026-11-21", "meal": None}, [("meal", "null")]),
    ],
)
def test_bad_bodies_are_400s_naming_the_field(auth_client, body, expected):
    response = copy(auth_client, **body)
    assert response.status_code == 400
    assert errors(response) == expected


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    body=st.dictionaries(
        st.sampled_from(["from_date", "to_date", "meal", "to_meal", "extra"]),
        st.one_of(
            st.none(),
            st.booleans(),
            st.integers(),
            st.floats(allow_nan=False, allow_infinity=False),
            st.text(max_size=12),
            st.dates().map(str),
            st.lists(st.integers(), max_size=2),
            st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
        ),
    )
)
def test_any_json_body_is_a_201_or_a_400(auth_client, body):
    response = copy(auth_client, **body)
    assert response.status_code in (201, 400), response.content


def test_unauthenticated_copy_is_401(api_client):
    assert copy(api_client, from_date="2026-11-20", to_date="2026-11-21").status_code == 401


# --- Retries and cost -----------------------------------------------------------------------


def test_an_idempotency_key_makes_a_retry_copy_nothing_more(user, auth_client):
    log(auth_client, label="Tea", energy_kcal=2, meal="snack", consumed_at="2026-11-20T09:00:00Z")
    key = str(uuid.uuid4())
    body = {"from_date": "2026-11-20", "to_date": "2026-11-21"}

    first = auth_client.post(COPY, body, format="json", HTTP_IDEMPOTENCY_KEY=key)
    again = auth_client.post(COPY, body, format="json", HTTP_IDEMPOTENCY_KEY=key)
    other = auth_client.post(COPY, {**body, "to_date": "2026-11-22"}, format="json", HTTP_IDEMPOTENCY_KEY=key)

    assert (first.status_code, again.status_code, again["Idempotent-Replayed"]) == (201, 201, "true")
    assert again.json() == first.json()
    assert other.status_code == 422
    assert DiaryEntry.objects.filter(user=user, local_date=dt.date(2026, 11, 21)).count() == 1
    DiaryEntry.objects.filter(pk=first.json()["entries"][0]["id"]).delete()
    assert auth_client.post(COPY, body, format="json", HTTP_IDEMPOTENCY_KEY=key).status_code == 410


def test_the_query_count_does_not_grow_with_the_entries(user, auth_client):
    foods = [PublicFoodFactory() for _ in range(3)]
    for day, entries in ((20, 1), (21, 25)):
        for index in range(entries):
            moment = dt.datetime(2026, 11, day, 8, tzinfo=dt.UTC) + dt.timedelta(minutes=index)
            if index % 4 == 3:
                log(auth_client, label="Tea", energy_kcal=2, meal="snack", consumed_at=moment.isoformat())
            else:
                log(auth_client, food=str(foods[index % 3].pk), grams=10, meal="lunch", consumed_at=moment.isoformat())

    counts = []
    for day, entries in ((20, 1), (21, 25)):
        with CaptureQueriesContext(connections["default"]) as captured:
            response = copy(auth_client, from_date=f"2026-11-{day}", to_date="2026-11-22")
        assert response.status_code == 201
        assert len(response.json()["entries"]) == entries
        counts.append(len(captured.captured_queries))
    # The entries with their foods and portions, the user (the zone), one insert, the allergy check.
    assert counts == [4, 4], [query["sql"][:60] for query in captured.captured_queries]
