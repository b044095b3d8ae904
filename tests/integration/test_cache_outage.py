"""The shared cache down or hung under a real gunicorn (two workers, the production config):
logins, authenticated reads, keyed writes and refreshes answer 2xx, a hung Redis costs each
request at most a few hundred milliseconds, readiness says the cache is down, the metrics
say what was done without it, and each worker throttles at its share of the rate."""

import time
import uuid
from collections import defaultdict

import pytest
from prometheus_client.parser import text_string_to_metric_families

from harness import servers
from harness.servers import free_port, json_lines, redis_process, request, start_gunicorn, wait_until

pytestmark = pytest.mark.integration

WORKERS = 2
PASSWORD = "a long enough test passphrase"
# The login budget per account, shared in Redis; with Redis down each worker allows half.
ACCOUNT_RATE, SHARE = 4, 2
# A request with the cache hung: the app's own time plus one cache timeout (0.1 s), at most.
HUNG_REQUEST_SECONDS = 0.6


@pytest.fixture
def instance(tools, tmp_path, app_env):
    """A FitHub instance on a throwaway Redis the test stops and pauses."""
    servers.manage(app_env, "migrate", "--no-input", "-v", "0")
    work = tmp_path
    with redis_process() as cache:
        env = {
            **app_env,
            "CACHE_URL": cache.url,
            "CACHE_RETRY_SECONDS": "1",
            "THROTTLE_LOGIN_ACCOUNT": f"{ACCOUNT_RATE}/hour",
        }
        port = free_port()
        with start_gunicorn("cache-outage", port, work, env, workers=WORKERS):
            yield cache, f"http://127.0.0.1:{port}", work


class Api:
    def __init__(self, base: str):
        self.base = base

    def __call__(self, method: str, path: str, *, body=None, token=None, headers=None, max_seconds=None):
        all_headers = {**(headers or {})}
        if token:
            all_headers["Authorization"] = f"Bearer {token}"
        started = time.monotonic()
        response = servers.request(self.base + path, method=method, body=body, headers=all_headers)
        elapsed = time.monotonic() - started
        if max_seconds is not None:
            assert elapsed < max_seconds, f"{method} {path} took {elapsed:.3f} s"
        return response

    def log_in(self, email: str, password: str = PASSWORD, **kwargs):
        return self("POST", "/api/v1/auth/token/", body={"email": email, "password": password}, **kwargs)


def _metrics(base: str) -> dict[tuple[str, str], float]:
    text = request(base + "/metrics").body.decode()
    values = {}
    for family in text_string_to_metric_families(text):
        if family.name in ("fithub_cache_failures", "fithub_cache_fail_open"):
            for sample in family.samples:
                if sample.name.endswith("_total"):
                    values[(family.name, sample.labels["purpose"])] = sample.value
    return values


def _the_day_works(api: Api, email: str, tokens: dict, key: str, max_seconds=None) -> dict:
    """Login, an authenticated read, a keyed write sent twice and a refresh: all 2xx."""
    login = api.log_in(email, max_seconds=max_seconds)
    assert login.status == 200, login.body
    for token in (tokens["access"], login.json()["access"]):
        read = api("GET", "/api/v1/diary/", token=token, max_seconds=max_seconds)
        assert read.status == 200, read.body
    body = {"type": "weight", "value": 80.5, "measured_at": "2026-11-20T07:30:00+01:00"}
    for replayed in ("", "true"):
        write = api(
            "POST", "/api/v1/measurements/", body=body, token=tokens["access"], headers={"Idempotency-Key": key},
            max_seconds=max_seconds,
        )  # fmt: skip
        assert write.status == 201, write.body
        assert write.headers.get("Idempotent-Replayed", "") == replayed
    refreshed = api("POST", "/api/v1/auth/token/refresh/", body={"refresh": tokens["refresh"]}, max_seconds=max_seconds)
    assert refreshed.status == 200, refreshed.body
    return refreshed.json()


def test_with_redis_stopped_then_hung_the_instance_serves(instance):
    cache, base, _ = instance
    api = Api(base)
    email = f"cache-{uuid.uuid4().hex[:10]}@example.com"
    assert api("POST", "/api/v1/auth/register/", body={"email": email, "password": PASSWORD}).status == 201
    tokens = api.log_in(email).json()
    assert api("GET", "/api/v1/diary/", token=tokens["access"]).status == 200
    assert api("GET", "/health/ready/").json()["cache"] == {"backend": "RedisCache", "ok": True}
    before = _metrics(base)

    cache.stop()
    tokens = _the_day_works(api, email, tokens, key=str(uuid.uuid4()))
    ready = api("GET", "/health/ready/")
    assert ready.status == 200
    assert ready.json()["status"] == "degraded"
    assert ready.json()["cache"]["ok"] is False
    after = _metrics(base)
    assert sum(after[(name, purpose)] for name, purpose in after if name == "fithub_cache_failures") > sum(
        before[(name, purpose)] for name, purpose in before if name == "fithub_cache_failures"
    )
    for purpose in ("auth", "throttle"):
        assert after[("fithub_cache_fail_open", purpose)] > before[("fithub_cache_fail_open", purpose)], purpose

    cache.start()  # back, empty: the workers use it again after their breaker's interval
    wait_until(lambda: api("GET", "/health/ready/").json()["status"] == "ok", timeout=10, what="the cache back")
    for _ in range(2 * WORKERS):  # the workers' pools connect to it again
        assert api("GET", "/api/v1/diary/", token=tokens["access"]).status == 200

    cache.pause()
    try:
        tokens = _the_day_works(api, email, tokens, key=str(uuid.uuid4()), max_seconds=HUNG_REQUEST_SECONDS)
        ready = api("GET", "/health/ready/", max_seconds=HUNG_REQUEST_SECONDS)
        assert (ready.status, ready.json()["status"]) == (200, "degraded")
    finally:
        cache.resume()

    listed = api("GET", "/api/v1/measurements/", token=tokens["access"]).json()
    assert len(listed["results"]) == 2  # one per key, each write stored once


def test_with_redis_down_each_worker_throttles_logins_at_its_share(instance):
    cache, base, work = instance
    api = Api(base)
    cache.stop()
    access_log = work / "cache-outage-access.log"
    offset = access_log.stat().st_size
    statuses = [
        api.log_in("victim@example.com", "guessing", headers={"X-Request-ID": f"login-guess-{attempt}"}).status
        for attempt in range(4 * ACCOUNT_RATE)
    ]
    assert set(statuses) == {401, 429}, statuses

    def answered():
        rows = [row for row in json_lines(access_log, offset) if str(row["request_id"]).startswith("login-guess-")]
        return rows if len(rows) == len(statuses) else None

    by_worker = defaultdict(list)
    for row in wait_until(answered, timeout=10, what="the access log"):
        by_worker[row["pid"]].append(row["status"])
    for pid, seen in by_worker.items():
        allowed = [status for status in seen if status != 429]
        assert len(allowed) == min(len(seen), SHARE), (pid, seen)  # this worker's share, not the rate
    assert statuses.count(401) <= WORKERS * SHARE == ACCOUNT_RATE
