"""nginx in front of the instances when something behind it fails: the app's own 503s pass
through untouched and mark no instance down; what nginx answers itself is in the error shape."""

import re
import uuid

import pytest

from harness import servers
from harness.servers import request, wait_until
from tests.live import primary_stopped

pytestmark = pytest.mark.integration


def _access_lines(stack, ids: set[str]) -> list[dict]:
    return [line for line in servers.json_lines(stack.work / "nginx-access.log") if line["request_id"] in ids]


def _login(stack, email: str, password: str) -> str:
    created = request(
        stack.https_url("/api/v1/auth/register/"),
        method="POST",
        body={"email": email, "password": password},
        cafile=stack.cafile,
    )
    assert created.status == 201, created.body
    # Straight to an instance: nginx's token zone (10 a minute) is another test's subject.
    login = request(stack.app_url(0, "/api/v1/auth/token/"), method="POST", body={"email": email, "password": password})
    assert login.status == 200, login.body
    return login.json()["access"]


def test_the_apps_503s_reach_the_client_as_sent_and_mark_no_instance_down(stack):
    token = _login(stack, f"outage-{uuid.uuid4().hex[:8]}@example.com", "correct horse battery staple")
    auth = {"Authorization": f"Bearer {token}"}
    answers = []
    # A clean stop: "immediate" with the harness's fsync off loses commits (make chaos is durable).
    with primary_stopped("fast"):
        # More requests than both instances' max_fails (3 each), reads and writes, each a new
        # connection: with the 503s counted as failures nginx would answer 502 "no live upstreams".
        for index in range(16):
            if index % 2:
                response = request(stack.https_url("/api/v1/diary/"), headers=auth, cafile=stack.cafile)
            else:
                response = request(
                    stack.https_url("/api/v1/measurements/"),
                    method="POST",
                    body={"type": "weight", "value": 80, "measured_at": "2026-01-01T08:00:00+00:00"},
                    headers=auth,
                    cafile=stack.cafile,
                )
            answers.append(response)

    statuses = [response.status for response in answers]
    assert not {502, 504} & set(statuses), statuses
    failed = [response for response in answers if response.status >= 500]
    assert failed, "a write must fail while the primary is down"
    for response in failed:
        assert response.status == 503
        assert int(response.headers["Retry-After"]) >= 1
        assert response.json()["type"] == "server_error"
    # Each reached one instance once: not retried on the other, so both kept taking requests.
    ids = {response.headers["X-Request-ID"] for response in answers}
    lines = _access_lines(stack, ids)
    assert len(lines) == len(answers)
    assert all("," not in line["upstream"] for line in lines), [line["upstream"] for line in lines]
    assert {line["upstream"] for line in lines} == {f"127.0.0.1:{port}" for port in stack.app_ports}

    # Back without restarting anything: the next write succeeds within seconds.
    seen = []

    def write_succeeds() -> bool:
        response = request(
            stack.https_url("/api/v1/measurements/"),
            method="POST",
            body={"type": "weight", "value": 80.5, "measured_at": "2026-01-02T08:00:00+00:00"},
            headers=auth,
            cafile=stack.cafile,
        )
        seen.append((response.status, response.body[:300]))
        return response.status == 201

    try:
        wait_until(write_succeeds, timeout=10, what="a write after the primary is back")
    except TimeoutError:
        pytest.fail(f"no write succeeded within 10 s of the primary's start: {seen[:3]} ... {seen[-3:]}")


def test_no_instance_reachable_is_nginxs_json_502_with_retry_after(stack, tmp_path):
    """The production config with both upstreams on ports nothing listens on."""
    work = tmp_path / "nginx"
    work.mkdir()
    work.chmod(0o755)
    taken = set(stack.app_ports)
    dead = (servers.free_port(taken), servers.free_port(taken))
    http_port, https_port = servers.free_port(taken), servers.free_port(taken)
    servers.make_certificate(work / "certs")
    conf = servers.mapped_nginx_conf(work, http_port=http_port, https_port=https_port, app_ports=dead)
    assert servers.nginx_test(conf, work).returncode == 0
    args = [servers.binary("nginx"), "-p", str(work), "-c", str(conf), "-e", str(work / "nginx-error.log")]
    process = servers.start("nginx", [*args, "-g", "daemon off;"], log=work / "nginx.log")
    try:
        url, cafile = f"https://127.0.0.1:{https_port}/api/v1/diary/", work / "certs" / "fullchain.pem"
        response = wait_until(lambda: request(url, cafile=cafile), timeout=30, what="nginx", process=process)
        assert response.status == 502
        assert response.headers["Content-Type"].startswith("application/json")
        assert response.json() == {
            "type": "server_error",
            "errors": [
                {
                    "code": "bad_gateway",
                    "detail": "No instance of the API could be reached; try again shortly.",
                    "attr": None,
                }
            ],
        }
        assert response.headers["Retry-After"] == "5"
        assert re.fullmatch(r"[0-9a-f]{32}", response.headers["X-Request-ID"])
        assert response.headers.get_all("X-Content-Type-Options") == ["nosniff"]
        # A POST is refused the same way (it never reached an instance).
        posted = request(url, method="POST", body={}, cafile=cafile)
        assert posted.status == 502
        assert posted.json()["errors"][0]["code"] == "bad_gateway"
    finally:
        process.stop()
