"""Read-your-writes by WAL position (fithub/db/read_your_writes.py), on the real primary and
streaming replica of the test harness: a user who wrote reads from the replica as soon as it
has replayed the write, from the primary while it has not; other users are not affected."""

import time

import pytest
from django.core.cache import cache
from django.db import DatabaseError, connections
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.users.models import User
from fithub.db import read_your_writes
from fithub.db.read_your_writes import REPLAY_POSITION_SQL, UNKNOWN_POSITION, position_key
from fithub.db.replicas import REPLICA_LAG_SQL, replica_selector
from fithub.ops import metrics, shared_cache
from tests.conftest import access_token_for
from tests.fithub.test_faults import replay_paused
from tests.fithub.test_routing import wait_until_replicated
from tests.live import direct_connection
from tests.users.factories import UserFactory

pytestmark = pytest.mark.replica

ME = reverse("users-me")
REPLICA = "replica_0"


@pytest.fixture(autouse=True)
def _one_lag_check(settings):
    """A fresh selector whose lag check runs once, at the first read: the queries are known."""
    settings.REPLICA_CHECK_SECONDS = 60
    settings.REPLICA_MAX_LAG_SECONDS = 3600  # a paused replica stays in use: freshness decides
    replica_selector.reset()
    yield
    replica_selector.reset()


def reads(target: str) -> float:
    return metrics.DB_READS.labels(target=target)._value.get()


def replicated_user(**fields) -> User:
    user = UserFactory(**fields)
    wait_until_replicated(REPLICA, User, user.pk)
    return user


def bearer(user) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {access_token_for(user)}"}


def split(queries) -> tuple[list[str], int]:
    """The routing checks among the captured statements (the selector's lag check, the
    replay check) in order, and how many other statements (the view's reads) ran."""
    checks = []
    for query in queries:
        sql = query["sql"].strip()
        if sql == REPLICA_LAG_SQL.strip():
            checks.append("lag")
        elif sql == REPLAY_POSITION_SQL:
            checks.append("replay")
    return checks, len(queries) - len(checks)


def rename(client, user, auth, name: str) -> None:
    response = client.patch(ME, {"display_name": name}, content_type="application/json", **auth)
    assert response.status_code == 200, response.content


def primary_position() -> int:
    with connections["default"].cursor() as cursor:
        cursor.execute(read_your_writes.PRIMARY_POSITION_SQL)
        return int(cursor.fetchone()[0])


def wait_for_replay(alias: str, timeout: float = 30.0) -> None:
    """Until the replica, asked directly (not through the router), has replayed all the
    primary has inserted so far: the position a write remembers."""
    target = primary_position()
    deadline = time.monotonic() + timeout
    with direct_connection(alias) as conn:
        while conn.execute(REPLAY_POSITION_SQL).fetchone()[0] < target:
            assert time.monotonic() < deadline, f"{alias} did not replay up to {target} in {timeout} s"
            time.sleep(0.02)


def test_a_write_remembers_the_primary_position_after_its_commit(client):
    user = replicated_user()
    auth = bearer(user)
    before = primary_position()
    rename(client, user, auth, "New")
    remembered = cache.get(position_key(user.pk))
    assert isinstance(remembered, int)
    assert before < remembered <= primary_position()  # past the write's own WAL


def test_a_writer_reads_from_the_replica_once_it_has_replayed_the_write(client):
    user = replicated_user(display_name="Old")
    auth = bearer(user)
    rename(client, user, auth, "New")
    wait_for_replay(REPLICA)  # measured on a connection of its own, not through the router
    replica_selector.reset()

    on_replica_before = reads("replica")
    with (
        CaptureQueriesContext(connections[REPLICA]) as on_replica,
        CaptureQueriesContext(connections["default"]) as on_primary,
    ):
        response = client.get(ME, **auth)
    assert response.json()["display_name"] == "New"
    # The lag check also read the replay position, past the write: no further round trip.
    checks, view_reads = split(on_replica)
    assert checks == ["lag"]
    assert view_reads >= 1
    assert len(on_primary) == 0  # every read of the request on the replica
    assert reads("replica") == on_replica_before + view_reads

    # The next request trusts the position just seen: only the read itself.
    with CaptureQueriesContext(connections[REPLICA]) as on_replica:
        assert client.get(ME, **auth).json()["display_name"] == "New"
    assert split(on_replica) == ([], view_reads)


def test_an_older_known_position_costs_one_cheap_query_on_the_replica(client):
    user = replicated_user()
    auth = bearer(user)
    rename(client, user, auth, "New")
    wait_for_replay(REPLICA)
    position = cache.get(position_key(user.pk))
    replica_selector.reset()
    replica_selector.usable(REPLICA)  # the lag check, now
    state = replica_selector.state(REPLICA)
    state.replay_lsn = position - 1  # as if seen just before the write
    state.replay_seen -= 1  # not "a moment ago"

    with CaptureQueriesContext(connections[REPLICA]) as on_replica:
        assert client.get(ME, **auth).json()["display_name"] == "New"
    checks, view_reads = split(on_replica)
    assert checks == ["replay"]  # once for the request, not per read
    assert view_reads >= 1
    assert state.replay_lsn >= position


def test_while_replay_is_paused_the_writer_reads_the_primary_and_others_the_replica(client, monkeypatch):
    lookups = []
    get_many = shared_cache.get_many

    def counted_get_many(keys, *, purpose):
        lookups.append(purpose)
        return get_many(keys, purpose=purpose)

    monkeypatch.setattr(shared_cache, "get_many", counted_get_many)
    writer, reader = replicated_user(display_name="Old"), replicated_user()
    writer_auth, reader_auth = bearer(writer), bearer(reader)
    with replay_paused(REPLICA):
        rename(client, writer, writer_auth, "New")
        assert User.objects.using(REPLICA).get(pk=writer.pk).display_name == "Old"  # the replica is behind
        replica_selector.reset()

        primary_before, replica_before = reads("primary"), reads("replica")
        with CaptureQueriesContext(connections[REPLICA]) as on_replica:
            assert client.get(ME, **writer_auth).json()["display_name"] == "New"
        # The lag check has just read the replay position: not asked again, the primary answers.
        assert split(on_replica) == (["lag"], 0)
        assert reads("primary") > primary_before
        assert reads("replica") == replica_before

        # A later request asks the replica once, and the whole request stays on the primary.
        replica_selector.state(REPLICA).replay_seen -= 1
        with CaptureQueriesContext(connections[REPLICA]) as on_replica:
            assert client.get(ME, **writer_auth).json()["display_name"] == "New"
        assert split(on_replica) == (["replay"], 0)

        # Someone who did not write reads from the replica, with no extra round trip.
        replica_before = reads("replica")
        lookups.clear()
        with CaptureQueriesContext(connections[REPLICA]) as on_replica:
            assert client.get(ME, **reader_auth).status_code == 200
        assert lookups == ["auth"]  # the session's state and the write position: one cache round trip
        checks, view_reads = split(on_replica)
        assert checks == []
        assert view_reads >= 1
        assert reads("replica") == replica_before + view_reads

    # Replayed: the writer is back on the replica, and sees the write there.
    wait_for_replay(REPLICA)
    replica_before = reads("replica")
    with CaptureQueriesContext(connections[REPLICA]) as on_replica:
        assert client.get(ME, **writer_auth).json()["display_name"] == "New"
    checks, view_reads = split(on_replica)
    assert checks == ["replay"]
    assert view_reads >= 1
    assert reads("replica") == replica_before + view_reads


def test_a_writer_whose_replica_has_replayed_reads_there_at_once(client):
    """No waiting out a fixed pin: as soon as replay has passed the write, reads go back."""
    user = replicated_user()
    auth = bearer(user)
    for round_ in range(5):
        rename(client, user, auth, f"Name {round_}")
        wait_for_replay(REPLICA)
        primary_before = reads("primary")
        with CaptureQueriesContext(connections[REPLICA]) as on_replica:
            assert client.get(ME, **auth).json()["display_name"] == f"Name {round_}"
        assert split(on_replica)[1] >= 1
        assert reads("primary") == primary_before


def test_the_remembered_position_expires(client, settings):
    settings.READ_YOUR_WRITES_SECONDS = 1
    user = replicated_user()
    rename(client, user, bearer(user), "New")
    assert cache.get(position_key(user.pk)) is not None
    time.sleep(1.2)
    assert cache.get(position_key(user.pk)) is None


def test_a_position_the_primary_cannot_say_keeps_the_user_on_the_primary(client, monkeypatch):
    def broken():
        raise DatabaseError("the primary went away after the commit")

    user = replicated_user()
    auth = bearer(user)
    monkeypatch.setattr(read_your_writes, "primary_position", broken)
    rename(client, user, auth, "New")
    assert cache.get(position_key(user.pk)) == UNKNOWN_POSITION
    wait_for_replay(REPLICA)
    primary_before = reads("primary")
    with CaptureQueriesContext(connections[REPLICA]) as on_replica:
        assert client.get(ME, **auth).json()["display_name"] == "New"
    checks, view_reads = split(on_replica)
    assert view_reads == 0
    assert "replay" not in checks  # never passed: not even asked
    assert reads("primary") >= primary_before + 1


def test_a_down_replica_is_no_answer(monkeypatch):
    """The replica backend answers from the primary when the replica is unreachable: its NULL
    replay position is not taken for one."""
    monkeypatch.setattr(connections[REPLICA], "settings_dict", {**connections[REPLICA].settings_dict, "PORT": "1"})
    connections[REPLICA].close()
    try:
        assert read_your_writes.replica_has_replayed(REPLICA, 1) is False
    finally:
        connections[REPLICA].close()
