import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from fithub.ops import metrics
from tests.users.factories import PASSWORD

TOKEN = reverse("auth-token")
ROOT = Path(__file__).resolve().parents[2]


def _value(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def _scrape(client) -> dict[str, list]:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    return {family.name: family.samples for family in text_string_to_metric_families(response.content.decode())}


@pytest.mark.django_db
def test_a_wrong_password_counts_one_failed_login(api_client, user):
    before = _value("fithub_logins_failed_total")
    response = api_client.post(TOKEN, {"email": user.email, "password": "not-the-password"}, format="json")
    assert response.status_code == 401
    assert _value("fithub_logins_failed_total") == before + 1

    response = api_client.post(TOKEN, {"email": user.email, "password": PASSWORD}, format="json")
    assert response.status_code == 200
    assert _value("fithub_logins_failed_total") == before + 1


def test_record_functions_move_their_counters():
    diary, replica, primary, fallbacks = (
        _value("fithub_diary_entries_logged_total"),
        _value("fithub_db_reads_total", target="replica"),
        _value("fithub_db_reads_total", target="primary"),
        _value("fithub_replica_fallbacks_total"),
    )
    metrics.record_diary_entries_logged(3)
    metrics.record_read("replica")
    metrics.record_read("replica")
    metrics.record_read("primary")
    metrics.record_replica_fallback()
    assert _value("fithub_diary_entries_logged_total") == diary + 3
    assert _value("fithub_db_reads_total", target="replica") == replica + 2
    assert _value("fithub_db_reads_total", target="primary") == primary + 1
    assert _value("fithub_replica_fallbacks_total") == fallbacks + 1


@pytest.mark.django_db
def test_metrics_endpoint_exports_ours_and_django_prometheus(client):
    client.get(reverse("health-live"))
    families = _scrape(client)
    for name in ("fithub_diary_entries_logged", "fithub_logins_failed", "fithub_db_reads", "fithub_replica_fallbacks"):
        assert name in families, name
    assert {sample.labels["target"] for sample in families["fithub_db_reads"] if sample.name.endswith("_total")} == {
        "replica",
        "primary",
    }
    views = {sample.labels.get("view") for sample in families["django_http_requests_total_by_view_transport_method"]}
    assert "health-live" in views


@pytest.mark.replica
def test_replica_lag_is_measured_on_each_scrape(client, settings):
    assert settings.DATABASE_REPLICAS, "the harness starts a streaming replica"
    families = _scrape(client)
    lag = {sample.labels["replica"]: sample.value for sample in families["fithub_replica_lag_seconds"]}
    up = {sample.labels["replica"]: sample.value for sample in families["fithub_replica_up"]}
    assert set(lag) == set(settings.DATABASE_REPLICAS)
    for alias, seconds in lag.items():
        assert isinstance(seconds, float)
        assert 0 <= seconds < 60
        assert up[alias] == 1.0


def test_a_dead_replica_is_down_and_has_no_lag():
    """A fresh process whose only replica is a closed port: up 0, no lag sample, no error."""
    script = (
        "import django; django.setup();"
        "from django.test import Client;"
        "r = Client().get('/metrics');"
        "print(r.status_code); print(r.content.decode())"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "fithub.settings",
        "DATABASE_REPLICA_URLS": f"postgres://postgres@127.0.0.1:{_closed_port()}/fithub",
        "ALLOWED_HOSTS": "testserver",
    }
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=True
    )
    status, body = result.stdout.split("\n", 1)
    assert status == "200"
    families = {family.name: list(family.samples) for family in text_string_to_metric_families(body)}
    assert [(s.labels["replica"], s.value) for s in families["fithub_replica_up"]] == [("replica_0", 0.0)]
    assert families["fithub_replica_lag_seconds"] == []


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # nothing listens once the socket is closed


@pytest.mark.django_db
def test_model_writes_are_counted_for_every_model():
    from tests.users.factories import UserFactory

    def counts():
        return tuple(_value(f"django_model_{op}_total", model="users.user") for op in ("inserts", "updates"))

    inserts, updates = counts()
    user = UserFactory()
    assert counts()[0] >= inserts + 1
    inserts, updates = counts()
    user.display_name = "Renamed"
    user.save()
    assert counts() == (inserts, updates + 1)


@pytest.mark.django_db
def test_api_deletes_are_counted_and_every_model_can_still_delete_in_bulk(auth_client, user):
    from django.apps import apps
    from django.db.models.deletion import Collector
    from django.db.models.signals import post_delete, pre_delete

    from apps.measurements.models import Measurement
    from apps.nutrition.models import DiaryEntry
    from apps.users.models import User
    from tests.nutrition.factories import QuickAddEntryFactory

    entry = QuickAddEntryFactory(user=user)
    before = _value("django_model_deletes_total", model="nutrition.diaryentry")
    assert auth_client.delete(reverse("diary-detail", args=[entry.pk])).status_code == 204
    assert _value("django_model_deletes_total", model="nutrition.diaryentry") == before + 1
    # No delete signal receivers (but the user's, which revokes tokens): deleting an account
    # deletes its rows in bulk, without reading them first.
    for model in apps.get_models():
        if model is not User and not issubclass(model, User):
            assert not post_delete.has_listeners(model), model
            assert not pre_delete.has_listeners(model), model
    for model in (DiaryEntry, Measurement):
        assert Collector(using="default").can_fast_delete(model.objects.none()), model
    assert DiaryEntry.objects.count() == 0


def test_our_models_start_at_zero_rather_than_missing():
    for op in ("inserts", "updates", "deletes"):
        assert REGISTRY.get_sample_value(f"django_model_{op}_total", {"model": "users.user"}) is not None
