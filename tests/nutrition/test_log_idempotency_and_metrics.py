"""Logging a saved meal honours Idempotency-Key; diary writes count in fithub_diary_entries_logged."""

import pytest
from django.urls import reverse
from prometheus_client import REGISTRY

from apps.nutrition.models import DiaryEntry
from tests.nutrition.factories import MealFactory, MealItemFactory, PublicFoodFactory

pytestmark = pytest.mark.django_db
KEY = "0193a1c5-3333-7a3b-8c4d-2e1f0a9b8c7d"


def logged_total() -> float:
    return REGISTRY.get_sample_value("fithub_diary_entries_logged_total") or 0.0


@pytest.fixture
def meal(user):
    meal = MealFactory(user=user, slot="lunch")
    MealItemFactory(meal=meal, food=PublicFoodFactory(), grams=100, position=0)
    MealItemFactory(meal=meal, food=PublicFoodFactory(), grams=50, position=1)
    return meal


def test_a_retried_meal_log_logs_once_and_replays_the_first_response(auth_client, user, meal):
    url = reverse("meals-log", args=[meal.pk])
    body = {"consumed_at": "2026-11-21T12:30:00Z", "meal": "dinner"}

    first = auth_client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY=KEY)
    retry = auth_client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY=KEY)

    assert first.status_code == retry.status_code == 201
    assert retry["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert retry.json() == first.json()
    assert DiaryEntry.objects.filter(user=user).count() == 2
    assert sorted(e["id"] for e in first.json()["entries"]) == sorted(
        str(pk) for pk in DiaryEntry.objects.filter(user=user).values_list("id", flat=True)
    )


def test_the_same_key_with_another_body_is_refused(auth_client, user, meal):
    url = reverse("meals-log", args=[meal.pk])
    assert auth_client.post(url, {"scale": 1}, format="json", HTTP_IDEMPOTENCY_KEY=KEY).status_code == 201

    other = auth_client.post(url, {"scale": 2}, format="json", HTTP_IDEMPOTENCY_KEY=KEY)

    assert other.status_code == 422
    assert other.json()["errors"][0]["code"] == "idempotency_key_reused"
    assert DiaryEntry.objects.filter(user=user).count() == 2


def test_without_a_key_each_post_logs_again(auth_client, user, meal):
    url = reverse("meals-log", args=[meal.pk])
    for _ in range(2):
        assert auth_client.post(url, {}, format="json").status_code == 201
    assert DiaryEntry.objects.filter(user=user).count() == 4


def test_the_log_action_documents_the_key_and_its_422(auth_client):
    schema = auth_client.get("/api/schema/", {"format": "json"}).json()
    operation = schema["paths"]["/api/v1/meals/{id}/log/"]["post"]
    assert "Idempotency-Key" in [p["name"] for p in operation["parameters"]]
    assert "422" in operation["responses"]


def test_logging_a_meal_counts_each_entry(auth_client, meal, django_capture_on_commit_callbacks):
    before = logged_total()
    with django_capture_on_commit_callbacks(execute=True):
        response = auth_client.post(reverse("meals-log", args=[meal.pk]), {}, format="json")
    assert response.status_code == 201
    assert logged_total() - before == 2


def test_a_single_entry_counts_one_and_a_refused_one_none(auth_client, django_capture_on_commit_callbacks):
    url = reverse("diary-list")
    quick = {"label": "Burrito", "energy_kcal": 850, "meal": "lunch", "consumed_at": "2026-11-21T12:30:00Z"}
    before = logged_total()
    with django_capture_on_commit_callbacks(execute=True):
        assert auth_client.post(url, quick, format="json").status_code == 201
    assert logged_total() - before == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert auth_client.post(url, {**quick, "energy_kcal": None}, format="json").status_code == 400
    assert logged_total() - before == 1


def test_a_replayed_meal_log_counts_nothing_more(auth_client, meal, django_capture_on_commit_callbacks):
    url = reverse("meals-log", args=[meal.pk])
    before = logged_total()
    with django_capture_on_commit_callbacks(execute=True):
        auth_client.post(url, {}, format="json", HTTP_IDEMPOTENCY_KEY=KEY)
        auth_client.post(url, {}, format="json", HTTP_IDEMPOTENCY_KEY=KEY)
    assert logged_total() - before == 2
