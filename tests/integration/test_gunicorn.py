"""fithub/ops/gunicorn_conf.py under a real gunicorn: graceful shutdown and the JSON access log."""

import json
import os
import re
import signal
import socket
import subprocess
import time
from datetime import datetime

import pytest

from harness.servers import free_port, gunicorn_workers, json_lines, request, start_gunicorn, wait_until

pytestmark = pytest.mark.integration


@pytest.fixture
def one_worker(tools, stack, work_dir, app_env):
    """A third instance with a single worker, on the database the stack migrated."""
    work = work_dir / "graceful"
    work.mkdir()
    port = free_port(set(stack.app_ports))
    with start_gunicorn("app1", port, work, app_env, workers=1) as process:
        yield process, port, work


def _accepted_by_a_worker(server_port: int, client_port: int) -> bool:
    """The connection has left the listen backlog: a process holds it (ss shows its pid)."""
    result = subprocess.run(
        ["ss", "-Htnp", "state", "established", f"( sport = :{server_port} and dport = :{client_port} )"],
        capture_output=True, text=True, timeout=10, check=True,
    )  # fmt: skip
    return "pid=" in result.stdout


def test_sigterm_lets_the_request_in_flight_finish(one_worker):
    process, port, work = one_worker
    body = json.dumps({"email": "nobody@example.com", "password": "wrong-password"}).encode()
    conn = socket.create_connection(("127.0.0.1", port), timeout=30)
    try:
        head = (
            f"POST /api/v1/auth/token/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"X-Request-ID: graceful-shutdown-1\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        ).encode()
        conn.sendall(head + body[:10])  # the worker now waits in Django for the rest of the body
        client_port = conn.getsockname()[1]
        wait_until(lambda: _accepted_by_a_worker(port, client_port), timeout=30, what="the worker to accept")
        time.sleep(0.5)
        process.popen.send_signal(signal.SIGTERM)
        time.sleep(1)
        assert process.popen.poll() is None  # still running: waiting for the request in flight
        conn.sendall(body[10:])
        response = b""
        while chunk := conn.recv(65536):
            response += chunk
    finally:
        conn.close()
    status_line, _, rest = response.partition(b"\r\n")
    assert status_line == b"HTTP/1.1 401 Unauthorized", response[:500]
    assert b"x-request-id: graceful-shutdown-1" in rest.lower()
    assert process.popen.wait(timeout=40) == 0

    log = [json.loads(line) for line in (work / "app1-access.log").read_text().splitlines() if line.startswith("{")]
    (entry,) = [line for line in log if line["request_id"] == "graceful-shutdown-1"]
    assert entry["status"] == 401
    assert entry["method"] == "POST"
    assert entry["path"] == "/api/v1/auth/token/"
    assert entry["duration_ms"] > 1000  # it waited for the body across the shutdown

    # gunicorn's own messages are JSON too, like Django's.
    lines = [line for line in (work / "app1.log").read_text().splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]
    assert any(record["logger"] == "gunicorn.error" and "Booting worker" in record["message"] for record in records)
    assert {"timestamp", "level", "logger", "message"} <= set(records[0])


def test_a_request_line_nginx_lets_through_reaches_django(tools, stack, work_dir, app_env):
    # nginx passes lines up to its 8k buffer (and answers longer ones with its JSON 414):
    # gunicorn's own limit must not answer the lines between with its HTML page.
    work = work_dir / "request-line"
    work.mkdir()
    port = free_port(set(stack.app_ports))
    with start_gunicorn("app1", port, work, app_env, workers=1):
        response = request(f"http://127.0.0.1:{port}/api/v1/foods/?search={'a' * 6000}")
    assert response.status == 400, response.body[:300]
    assert response.json()["errors"][0] == {
        "code": "max_length", "detail": "Ensure this field has no more than 200 characters.", "attr": "search"
    }  # fmt: skip


WARMED = re.compile(r"worker (\d+) warmed in \d+ ms: (\{.*\})$")


def test_a_recycled_worker_warms_up_before_its_first_request(tools, stack, work_dir, app_env):
    """With max_requests, gunicorn replaces a worker after that many requests. The new one is
    forked from the master, which loaded the URLconf, DRF's settings and the serializers
    before it bound the port, and opens its database connections in post_worker_init
    (fithub/ops/warmup.py), before it accepts: its first client does not wait for them."""
    work = work_dir / "recycle"
    work.mkdir()
    port = free_port(set(stack.app_ports))
    env = {**app_env, "GUNICORN_MAX_REQUESTS": "4", "GUNICORN_MAX_REQUESTS_JITTER": "0", "GUNICORN_LOG_LEVEL": "info"}
    with start_gunicorn("recycle", port, work, env, workers=1) as process:
        first = gunicorn_workers(process.pid)
        for _ in range(10):
            assert request(f"http://127.0.0.1:{port}/health/live/").status == 200
        wait_until(lambda: gunicorn_workers(process.pid) - first, timeout=30, what="a recycled worker")
    served = [row for row in json_lines(work / "recycle-access.log") if row["path"] == "/health/live/"]
    first_request = {}
    for row in served:
        first_request.setdefault(row["pid"], datetime.fromisoformat(row["timestamp"]))
    assert len(first_request) >= 2  # the worker was recycled at least once
    warmed = {}
    for record in json_lines(work / "recycle.log"):
        if match := WARMED.search(record.get("message", "")):
            warmed[int(match.group(1))] = (datetime.fromisoformat(record["timestamp"]), json.loads(match.group(2)))
    for pid, served_at in first_request.items():
        assert pid in warmed, f"worker {pid} served without warming up"
        warmed_at, done = warmed[pid]
        assert warmed_at < served_at
        assert set(done["databases"].values()) == {"ok"}, done
        assert done["frozen_objects"] > 50_000, done  # the master's heap and its own, out of the GC's walks
    # The code was warmed once, in the master, before the workers were forked from it.
    (master,) = [
        json.loads(record["message"].split(": ", 1)[1])
        for record in json_lines(work / "recycle.log")
        if record.get("message", "").startswith("master warmed in")
    ]
    assert master["views"] > 50
    assert master["serializers"] > 5
    # The hot reads' common shapes, compiled on each database before the fork, and the heap frozen.
    assert master["statements"], master
    assert all(count > 10 for count in master["statements"].values()), master
    assert master["frozen_objects"] > 50_000


def _first_answer_after_the_port_opens(port: int, path: str, deadline: float) -> tuple[float, int]:
    """Connect as soon as the port accepts (as nginx would) and time that first request."""
    while time.monotonic() < deadline:
        try:
            conn = socket.create_connection(("127.0.0.1", port), timeout=0.05)
        except OSError:
            time.sleep(0.01)
            continue
        started = time.monotonic()
        try:
            conn.settimeout(30)
            conn.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
            status = int(conn.recv(64).split()[1])
        finally:
            conn.close()
        return time.monotonic() - started, status
    raise TimeoutError(f"nothing listened on {port}")


def test_an_instance_opens_its_port_only_once_it_can_serve(tools, stack, work_dir, app_env):
    """gunicorn's master loads and warms the app before it binds (preload_app, on_starting):
    a restarted instance takes no connection it cannot answer at once. Bound first, it held
    its first clients for its workers' imports (13.6 s behind nginx after an instance kill).
    1 s is a generous bound for a warm answer, not a timing figure: a cold worker's imports
    alone take longer here."""
    work = work_dir / "cold-start"
    work.mkdir()
    port = free_port(set(stack.app_ports))
    with start_gunicorn("cold", port, work, app_env, workers=2, ready=None) as process:
        waited, status = _first_answer_after_the_port_opens(port, "/health/ready/", time.monotonic() + 90)
        assert status == 200
        assert waited < 1, f"the first client waited {waited:.2f} s"
        messages = [record.get("message", "") for record in json_lines(work / "cold.log")]
        warmed = next(i for i, message in enumerate(messages) if message.startswith("master warmed in"))
        listening = next(i for i, message in enumerate(messages) if message.startswith("Listening at"))
        assert warmed < listening
        assert '"views"' in messages[warmed]
        assert process.popen.poll() is None


def test_workers_that_replace_killed_ones_answer_at_once(tools, stack, work_dir, app_env):
    """Every worker SIGKILLed at once: the master forks new ones from its warm copy of the app,
    so the clients queued meanwhile are answered within a second, not after new imports."""
    work = work_dir / "worker-kill"
    work.mkdir()
    port = free_port(set(stack.app_ports))
    with start_gunicorn("kill", port, work, app_env, workers=2) as process:
        assert request(f"http://127.0.0.1:{port}/health/ready/").status == 200
        killed = gunicorn_workers(process.pid)
        for pid in killed:
            os.kill(pid, signal.SIGKILL)
        started = time.monotonic()
        answered = request(f"http://127.0.0.1:{port}/health/ready/", timeout=30)
        waited = time.monotonic() - started
        assert answered.status == 200
        assert waited < 1, f"the first client after the kill waited {waited:.2f} s"
        wait_until(  # the access line is written just after the response
            lambda: {row["pid"] for row in json_lines(work / "kill-access.log")} - killed,
            timeout=10,
            what="the new worker's access line",
        )
