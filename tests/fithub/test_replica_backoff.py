"""The replica back-off forgets (fithub/db/replicas.py), on a fake clock: it doubles while a
replica keeps failing, up to a few seconds, and an earlier outage never stretches the next."""

import pytest

from fithub.db import replicas
from fithub.db.replicas import ReplicaSelector

ALIAS = "replica_0"
UP = {"alias": ALIAS, "ok": True, "in_recovery": True, "lag_seconds": 0.0, "replay_lsn": 100}
DOWN = {"alias": ALIAS, "ok": False, "error": "OperationalError"}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def world(settings, monkeypatch):
    """A selector on a fake clock, and a replica whose checks answer as `world.replica` says."""
    settings.DATABASE_REPLICAS = [ALIAS]
    settings.REPLICA_CHECK_SECONDS = 2
    settings.REPLICA_MAX_LAG_SECONDS = 5
    settings.REPLICA_RETRY_SECONDS = 1
    settings.REPLICA_RETRY_MAX_SECONDS = 4

    class World:
        clock = Clock()
        selector = ReplicaSelector(clock=clock)
        replica = UP
        checks = 0

    def check(alias):
        World.checks += 1
        return World.replica

    monkeypatch.setattr(replicas, "replica_state", check)
    return World


def backoff(world) -> float:
    return world.selector.state(ALIAS).down_until - world.clock.now


def outage(world, seconds: float) -> list[float]:
    """The replica is down for `seconds` while reads keep asking for it: each back-off given."""
    world.replica = DOWN
    end = world.clock.now + seconds
    state = world.selector.state(ALIAS)
    backoffs, failures = [], state.failures
    while world.clock.now < end:
        world.selector.usable(ALIAS)
        if state.failures != failures:
            backoffs.append(backoff(world))
            failures = state.failures
        world.clock.now += 0.1
    return backoffs


def seconds_until_used(world, limit: float = 60) -> float:
    """The replica is back: how long until reads use it again."""
    world.replica = UP
    started = world.clock.now
    while not world.selector.usable(ALIAS):
        world.clock.now += 0.1
        assert world.clock.now - started < limit
    return world.clock.now - started


def test_the_back_off_doubles_up_to_a_few_seconds(world):
    assert outage(world, 30) == pytest.approx([1, 2, 4, 4, 4, 4, 4, 4, 4])


def test_after_a_long_outage_reads_return_within_the_longest_back_off(world):
    outage(world, 120)
    assert seconds_until_used(world) <= 4 + 0.1
    assert world.selector.state(ALIAS).failures == 0


def test_an_earlier_outage_does_not_stretch_the_next_back_off(world):
    outage(world, 60)
    seconds_until_used(world)
    world.clock.now += 10  # in use, checked every 2 s
    for _ in range(5):
        assert world.selector.usable(ALIAS)
        world.clock.now += 2
    assert outage(world, 3.05)[:2] == pytest.approx([1, 2])  # from the bottom again
    assert seconds_until_used(world) <= 2 + 0.1


def test_failures_long_apart_start_from_the_bottom_even_without_a_check_between(world):
    """Mid-query failures (the backend marks the replica down) with no successful check in
    between: one long after the other counts as the first again."""
    for _ in range(3):
        world.selector.mark_down(ALIAS, reason="query failed")
        world.clock.now = world.selector.state(ALIAS).down_until  # the next comes at once
    assert world.selector.state(ALIAS).failures == 3
    world.clock.now += 4 + 1  # quiet for longer than the longest back-off
    world.selector.mark_down(ALIAS, reason="query failed")
    assert backoff(world) == 1
    assert world.selector.state(ALIAS).failures == 1


def test_a_failed_check_that_the_backend_already_counted_counts_once(world, monkeypatch):
    """Connecting to a dead replica marks it down in the backend (and answers from the
    primary, not a standby): the check must not count a second failure."""

    def check(alias):
        world.selector.mark_down(alias, reason="connect failed")
        return {"alias": alias, "ok": False, "error": "unreachable; reads fall back to the primary"}

    monkeypatch.setattr(replicas, "replica_state", check)
    assert not world.selector.usable(ALIAS)
    assert world.selector.state(ALIAS).failures == 1
    assert backoff(world) == 1


def test_a_healthy_check_remembers_the_replay_position_and_a_failure_forgets_it(world):
    assert world.selector.usable(ALIAS)
    assert world.selector.known_replay(ALIAS, max_age=1) == 100
    world.clock.now += 2
    assert world.selector.known_replay(ALIAS, max_age=1) is None  # too old to trust
    world.selector.saw_replay(ALIAS, 90)  # an older answer never moves it back
    assert world.selector.known_replay(ALIAS, max_age=1) == 100
    world.selector.mark_down(ALIAS, reason="query failed")
    assert world.selector.known_replay(ALIAS, max_age=10) is None


def test_the_longest_back_off_is_a_few_seconds_by_default():
    from django.conf import settings

    assert 1 <= settings.REPLICA_RETRY_MAX_SECONDS <= 5
