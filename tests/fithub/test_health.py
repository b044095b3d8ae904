import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

ROOT = Path(__file__).resolve().parents[2]


def test_live(client):
    response = client.get(reverse("health-live"))
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.replica
def test_ready_reports_primary_and_replica_lag(client):
    response = client.get(reverse("health-ready"))
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["primary"] == {"ok": True}
    assert [replica["alias"] for replica in body["replicas"]] == settings.DATABASE_REPLICAS
    for replica in body["replicas"]:
        assert replica["ok"] is True
        assert replica["in_recovery"] is True
        assert 0 <= replica["lag_seconds"] < 60


def _ready_with(database_url: str, replica_urls: str = "") -> subprocess.CompletedProcess:
    """Ask /health/ready/ in a fresh process whose primary is `database_url`."""
    script = (
        "import django, json; django.setup();"
        "from django.test import Client;"
        "r = Client().get('/health/ready/');"
        "print(r.status_code); print(r.content.decode())"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "fithub.settings",
        "DATABASE_URL": database_url,
        "DATABASE_REPLICA_URLS": replica_urls,
        "ALLOWED_HOSTS": "testserver",
    }
    return subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=True
    )


def _closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # nothing listens once the socket is closed


def test_ready_is_503_when_the_primary_is_down():
    result = _ready_with(f"postgres://postgres@127.0.0.1:{_closed_port()}/fithub")
    status, body = result.stdout.splitlines()[:2]
    assert status == "503"
    assert '"ok": false' in body


@pytest.mark.replica
def test_ready_reports_a_dead_replica_but_stays_ready():
    primary = os.environ["DATABASE_URL"]
    result = _ready_with(primary, f"postgres://postgres@127.0.0.1:{_closed_port()}/fithub")
    status, body = result.stdout.splitlines()[:2]
    assert status == "200"
    assert '"replicas": [{"alias": "replica_0", "ok": false' in body
