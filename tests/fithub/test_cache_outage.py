"""The shared cache is an accelerator, not a dependency (fithub/ops/shared_cache.py).

Against a real, throwaway redis-server that the tests stop, pause (SIGSTOP) or replace with
a socket that never answers: logins, authenticated reads, keyed writes and refreshes keep
answering 2xx, a hung Redis costs a request one timeout at most, throttles fall back to the
process's share of the rate, reads go to the primary, readiness says the cache is down, and
the metrics say what was done without it.
"""

import math
import time
from pathlib import Path

import pytest
import redis
from django.test import Client, override_settings
from django.urls import reverse
from prometheus_client import REGISTRY

from apps.measurements.models import Measurement
from apps.nutrition.models import DiaryEntry
from apps.users.models import SecurityEvent
from fithub.db import read_your_writes, router
from fithub.ops import shared_cache
from fithub.settings import redis_caches
from harness.servers import redis_process, silent_listener
from tests.users.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

TOKEN, REFRESH = reverse("auth-token"), reverse("auth-token-refresh")
DIARY, MEASUREMENTS, READY = reverse("diary-list"), reverse("measurement-list"), reverse("health-ready")
BODY = {"type": "weight", "value": 81.25, "measured_at": "2026-11-20T07:30:00+01:00"}
KEY = "5d0a4c1e-7e55-4a3b-9d3c-6f1a2b3c4d5e"
# Short enough for a test to wait it out. The caches are production's (its timeouts).
RETRY_SECONDS = 0.3
# What a call to a hung Redis may keep a request waiting: production's timeout is 0.1 s, and a
# second wait (a retry) or a longer timeout goes over.
WAIT_BOUND_SECONDS = 0.2


@pytest.fixture
def redis_cache():
    """The cache on a real Redis the test may stop; back on local memory before the
    conftest clears the cache."""
    with (
        redis_process() as server,
        override_settings(CACHES=redis_caches(server.url), CACHE_RETRY_SECONDS=RETRY_SECONDS),
    ):
        yield server


def sample(name: str, purpose: str) -> float:
    return REGISTRY.get_sample_value(name, {"purpose": purpose}) or 0.0


def failures(purpose: str) -> float:
    return sample("fithub_cache_failures_total", purpose)


def fail_opens(purpose: str) -> float:
    return sample("fithub_cache_fail_open_total", purpose)


def log_in(user, password=PASSWORD, ip="198.51.100.7"):
    return Client().post(
        TOKEN, {"email": user.email, "password": password}, content_type="application/json", REMOTE_ADDR=ip
    )


def bearer(access: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {access}"}


def keyed_write(access: str):
    return Client().post(
        MEASUREMENTS, BODY, content_type="application/json", HTTP_IDEMPOTENCY_KEY=KEY, **bearer(access)
    )


# --- the breaker ---------------------------------------------------------------------------


class _FlakyBackend:
    """A cache whose calls raise while `down`, counting the calls that reach it."""

    def __init__(self):
        self.down, self.calls = True, 0

    def get_many(self, keys):
        self.calls += 1
        if self.down:
            raise redis.ConnectionError("Error 111 connecting to 127.0.0.1:6399. Connection refused.")
        return {}


def test_after_a_failure_the_breaker_skips_the_cache_for_a_fixed_interval_then_tries_again(monkeypatch, settings):
    settings.CACHE_RETRY_SECONDS = 2
    now = [1000.0]
    backend = _FlakyBackend()
    monkeypatch.setattr(shared_cache, "_backend", lambda: backend)
    monkeypatch.setattr(shared_cache.breaker, "_clock", lambda: now[0])
    before = failures("auth"), fail_opens("auth")

    assert shared_cache.get_many(["a"], purpose="auth") is None
    assert backend.calls == 1
    for _ in range(50):  # the open breaker: nothing reaches the cache
        now[0] += 0.03
        assert shared_cache.get_many(["a"], purpose="auth") is None
    assert backend.calls == 1
    assert not shared_cache.available()
    now[0] = 1002.0  # the fixed interval is over: one try, which fails again
    assert shared_cache.get_many(["a"], purpose="auth") is None
    assert backend.calls == 2
    assert shared_cache.get_many(["a"], purpose="auth") is None
    assert backend.calls == 2
    backend.down = False
    now[0] = 1004.5
    assert shared_cache.available()
    assert shared_cache.get_many(["a"], purpose="auth") == {}
    assert shared_cache.get_many(["a"], purpose="auth") == {}
    assert backend.calls == 4
    assert (failures("auth"), fail_opens("auth")) == (before[0] + 2, before[1] + 53)


class _FailingBackend:
    """A cache whose every call fails, counting them."""

    def __init__(self):
        self.calls = 0

    def __getattr__(self, name):
        def call(*args, **kwargs):
            self.calls += 1
            raise redis.TimeoutError("Timeout reading from socket")

        return call


def test_after_a_failure_the_rest_of_the_request_does_without_the_cache(monkeypatch, settings):
    settings.CACHE_RETRY_SECONDS = 2
    now = [1000.0]
    backend = _FailingBackend()
    monkeypatch.setattr(shared_cache, "_backend", lambda: backend)
    monkeypatch.setattr(shared_cache.breaker, "_clock", lambda: now[0])

    with shared_cache.request_scope():
        assert shared_cache.get_many(["a"], purpose="auth") is None
        now[0] += 5  # a slow request outlives the process's interval
        assert shared_cache.breaker.allows()
        assert not shared_cache.available()  # but not its own
        assert shared_cache.count("b", 60, purpose="throttle") is None
        assert shared_cache.set_value("c", 1, timeout=60, purpose="pin") is False
        assert backend.calls == 1
    with shared_cache.request_scope():  # the next request tries again
        assert shared_cache.available()
        assert shared_cache.get_many(["a"], purpose="auth") is None
        assert backend.calls == 2
    # Outside a request only the process's breaker decides.
    now[0] += 5
    assert shared_cache.get_many(["a"], purpose="auth") is None
    now[0] += 5
    assert shared_cache.get_many(["a"], purpose="auth") is None
    assert backend.calls == 4


def test_every_request_is_its_own_scope(monkeypatch, settings, user):
    """Through the middleware, in a request so slow that the breaker's interval is over at
    each of its calls: the authentication's failed call is its only one (the throttles and
    the session mark skip the cache), and the next request tries again."""
    access = log_in(user).json()["access"]
    settings.CACHE_RETRY_SECONDS = 2
    now = [1000.0]

    def slow_clock():
        now[0] += 3
        return now[0]

    backend = _FailingBackend()
    monkeypatch.setattr(shared_cache, "_backend", lambda: backend)
    monkeypatch.setattr(shared_cache.breaker, "_clock", slow_clock)
    before = fail_opens("throttle")

    assert Client().get(DIARY, **bearer(access)).status_code == 200
    assert backend.calls == 1
    assert fail_opens("throttle") > before
    assert Client().get(DIARY, **bearer(access)).status_code == 200
    assert backend.calls == 2


# --- a stopped Redis -------------------------------------------------------------------------


def test_with_redis_stopped_logins_reads_keyed_writes_and_refreshes_succeed(redis_cache, user, builtin_types):
    client = redis.Redis.from_url(redis_cache.url)
    tokens = log_in(user).json()
    assert Client().get(DIARY, **bearer(tokens["access"])).status_code == 200
    assert client.keys("*"), "the cache is in use while Redis is up"
    before = {purpose: (failures(purpose), fail_opens(purpose)) for purpose in ("auth", "throttle")}

    redis_cache.stop()
    login = log_in(user)
    assert login.status_code == 200, login.content
    assert Client().get(DIARY, **bearer(tokens["access"])).status_code == 200
    assert Client().get(DIARY, **bearer(login.json()["access"])).status_code == 200
    first, retry = keyed_write(tokens["access"]), keyed_write(tokens["access"])
    assert first.status_code == retry.status_code == 201, first.content
    assert retry["Idempotent-Replayed"] == "true"
    assert Measurement.objects.filter(user=user).count() == 1
    refreshed = Client().post(REFRESH, {"refresh": tokens["refresh"]}, content_type="application/json")
    assert refreshed.status_code == 200, refreshed.content
    assert Client().get(DIARY, **bearer(refreshed.json()["access"])).status_code == 200

    assert failures("throttle") + failures("auth") > before["throttle"][0] + before["auth"][0]
    assert fail_opens("throttle") > before["throttle"][1]
    assert fail_opens("auth") > before["auth"][1]

    ready = Client().get(READY)
    assert ready.status_code == 200  # degraded, still serving
    body = ready.json()
    assert body["status"] == "degraded"
    assert body["primary"] == {"ok": True}
    assert body["cache"]["ok"] is False
    assert body["cache"]["backend"] == "RedisCache"

    redis_cache.start()  # back, empty, on the same port
    time.sleep(RETRY_SECONDS)
    ready = Client().get(READY).json()
    assert ready["status"] == "ok"
    assert ready["cache"] == {"backend": "RedisCache", "ok": True}
    assert Client().get(DIARY, **bearer(refreshed.json()["access"])).status_code == 200
    assert client.keys("*"), "the cache is used again once Redis is back"


def test_an_ended_session_stays_ended_with_the_cache_down(redis_cache, user):
    tokens = log_in(user).json()
    redis_cache.stop()
    logout = Client().post(
        reverse("auth-logout"),
        {"refresh": tokens["refresh"]},
        content_type="application/json",
        **bearer(tokens["access"]),
    )
    assert logout.status_code == 204, logout.content
    response = Client().get(DIARY, **bearer(tokens["access"]))
    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == "session_ended"


# --- a hung Redis ----------------------------------------------------------------------------


@pytest.fixture(params=["paused", "silent"])
def hung_cache(request, redis_cache):
    """Redis paused with SIGSTOP (connections it holds, new ones queued by the kernel), or a
    socket that listens and never answers."""
    if request.param == "paused":
        assert log_in(UserFactory()).status_code == 200  # the pool holds a connection to it
        redis_cache.pause()
        yield
        redis_cache.resume()
    else:
        with silent_listener() as url, override_settings(CACHES=redis_caches(url)):
            yield


SCHEDSTAT = Path("/proc/thread-self/schedstat")


def waiting_clock() -> float:
    """Wall-clock seconds less the time this thread was runnable but had no CPU (Linux
    schedstat's run_delay): what a timeout bounds, which a loaded machine's scheduler does not
    lengthen. Plain wall-clock time where the kernel does not keep it."""
    try:
        run_delay_ns = int(SCHEDSTAT.read_text().split()[1])
    except (OSError, IndexError, ValueError):
        run_delay_ns = 0
    return time.monotonic() - run_delay_ns / 1e9


@pytest.mark.timeout(60)  # a call without a timeout would wait for ever on a hung Redis
def test_a_hung_redis_costs_a_request_one_timeout_at_most(hung_cache, user, builtin_types, monkeypatch):
    """What Redis costs a request is the time its calls to Redis keep it waiting: measured
    around each call that reaches Redis (the breakers let it through), not around the
    request, whose own work a loaded machine may slow down at will."""
    waits: list[float] = []
    attempt = shared_cache._attempt

    def timed(purpose, operation, unavailable):
        def timed_operation():
            started = waiting_clock()
            try:
                return operation()
            finally:
                waits.append(waiting_clock() - started)

        return attempt(purpose, timed_operation, unavailable)

    monkeypatch.setattr(shared_cache, "_attempt", timed)
    per_request: list[list[float]] = []

    def request(send):
        first = len(waits)
        response = send()
        per_request.append(waits[first:])
        return response

    before = failures("auth") + failures("throttle") + failures("session_mark") + failures("pin")
    began = time.monotonic()
    tokens = request(lambda: log_in(user)).json()
    for _ in range(8):
        assert request(lambda: Client().get(DIARY, **bearer(tokens["access"]))).status_code == 200
    time.sleep(RETRY_SECONDS)  # the breaker tries again: one more timeout, not one per call
    assert request(lambda: keyed_write(tokens["access"])).status_code == 201

    # At most one call of a request reaches Redis, and it waits one timeout (not a retry, not
    # seconds for a missing timeout); the rest of the request skips Redis.
    assert all(len(calls) <= 1 for calls in per_request), per_request
    assert max(sum(calls) for calls in per_request) < WAIT_BOUND_SECONDS, per_request
    # One call pays the timeout, then one per retry interval: not one per call.
    paid = failures("auth") + failures("throttle") + failures("session_mark") + failures("pin") - before
    assert paid == sum(len(calls) for calls in per_request)
    assert 2 <= paid <= 1 + math.ceil((time.monotonic() - began) / RETRY_SECONDS), paid


# --- throttles -------------------------------------------------------------------------------


def _login_statuses(user, attempts: int) -> list[int]:
    return [log_in(user, password="wrong-password", ip="203.0.113.50").status_code for _ in range(attempts)]


def test_with_the_cache_down_a_throttle_allows_each_worker_its_share(redis_cache, settings, throttle_rates):
    throttle_rates(login_ip="9/hour", login_account="1000/hour")
    settings.INSTANCE_WORKERS = 3
    user = UserFactory()
    assert _login_statuses(user, 10) == [401] * 9 + [429]  # the instance's rate, shared in Redis
    before = fail_opens("throttle")

    redis_cache.stop()
    other = UserFactory()
    assert _login_statuses(other, 5) == [401] * 3 + [429] * 2  # this process's share: 9 / 3
    assert fail_opens("throttle") >= before + 5
    throttled = SecurityEvent.objects.filter(kind=SecurityEvent.Kind.LOGIN_THROTTLED, email=other.email)
    assert throttled.count() == 1  # the first refusal of the window only


def test_the_share_is_never_less_than_one_request(settings):
    from fithub.api.throttling import process_share

    settings.INSTANCE_WORKERS = 9
    assert [process_share(n) for n in (1, 5, 9, 10, 6000)] == [1, 1, 1, 1, 666]


# --- routing and what follows a commit -------------------------------------------------------


@pytest.mark.django_db(transaction=True)  # outside an atomic block: the test's own would pin the reads
def test_while_the_cache_is_down_every_read_goes_to_the_primary(settings, monkeypatch):
    settings.DATABASE_REPLICAS = ["replica_0"]
    monkeypatch.setattr(router.replica_selector, "choose", lambda: "replica_0")
    assert router.PrimaryReplicaRouter().db_for_read(Measurement) == "replica_0"
    shared_cache.breaker.failed()
    assert router.PrimaryReplicaRouter().db_for_read(Measurement) == router.PRIMARY


def test_the_write_position_is_skipped_without_an_error_when_the_cache_is_down(settings, django_assert_num_queries):
    settings.DATABASE_REPLICAS = ["replica_0"]
    with silent_listener() as url, override_settings(CACHES=redis_caches(url)):
        before = fail_opens("pin")
        started = time.monotonic()
        with django_assert_num_queries(1):  # the primary's position
            read_your_writes.remember_write(1)
        assert time.monotonic() - started < 0.5
        assert fail_opens("pin") == before + 1
        assert failures("pin") >= 1
        with django_assert_num_queries(0):  # the open breaker: neither the cache nor the primary
            read_your_writes.remember_write(1)
        assert fail_opens("pin") == before + 2


@pytest.mark.django_db(transaction=True)
def test_a_committed_write_is_not_reported_failed_when_what_follows_the_commit_fails(monkeypatch, user, builtin_types):
    from apps.nutrition import services as nutrition_services
    from fithub.db import middleware

    def broken(*args, **kwargs):
        raise OSError("No space left on device")

    monkeypatch.setattr(middleware, "remember_write", broken)
    monkeypatch.setattr(nutrition_services, "record_diary_entries_logged", broken)
    tokens = log_in(user).json()
    assert keyed_write(tokens["access"]).status_code == 201
    from tests.nutrition.factories import MealFactory, MealItemFactory, PublicFoodFactory

    meal = MealFactory(user=user, slot="lunch")
    MealItemFactory(meal=meal, food=PublicFoodFactory(), grams=100, position=0)
    logged = Client().post(
        reverse("meals-log", args=[meal.pk]), {}, content_type="application/json", **bearer(tokens["access"])
    )
    assert logged.status_code == 201, logged.content
    assert DiaryEntry.objects.filter(user=user).count() == 1


def test_only_the_shared_cache_module_talks_to_the_cache():
    """One place fails open: no other module of fithub/ or apps/ imports Django's cache."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    importers = set()
    for path in [*root.glob("fithub/**/*.py"), *root.glob("apps/**/*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
            if any(name == "django.core.cache" or name.startswith("django.core.cache.") for name in names):
                importers.add(str(path.relative_to(root)))
    assert importers == {"fithub/ops/shared_cache.py"}
