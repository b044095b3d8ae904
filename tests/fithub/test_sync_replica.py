"""Where the sync feed reads, on the harness's real primary and streaming replica: a page on
one server in one snapshot; the replica when it may serve the user; a lagging replica only
ever gives an older cursor; a replica that fails mid-page leaves the page to the primary."""

import pytest
from django.db import OperationalError, connections
from django.test.utils import CaptureQueriesContext

from fithub.db.read_your_writes import REPLAY_POSITION_SQL
from fithub.db.replicas import REPLICA_LAG_SQL, replica_selector
from fithub.models import ChangeSequence
from fithub.sync import feed
from tests.conftest import client_for
from tests.fithub.test_faults import replay_paused
from tests.fithub.test_read_your_writes import REPLICA, replicated_user, wait_for_replay
from tests.nutrition.factories import QuickAddEntryFactory
from tests.sync import FEED

pytestmark = pytest.mark.replica


@pytest.fixture(autouse=True)
def _one_lag_check(settings):
    settings.REPLICA_CHECK_SECONDS = 60
    settings.REPLICA_MAX_LAG_SECONDS = 3600  # a paused replica stays in use: freshness decides
    replica_selector.reset()
    yield
    replica_selector.reset()


def _reads(queries) -> list[str]:
    checks = {REPLICA_LAG_SQL.strip(), REPLAY_POSITION_SQL}
    return [query["sql"] for query in queries if query["sql"].strip() not in checks]


def _ids(body) -> set[str]:
    return {change["id"] for change in body["changes"]}


def test_a_page_reads_one_snapshot_on_the_replica():
    user = replicated_user()
    entries = [QuickAddEntryFactory(user=user) for _ in range(3)]
    wait_for_replay(REPLICA)
    client = client_for(user)
    with (
        CaptureQueriesContext(connections[REPLICA]) as on_replica,
        CaptureQueriesContext(connections["default"]) as on_primary,
    ):
        body = client.get(FEED).json()
    assert {str(entry.pk) for entry in entries} <= _ids(body)
    reads = _reads(on_replica)
    assert reads[:2] == ["BEGIN", "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"]
    assert len(reads) == 2 + 5 + 1  # the counter, the log, the profile and its metrics, the entries; COMMIT
    assert reads[-1] == "COMMIT"
    assert _reads(on_primary) == []


def test_a_writer_reads_its_write_while_the_replica_lags():
    user = replicated_user()
    client = client_for(user)
    cursor = client.get(FEED).json()["cursor"]
    with replay_paused(REPLICA):
        response = client.post(
            "/api/v1/diary/", {"label": "Tea", "energy_kcal": 2, "meal": "snack", "consumed_at": "2026-11-20T16:00:00Z"}
        )
        assert response.status_code == 201
        replica_selector.reset()
        with CaptureQueriesContext(connections[REPLICA]) as on_replica:
            body = client.get(FEED, {"since": cursor}).json()
        assert _ids(body) == {response.json()["id"]}  # from the primary: the replica has not replayed it
        assert _reads(on_replica) == []


def test_a_lagging_replica_gives_an_older_cursor_never_one_past_a_change_it_lacks():
    user = replicated_user()
    client = client_for(user)
    cursor = client.get(FEED).json()["cursor"]
    with replay_paused(REPLICA):
        # Written by another path than this user's requests: nothing pins the user to the primary.
        entry = QuickAddEntryFactory(user=user)
        latest = ChangeSequence.objects.using("default").get(user_id=user.pk).seq
        replica_selector.reset()
        stale = client.get(FEED, {"since": cursor}).json()
        assert stale["changes"] == []
        assert feed.decode_cursor(stale["cursor"]) < latest
    wait_for_replay(REPLICA)
    caught_up = client.get(FEED, {"since": stale["cursor"]}).json()
    assert _ids(caught_up) == {str(entry.pk)}
    assert feed.decode_cursor(caught_up["cursor"]) == latest


def test_a_replica_failing_mid_page_leaves_the_page_to_the_primary(monkeypatch):
    user = replicated_user()
    entry = QuickAddEntryFactory(user=user)
    wait_for_replay(REPLICA)
    tried = []
    page = feed._page

    def failing_on_the_replica(alias, **kwargs):
        tried.append(alias)
        if alias == REPLICA:
            raise OperationalError("canceling statement due to conflict with recovery")
        return page(alias, **kwargs)

    monkeypatch.setattr(feed, "_page", failing_on_the_replica)
    body = client_for(user).get(FEED).json()
    assert tried == [REPLICA, "default"]
    assert str(entry.pk) in _ids(body)
