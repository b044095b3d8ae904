"""The production nginx and Prometheus configs, run for real in front of two gunicorn instances.

The tests in this module share one stack and run in file order: the request counts of the
first test are exact because nothing else calls /health/ready/.
"""

import gzip
import json
import os
import re
import signal
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

from harness.servers import DASHBOARD, PROMETHEUS_DIR, gunicorn_workers, prometheus_query, request, wait_until

pytestmark = pytest.mark.integration

COUNTER = "django_http_requests_total_by_view_transport_method_total"
SENT = (45, 30)  # requests to instance 1 and instance 2


def _scrape_value(text: str, name: str, **labels) -> float:
    want = {f'{key}="{value}"' for key, value in labels.items()}
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name + "{"):
            label_text, value = line[len(name) + 1 :].rsplit("} ", 1)
            if want <= set(label_text.split(",")):
                total += float(value)
    return total


def test_request_counter_equals_requests_sent_summed_over_all_workers(stack):
    def hit(url):
        return request(url).status

    urls = [stack.app_url(0, "/health/ready/")] * SENT[0] + [stack.app_url(1, "/health/ready/")] * SENT[1]
    with ThreadPoolExecutor(max_workers=6) as pool:
        statuses = list(pool.map(hit, urls))
    assert statuses == [200] * len(urls)

    for index, sent in enumerate(SENT):

        def served_by(index=index):
            return Counter(line["pid"] for line in stack.access_log(index) if line["path"] == "/health/ready/")

        # gunicorn writes the access line just after the response: give the last ones a moment.
        wait_until(lambda sent=sent, served_by=served_by: sum(served_by().values()) >= sent, timeout=10, what="log")
        assert sum(served_by().values()) == sent
        served_by = served_by()
        assert len(served_by) >= 2, f"instance {index + 1}: one worker served everything: {served_by}"
        # One scrape of the instance sums all of its workers.
        scraped = request(stack.app_url(index, "/metrics")).body.decode()
        assert _scrape_value(scraped, COUNTER, view="health-ready") == sent

    expr = f'sum by (instance) ({COUNTER}{{job="fithub",view="health-ready"}})'
    expected = {f"127.0.0.1:{port}": float(sent) for port, sent in zip(stack.app_ports, SENT, strict=True)}

    def seen():
        return {
            row["metric"]["instance"]: float(row["value"][1]) for row in prometheus_query(stack.prometheus_port, expr)
        }

    try:
        wait_until(lambda: seen() == expected, timeout=30, what="Prometheus to scrape the burst")
    finally:
        assert seen() == expected


def test_a_killed_worker_is_replaced_and_its_counts_are_kept(stack):
    master = stack.processes[0].popen.pid
    workers = gunicorn_workers(master)
    assert len(workers) == 3
    victim = sorted(workers)[0]
    os.kill(victim, signal.SIGKILL)
    wait_until(
        lambda: len(gunicorn_workers(master)) == 3 and victim not in gunicorn_workers(master),
        timeout=30,
        what="respawn",
    )
    scraped = request(stack.app_url(0, "/metrics")).body.decode()
    assert _scrape_value(scraped, COUNTER, view="health-ready") == SENT[0]
    assert request(stack.app_url(0, "/health/live/")).status == 200


def test_nginx_spreads_requests_over_both_instances_with_request_ids(stack):
    ids = []
    for _ in range(30):
        response = request(stack.https_url("/api/v1/users/me/"), cafile=stack.cafile)
        assert response.status == 401
        ids.append(response.headers["X-Request-ID"])
    assert all(re.fullmatch(r"[0-9a-f]{32}", request_id) for request_id in ids)  # nginx's $request_id

    def logged():
        return [
            {line["request_id"] for line in stack.access_log(index) if line["path"] == "/api/v1/users/me/"}
            for index in (0, 1)
        ]

    wait_until(lambda: len(logged()[0] | logged()[1]) >= len(ids), timeout=10, what="access log lines")
    per_instance = logged()
    assert per_instance[0], "instance 1 got no request"
    assert per_instance[1], "instance 2 got no request"
    assert per_instance[0] | per_instance[1] == set(ids)
    assert not per_instance[0] & per_instance[1]
    # Django saw the client's address through one trusted proxy hop.
    lines = [line for index in (0, 1) for line in stack.access_log(index) if line["request_id"] in ids]
    assert {line["forwarded_for"] for line in lines} == {"127.0.0.1"}


def test_security_headers_on_success_and_error_responses(stack):
    for path, status in (("/health/live/", 200), ("/no/such/page/", 404), ("/metrics", 404)):
        response = request(stack.https_url(path), cafile=stack.cafile)
        assert response.status == status, path
        assert response.headers.get_all("Strict-Transport-Security") == ["max-age=63072000; includeSubDomains"]
        assert response.headers.get_all("X-Content-Type-Options") == ["nosniff"]
        assert response.headers.get_all("X-Frame-Options") == ["DENY"]
        assert "Server" not in response.headers or "nginx/" not in response.headers["Server"]


def test_plain_http_redirects_to_https_and_serves_health(stack):
    response = request(f"http://127.0.0.1:{stack.http_port}/api/v1/users/me/?a=1")
    assert response.status == 301
    assert response.headers["Location"] == "https://127.0.0.1/api/v1/users/me/?a=1"
    health = request(f"http://127.0.0.1:{stack.http_port}/health")
    assert health.status == 200
    assert health.json() == {"status": "ok"}


def test_metrics_are_refused_through_nginx_but_served_to_prometheus(stack):
    for path in ("/metrics", "/metrics/", "/metrics?x=1"):
        assert request(stack.https_url(path), cafile=stack.cafile).status == 404, path
    direct = request(stack.app_url(0, "/metrics"))
    assert direct.status == 200
    assert b"fithub_logins_failed_total" in direct.body


def test_json_is_gzipped(stack):
    response = request(
        stack.https_url("/api/schema/?format=json"), headers={"Accept-Encoding": "gzip"}, cafile=stack.cafile
    )
    assert response.status == 200
    assert response.headers["Content-Encoding"] == "gzip"
    assert json.loads(gzip.decompress(response.body))["openapi"].startswith("3.")


def test_swagger_ui_and_its_static_files_come_through_nginx_without_a_cdn(stack):
    page = request(stack.https_url("/api/docs/"), headers={"Accept": "text/html"}, cafile=stack.cafile)
    assert page.status == 200
    html = page.body.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    assert "cdn" not in html.lower()
    css = request(
        stack.https_url("/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui.css"),
        headers={"Accept": "text/css", "Accept-Encoding": "gzip"},
        cafile=stack.cafile,
    )
    assert css.status == 200
    assert css.headers["Content-Type"].startswith("text/css")
    assert css.headers["Content-Encoding"] == "gzip"
    assert b".swagger-ui" in gzip.decompress(css.body)


def test_token_endpoint_answers_429_past_its_limit(stack):
    before = _prometheus_sum(stack, "fithub_logins_failed_total")
    statuses = []
    started = time.monotonic()
    for _ in range(12):
        response = request(
            stack.https_url("/api/v1/auth/token/"),
            method="POST",
            body={"email": "nobody@example.com", "password": "wrong-password"},
            cafile=stack.cafile,
        )
        statuses.append(response.status)
        if response.status == 429:
            assert response.json()["errors"][0]["code"] == "throttled"
            # The token zone refills one request every 6 s.
            assert response.headers["Retry-After"] == "6"
            assert re.fullmatch(r"[0-9a-f]{32}", response.headers["X-Request-ID"])
    elapsed = time.monotonic() - started
    # rate 10r/m with a burst of 5: the first 6 reach Django, the rest are refused by nginx
    # (one more gets through for every 6 s the loop took on a busy machine).
    assert statuses[:6] == [401] * 6
    assert set(statuses) == {401, 429}
    assert statuses.count(429) >= 6 - int(elapsed // 6)
    # Only the 401s reached Django; each counted one failed login.
    wait_until(
        lambda: _prometheus_sum(stack, "fithub_logins_failed_total") == before + statuses.count(401),
        timeout=30,
        what="failed logins in Prometheus",
    )


def _prometheus_sum(stack, metric: str) -> float:
    rows = prometheus_query(stack.prometheus_port, f'sum({metric}{{job="fithub"}})')
    return float(rows[0]["value"][1]) if rows else 0.0


def _dashboard_expressions() -> list[str]:
    dashboard = json.loads(DASHBOARD.read_text())
    return [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]


def _alert_expressions() -> list[str]:
    import yaml

    groups = yaml.safe_load((PROMETHEUS_DIR / "alerts.yml").read_text())["groups"]
    return [rule["expr"] for group in groups for rule in group["rules"]]


_THRESHOLD = re.compile(r"^(?P<query>.+?)\s*(?:>|<|==|!=|>=|<=)\s*[0-9.e+-]+\s*$", re.DOTALL)


def test_every_dashboard_and_alert_expression_returns_data(stack):
    queries = {}
    for expr in _dashboard_expressions():
        queries[expr] = expr.replace("$__rate_interval", "1m")
    for expr in _alert_expressions():
        # An alert's expression returns series only while it fires: query it without its threshold.
        match = _THRESHOLD.match(expr.strip())
        assert match, f"alert expression without a threshold: {expr}"
        queries[expr] = match["query"]
    assert len(queries) >= 18

    empty = {}
    deadline = time.monotonic() + 40
    while True:
        empty = {expr: query for expr, query in queries.items() if not prometheus_query(stack.prometheus_port, query)}
        if not empty or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert not empty, "no data for:\n" + "\n".join(empty)

    lag = prometheus_query(stack.prometheus_port, 'fithub_replica_lag_seconds{job="fithub"}')
    assert {row["metric"]["replica"] for row in lag} == {"replica_0"}
    assert all(0 <= float(row["value"][1]) < 60 for row in lag)


def test_prometheus_loaded_and_evaluates_every_alert_rule(stack):
    url = f"http://127.0.0.1:{stack.prometheus_port}/api/v1/rules?type=alert"

    def rules():
        import urllib.request

        with urllib.request.urlopen(url, timeout=10) as response:
            groups = json.load(response)["data"]["groups"]
        return [rule for group in groups for rule in group["rules"]]

    wait_until(
        lambda: all(rule.get("lastEvaluation", "").startswith("20") for rule in rules()), timeout=20, what="rules"
    )
    loaded = rules()
    assert {rule["name"] for rule in loaded} == {
        "FitHubInstanceDown",
        "FitHubHighErrorRate",
        "FitHubHighLatency",
        "FitHubReplicaLagHigh",
        "FitHubReplicaDown",
        "FitHubCacheUnavailable",
    }
    assert {rule["health"] for rule in loaded} == {"ok"}
    # Both instances and the replica are up: those alerts stay quiet.
    states = {rule["name"]: rule["state"] for rule in loaded}
    assert states["FitHubInstanceDown"] == states["FitHubReplicaDown"] == states["FitHubReplicaLagHigh"] == "inactive"


@pytest.mark.parametrize(
    ("path", "headers", "status", "code"),
    [
        ("/api/v1/diary/?q=" + "x" * 20_000, {}, 414, "uri_too_long"),
        ("/api/v1/diary/", {"X-Big": "y" * 20_000}, 400, "bad_request"),
        ("/api/v1/diary/", {"Content-Length": str(3 * 1024 * 1024)}, 413, "request_too_large"),
    ],
)
def test_nginx_own_errors_are_in_the_error_shape_with_the_request_id(stack, path, headers, status, code):
    # 413: nginx refuses on the announced length, before any body is read.
    method = "POST" if "Content-Length" in headers else "GET"
    response = request(stack.https_url(path), method=method, headers=headers, cafile=stack.cafile)
    assert response.status == status
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.json() == {
        "type": "client_error",
        "errors": [{"code": code, "detail": response.json()["errors"][0]["detail"], "attr": None}],
    }
    assert "Retry-After" not in response.headers
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["X-Request-ID"])
    assert response.headers.get_all("X-Content-Type-Options") == ["nosniff"]


def test_a_browser_can_preflight_and_read_the_headers_through_nginx(stack):
    origin = "https://app.fithub.example"  # CORS_ALLOWED_ORIGINS of the stack (conftest.py)
    preflight = request(
        stack.https_url("/api/v1/diary/"),
        method="OPTIONS",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type, idempotency-key",
        },
        cafile=stack.cafile,
    )
    assert preflight.status == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == origin
    allowed = {name.strip().lower() for name in preflight.headers["Access-Control-Allow-Headers"].split(",")}
    assert {"authorization", "content-type", "idempotency-key", "if-match", "if-none-match"} <= allowed

    actual = request(stack.https_url("/api/schema/?format=json"), headers={"Origin": origin}, cafile=stack.cafile)
    assert actual.status == 200
    assert actual.headers["Access-Control-Allow-Origin"] == origin
    exposed = {name.strip().lower() for name in actual.headers["Access-Control-Expose-Headers"].split(",")}
    assert {"etag", "ratelimit", "ratelimit-policy", "retry-after", "x-request-id", "idempotent-replayed"} <= exposed
    # nginx passes the rate-limit headers through (the stack's throttles are 10000/min). An
    # anonymous request counts against anon, ip and user (DRF's user throttle keys an anonymous
    # caller by IP): with equal quotas, which is tightest depends on when each window began.
    assert re.fullmatch(r'"(anon|ip|user)";q=10000;w=60', actual.headers["RateLimit-Policy"])
    assert re.fullmatch(r'"(anon|ip|user)";r=[0-9]+;t=[0-9]+', actual.headers["RateLimit"])
