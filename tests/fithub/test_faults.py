"""Routing that survives faults, on the real primary and replica of the test harness.

These tests stop, pause and restart the harness's servers, and put them back as they were.
"""

import contextlib
import threading
import time

import pytest
from django.db import connections, router
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.users.models import User
from fithub.db.replicas import replica_selector
from fithub.ops import metrics
from harness.servers import PostgresServer
from tests.conftest import access_token_for
from tests.fithub.test_routing import wait_until_replicated
from tests.live import (
    drop_connections,
    gunicorn,
    last_queries_on,
    primary_stopped,
    restart_primary_keeping_connections,
    wait_for_replay,
)
from tests.users.factories import UserFactory

pytestmark = pytest.mark.replica


@pytest.fixture(autouse=True)
def _fresh_selector():
    replica_selector.reset()
    yield
    replica_selector.reset()


@pytest.fixture
def fast_checks(settings):
    settings.REPLICA_CHECK_SECONDS = 0
    settings.REPLICA_MAX_LAG_SECONDS = 1
    settings.REPLICA_RETRY_SECONDS = 0.5
    settings.REPLICA_RETRY_MAX_SECONDS = 1
    return settings


@contextlib.contextmanager
def replay_paused(alias="replica_0"):
    """The replica receives WAL but does not replay it: it falls behind the primary."""

    def run(sql):
        with connections[alias].cursor() as cursor:
            cursor.execute(sql)

    wait_for_replay(alias)
    run("SELECT pg_wal_replay_pause()")
    try:
        yield alias
    finally:
        run("SELECT pg_wal_replay_resume()")


@pytest.fixture
def paused_replay():
    with replay_paused() as alias:
        yield alias


def wait_for(predicate, timeout=20.0, interval=0.05):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(interval)


def test_reads_move_to_the_primary_while_the_replica_lags(fast_checks, paused_replay):
    assert router.db_for_read(User) == paused_replay
    user = UserFactory()  # WAL the paused replica receives but does not replay
    time.sleep(fast_checks.REPLICA_MAX_LAG_SECONDS + 0.5)
    fallbacks = metrics.REPLICA_FALLBACKS._value.get()
    assert router.db_for_read(User) == "default"
    assert metrics.REPLICA_FALLBACKS._value.get() == fallbacks + 1
    assert replica_selector.state(paused_replay).lag_seconds > fast_checks.REPLICA_MAX_LAG_SECONDS
    assert User.objects.filter(pk=user.pk).exists()  # served by the primary, so it is there

    with connections[paused_replay].cursor() as cursor:
        cursor.execute("SELECT pg_wal_replay_resume()")
    wait_for(lambda: router.db_for_read(User) == paused_replay)


def test_a_user_reads_their_own_writes_in_the_next_request(client):
    writer, reader = UserFactory(display_name="Old"), UserFactory()
    wait_until_replicated("replica_0", User, reader.pk)
    wait_until_replicated("replica_0", User, writer.pk)
    with replay_paused() as paused:
        _check_read_your_writes(client, paused, writer, reader)


def _check_read_your_writes(client, paused_replay, writer, reader):
    writer_token = f"Bearer {access_token_for(writer)}"
    patched = client.patch(
        reverse("users-me"), {"display_name": "New"}, content_type="application/json", HTTP_AUTHORIZATION=writer_token
    )
    assert patched.status_code == 200
    assert User.objects.using(paused_replay).get(pk=writer.pk).display_name == "Old"  # the replica is behind

    with CaptureQueriesContext(connections[paused_replay]) as on_replica:
        fresh = client.get(reverse("users-me"), HTTP_AUTHORIZATION=writer_token)
    assert fresh.json()["display_name"] == "New"
    # At most one routing check asked the replica where it is; no read of a table ran there.
    assert len(on_replica) <= 1
    assert all("pg_last_wal_replay_lsn" in query["sql"] for query in on_replica)

    # Someone who did not write still reads from the replica.
    reader_token = f"Bearer {access_token_for(reader)}"
    with CaptureQueriesContext(connections[paused_replay]) as on_replica:
        assert client.get(reverse("users-me"), HTTP_AUTHORIZATION=reader_token).status_code == 200
    assert len(on_replica) >= 1


def test_a_token_of_a_user_not_yet_on_the_replica_is_accepted(client, paused_replay):
    user = UserFactory()
    assert not User.objects.using(paused_replay).filter(pk=user.pk).exists()
    token = f"Bearer {access_token_for(user)}"
    assert client.get(reverse("users-me"), HTTP_AUTHORIZATION=token).status_code == 200


def test_stopping_the_replica_fails_no_request(settings):
    """A gunicorn instance serves reads in a loop while the replica is stopped and started."""
    user = UserFactory()
    wait_until_replicated("replica_0", User, user.pk)
    token = access_token_for(user)
    replica = PostgresServer.replica()
    statuses: list[int] = []
    env = {"REPLICA_RETRY_SECONDS": "0.5", "REPLICA_RETRY_MAX_SECONDS": "1", "REPLICA_CHECK_SECONDS": "0.5"}
    with gunicorn(workers=2, env=env) as server:

        def read(n):
            for _ in range(n):
                statuses.append(server.request("GET", "/api/v1/users/me/", token=token)[0])

        read(50)
        stopper = threading.Thread(target=replica.stop)
        stopper.start()
        while stopper.is_alive():
            read(5)
        stopper.join()
        read(100)  # the replica is down: everything from the primary
        replica.start()

        def caught_up():
            state = server.request("GET", "/health/ready/")[2]["replicas"][0]
            return state["ok"] and state["lag_seconds"] < 1

        # Streaming resumes within seconds; until then the lag is unknown and reads stay on the primary.
        wait_for(caught_up, timeout=60, interval=0.2)
        time.sleep(1.5)  # past the back-off and the next lag check
        read(100)  # the replica serves again: the workers' last statements there are the reads
        replica_queries = last_queries_on("replica_0")
    assert len(statuses) >= 250
    assert [s for s in statuses if s != 200] == []
    # An ORM read of a table (not just the router's lag check) ran on the replica.
    assert any(' FROM "' in query for query in replica_queries), replica_queries
    print(f"replica stop: {len(statuses)} requests, {sum(s != 200 for s in statuses)} failed")


def in_recovery_on(alias: str) -> bool:
    """Whether `alias` really reaches a standby now (the backend may answer from the primary)."""
    with connections[alias].cursor() as cursor:
        cursor.execute("SELECT pg_is_in_recovery()")
        return cursor.fetchone()[0]


def test_reads_return_to_a_restarted_replica_within_seconds_after_every_outage(settings):
    """Two outages: after each restart, reads are back on the replica within a few seconds,
    however many failures the outage (and the one before) counted."""
    settings.REPLICA_CHECK_SECONDS = 0.5
    settings.REPLICA_RETRY_SECONDS = 0.5
    settings.REPLICA_RETRY_MAX_SECONDS = 2
    user = UserFactory()
    wait_until_replicated("replica_0", User, user.pk)
    replica = PostgresServer.replica()
    state = replica_selector.state("replica_0")
    delays = []
    for _ in range(2):
        assert router.db_for_read(User) == "replica_0"
        replica.stop()
        outage_ends = time.monotonic() + 6
        while time.monotonic() < outage_ends:  # reads keep coming, and keep being answered
            assert User.objects.filter(pk=user.pk).exists()
            time.sleep(0.05)
        assert state.failures >= 3  # the back-off climbed to its cap
        replica.start()
        started = time.monotonic()
        wait_for(
            lambda: router.db_for_read(User) == "replica_0" and in_recovery_on("replica_0"), timeout=30, interval=0.05
        )
        delays.append(time.monotonic() - started)
        assert state.failures == 0  # forgotten
    print(f"reads back on the replica {delays[0]:.2f} s and {delays[1]:.2f} s after its restarts")
    # The cap (2 s) plus a check interval and the replica's own start, not a 30 s back-off.
    assert max(delays) < 8, delays
    assert User.objects.filter(pk=user.pk).exists()


def test_primary_down_answers_503_fast_and_recovers_by_itself():
    user = UserFactory()
    token = access_token_for(user)
    with gunicorn(workers=2) as server:
        assert server.request("PATCH", "/api/v1/users/me/", {"display_name": "Up"}, token=token)[0] == 200
        with primary_stopped():
            outage = []
            for _ in range(6):
                started = time.monotonic()
                status, headers, body = server.request("PATCH", "/api/v1/users/me/", {"display_name": "X"}, token=token)
                outage.append((status, time.monotonic() - started, headers.get("Retry-After"), body))
            ready_status = server.request("GET", "/health/ready/")[0]
        assert ready_status == 503
        for status, seconds, retry_after, body in outage:
            assert status == 503, body
            assert seconds < 3
            assert int(retry_after) > 0
            assert body["errors"][0]["code"] == "service_unavailable"

        def recovered():
            return server.request("PATCH", "/api/v1/users/me/", {"display_name": "Back"}, token=token)[0] == 200

        wait_for(recovered, timeout=30, interval=0.2)
        assert server.request("GET", "/health/ready/")[0] == 200


def test_after_a_primary_restart_a_workers_first_requests_succeed():
    """One worker, so the requests after each restart are on the connection it kept from
    before: the first request notices the server hung up on it and connects anew, a write as
    well as readiness (neither answers 503 for a dead connection)."""
    user = UserFactory()
    token = access_token_for(user)
    me = "/api/v1/users/me/"
    try:
        with gunicorn(workers=1) as server:
            assert server.request("PATCH", me, {"display_name": "Before"}, token=token)[0] == 200
            restart_primary_keeping_connections()
            status, _, body = server.request("PATCH", me, {"display_name": "After"}, token=token)
            assert status == 200, body
            restart_primary_keeping_connections()
            status, _, body = server.request("GET", "/health/ready/")
            assert status == 200, body
            assert body["primary"] == {"ok": True}
    finally:
        drop_connections()
    assert User.objects.using("default").get(pk=user.pk).display_name == "After"


def test_readiness_is_not_fooled_by_a_connection_that_died_with_a_restarted_primary():
    """In this process the test client runs no request-start checks: readiness itself asks
    again on a new connection, once; with the primary really down it still answers 503."""
    try:
        assert Client().get(reverse("health-ready")).status_code == 200  # a connection is kept
        restart_primary_keeping_connections()
        ready = Client().get(reverse("health-ready"))
        assert ready.status_code == 200, ready.content
        assert ready.json()["primary"] == {"ok": True}
        with primary_stopped():
            down = Client().get(reverse("health-ready"))
            assert down.status_code == 503
            assert down.json()["primary"] == {"ok": False, "error": "OperationalError"}
    finally:
        drop_connections()
