"""Idempotency-Key on creates: a retried POST replays its first response and creates nothing."""

import threading
from collections import Counter

import pytest
from django.urls import reverse

from apps.measurements.models import Measurement
from fithub.models import IdempotencyRecord
from tests.conftest import client_for
from tests.users.factories import UserFactory

# The keyed requests create weight measurements: the built-in types must exist (a transactional
# test earlier in a run may have flushed the rows their migration made).
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("builtin_types")]

URL = reverse("measurement-list")
BODY = {"type": "weight", "value": 81.25, "measured_at": "2026-11-20T07:30:00+01:00"}


def post(client, body=BODY, key="7c1e0d1a-2b8f-4a51-9a3c-0d3c9e8f1b20"):
    return client.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY=key)


def test_a_retry_with_the_same_key_replays_the_first_response(auth_client, user):
    first = post(auth_client)
    assert first.status_code == 201
    again = post(auth_client)
    assert again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Measurement.objects.filter(user=user).count() == 1


def test_the_same_key_with_a_different_body_is_422(auth_client, user):
    assert post(auth_client).status_code == 201
    response = post(auth_client, {**BODY, "value": 99})
    assert response.status_code == 422
    assert response.json()["errors"][0]["code"] == "idempotency_key_reused"
    assert Measurement.objects.filter(user=user).count() == 1


def test_different_keys_create_different_rows(auth_client, user):
    assert post(auth_client, key="a").status_code == 201
    assert post(auth_client, key="b").status_code == 201
    assert Measurement.objects.filter(user=user).count() == 2


def test_keys_are_per_user(auth_client, user):
    other = UserFactory()
    assert post(auth_client).status_code == 201
    assert post(client_for(other)).status_code == 201
    assert Measurement.objects.count() == 2


def test_a_failed_request_does_not_burn_the_key(auth_client, user):
    bad = post(auth_client, {**BODY, "value": -5})  # out of range
    assert bad.status_code == 400
    assert not IdempotencyRecord.objects.exists()
    # The key was not used up: the corrected request goes through with it.
    assert post(auth_client).status_code == 201
    assert Measurement.objects.filter(user=user).count() == 1


def test_an_expired_key_can_be_used_again(auth_client, user, settings):
    assert post(auth_client).status_code == 201
    IdempotencyRecord.objects.update(created_at="2020-01-01T00:00:00Z")
    assert post(auth_client).status_code == 201
    assert Measurement.objects.filter(user=user).count() == 2


def test_an_expired_key_can_be_used_again_for_another_request(auth_client, user):
    assert post(auth_client).status_code == 201
    IdempotencyRecord.objects.update(created_at="2020-01-01T00:00:00Z")
    response = post(auth_client, {**BODY, "value": 79.5})
    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response
    assert sorted(Measurement.objects.filter(user=user).values_list("value", flat=True)) == [79.5, 81.25]
    assert IdempotencyRecord.objects.get().response_body["value"] == 79.5


def test_a_keyed_create_claims_its_key_in_one_statement(auth_client, user, django_assert_num_queries):
    """The transaction (a savepoint inside the test's), the key claimed (one INSERT ... ON
    CONFLICT DO NOTHING), the create's savepoint (a client-chosen id's conflict is recovered
    from), the type, the measurement, the user's row, the goals it may reach, the response
    stored. No expired-key delete up front, no lookup and savepoint around the key's insert,
    none in the service: 16 statements before."""
    post(auth_client, key="warm-up")
    with django_assert_num_queries(10) as captured:
        assert post(auth_client).status_code == 201
    statements = [query["sql"] for query in captured.captured_queries]
    assert sum("SAVEPOINT" in sql for sql in statements) == 4
    assert sum("ON CONFLICT" in sql for sql in statements) == 1
    assert not any(sql.startswith("DELETE") for sql in statements)


@pytest.mark.parametrize("key", ["", "x" * 256, "naïve-ключ", "tab\there"])
def test_malformed_keys_are_400(auth_client, key):
    response = post(auth_client, key=key)
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "Idempotency-Key"


def test_a_retried_bulk_batch_without_ids_is_written_once(auth_client, user):
    batch = {"items": [{**BODY, "measured_at": f"2026-11-{day:02d}T07:30:00+01:00"} for day in (10, 11, 12)]}
    url = reverse("measurement-bulk")
    first = auth_client.post(url, batch, format="json", HTTP_IDEMPOTENCY_KEY="week-46")
    again = auth_client.post(url, batch, format="json", HTTP_IDEMPOTENCY_KEY="week-46")
    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert Measurement.objects.filter(user=user).count() == 3


@pytest.mark.django_db(transaction=True)
def test_concurrent_retries_create_one_row(builtin_types):
    """Two requests with one key at the same moment: one creates, the other replays."""
    user = UserFactory()
    statuses, barrier = [], threading.Barrier(4)

    def send():
        barrier.wait()
        statuses.append(post(client_for(user)).status_code)
        from django.db import connections

        connections.close_all()

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [201, 201, 201, 201]
    assert Measurement.objects.filter(user=user).count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_retries_of_an_expired_key_create_one_new_row(builtin_types):
    """Requests reusing an expired key at the same moment: one renews it, the others replay."""
    user = UserFactory()
    assert post(client_for(user)).status_code == 201
    IdempotencyRecord.objects.update(created_at="2020-01-01T00:00:00Z")
    statuses, barrier = [], threading.Barrier(4)

    def send():
        barrier.wait()
        response = post(client_for(user), {**BODY, "value": 70})
        statuses.append((response.status_code, response.get("Idempotent-Replayed")))
        from django.db import connections

        connections.close_all()

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert Counter(statuses) == {(201, None): 1, (201, "true"): 3}
    assert sorted(Measurement.objects.filter(user=user).values_list("value", flat=True)) == [70, 81.25]


def _gone(response) -> None:
    assert response.status_code == 410, response.content
    assert response.json()["type"] == "client_error"
    assert [(e["code"], e["attr"]) for e in response.json()["errors"]] == [("gone", None)]


def test_a_replayed_create_whose_row_was_deleted_is_410_not_the_stale_row(auth_client, user):
    first = post(auth_client)
    assert first.status_code == 201
    assert auth_client.delete(reverse("measurement-detail", args=[first.json()["id"]])).status_code == 204
    _gone(post(auth_client))
    assert not Measurement.objects.filter(user=user).exists()


def test_a_replayed_create_whose_row_changed_replays_the_first_response(auth_client, user):
    first = post(auth_client)
    auth_client.patch(reverse("measurement-detail", args=[first.json()["id"]]), {"note": "after"})
    again = post(auth_client)
    assert (again.status_code, again.json()) == (201, first.json())


def test_replays_of_a_bulk_batch_and_a_logged_meal_are_410_once_a_row_is_gone(auth_client, user):
    from tests.nutrition.factories import MealFactory, MealItemFactory

    batch = {"items": [{**BODY, "measured_at": f"2026-11-{day:02d}T07:30:00+01:00"} for day in (10, 11)]}
    url = reverse("measurement-bulk")
    written = auth_client.post(url, batch, format="json", HTTP_IDEMPOTENCY_KEY="bulk").json()["results"]
    auth_client.delete(reverse("measurement-detail", args=[written[1]["id"]]))
    _gone(auth_client.post(url, batch, format="json", HTTP_IDEMPOTENCY_KEY="bulk"))

    meal = MealFactory(user=user)
    MealItemFactory(meal=meal)
    log = reverse("meals-log", args=[meal.pk])
    entries = auth_client.post(log, {}, format="json", HTTP_IDEMPOTENCY_KEY="log").json()["entries"]
    replayed = auth_client.post(log, {}, format="json", HTTP_IDEMPOTENCY_KEY="log")
    assert (replayed.status_code, replayed["Idempotent-Replayed"]) == (201, "true")
    auth_client.delete(reverse("diary-detail", args=[entries[0]["id"]]))
    _gone(auth_client.post(log, {}, format="json", HTTP_IDEMPOTENCY_KEY="log"))
