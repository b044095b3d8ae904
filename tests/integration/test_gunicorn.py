"""fithub/ops/gunicorn_conf.py under a real gunicorn: graceful shutdown and the JSON access log."""

import json
import signal
import socket
import subprocess
import time

import pytest

from harness.servers import free_port, start_gunicorn, wait_until

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

