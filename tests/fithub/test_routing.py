"""The router on the real primary and streaming replica that `make test` starts."""

import time

import pytest
from django.conf import settings
from django.db import connections, router, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.users.models import User
from fithub.ops import metrics
from tests.live import replica_has_row, wait_for_replay
from tests.users.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.replica


@pytest.fixture
def replica() -> str:
    assert settings.DATABASE_REPLICAS, "make test starts a replica; DATABASE_REPLICA_URLS must name it"
    return settings.DATABASE_REPLICAS[0]


def in_recovery(alias: str) -> bool:
    with connections[alias].cursor() as cursor:
        cursor.execute("SELECT pg_is_in_recovery()")
        return cursor.fetchone()[0]


def wait_until_replicated(alias: str, model, pk, timeout: float = 10.0) -> None:
    """Until the row is on the replica itself (read without the backend's primary fallback)."""
    deadline = time.monotonic() + timeout
    while not _replica_has(alias, model._meta.db_table, pk):
        assert time.monotonic() < deadline, f"row {pk} never reached {alias}"
        time.sleep(0.02)


def _replica_has(alias, table, pk) -> bool:
    try:
        return replica_has_row(alias, table, pk)
    except OSError:  # psycopg.OperationalError: the replica is (re)starting
        return False


def reads(target: str) -> float:
    return metrics.DB_READS.labels(target=target)._value.get()


def test_reads_are_served_by_a_server_in_recovery(replica):
    before = reads("replica")
    assert router.db_for_read(User) == replica
    assert reads("replica") == before + 1
    with CaptureQueriesContext(connections[replica]) as on_replica:
        list(User.objects.all())
    assert len(on_replica) == 1
    assert in_recovery(replica) is True
    assert in_recovery("default") is False


def test_a_write_lands_on_the_primary_and_reaches_the_replica(replica):
    with CaptureQueriesContext(connections["default"]) as on_primary:
        user = UserFactory()
    assert any("INSERT" in query["sql"] for query in on_primary)
    assert User.objects.using("default").filter(pk=user.pk).exists()
    wait_until_replicated(replica, User, user.pk)


def test_reads_inside_an_atomic_block_stay_on_the_primary(replica):
    before = reads("primary")
    with transaction.atomic():
        assert router.db_for_read(User) == "default"
        with CaptureQueriesContext(connections[replica]) as on_replica:
            list(User.objects.all())
    assert len(on_replica) == 0
    assert reads("primary") >= before + 2


@pytest.fixture
def paused_replica(replica):
    """Stop the replica replaying WAL: it lags behind the primary until resumed."""
    wait_for_replay(replica)
    with connections[replica].cursor() as cursor:
        cursor.execute("SELECT pg_wal_replay_pause()")
    yield replica
    with connections[replica].cursor() as cursor:
        cursor.execute("SELECT pg_wal_replay_resume()")


def test_a_request_that_writes_reads_its_own_writes_on_a_lagging_replica(client, paused_replica):
    # Sign up while the replica is frozen: it never sees the new account.
    response = client.post(
        reverse("auth-register"), {"email": "lag@example.com", "password": PASSWORD}, content_type="application/json"
    )
    assert response.status_code == 201
    assert not User.objects.using(paused_replica).filter(email="lag@example.com").exists()

    # Login is a POST, so its reads (the user, the password hash) go to the primary.
    with CaptureQueriesContext(connections[paused_replica]) as on_replica:
        login = client.post(
            reverse("auth-token"), {"email": "lag@example.com", "password": PASSWORD}, content_type="application/json"
        )
    assert login.status_code == 200, login.json()
    assert len(on_replica) == 0

    # A PATCH reads the object it changes from the primary too, and answers with its write.
    access = login.json()["access"]
    with CaptureQueriesContext(connections[paused_replica]) as on_replica:
        patched = client.patch(
            reverse("users-me"),
            {"display_name": "Fresh"},
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {access}",
        )
    assert patched.status_code == 200
    assert patched.json()["display_name"] == "Fresh"
    assert len(on_replica) == 0


def test_a_safe_request_reads_from_the_replica(client, replica):
    user = UserFactory()
    wait_until_replicated(replica, User, user.pk)
    from tests.conftest import access_token_for

    access = access_token_for(user)
    with CaptureQueriesContext(connections[replica]) as on_replica:
        response = client.get(reverse("users-me"), HTTP_AUTHORIZATION=f"Bearer {access}")
    assert response.status_code == 200
    assert len(on_replica) >= 1
