"""Helpers for tests that drive real servers: the harness's PostgreSQL and gunicorn."""

from __future__ import annotations

import contextlib
import json
import os
import random
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import connections

ROOT = Path(__file__).resolve().parents[1]


def free_port(taken: set[int] | None = None) -> int:
    """A free loopback port below 32768 (the ephemeral range is shared and can run out),
    not one of `taken`, which it is added to."""
    taken = taken if taken is not None else set()
    for _ in range(500):
        port = random.randint(20000, 32000)  # noqa: S311 - not security
        if port in taken:
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        taken.add(port)
        return port
    raise RuntimeError("no free port")


def _pg_ctl(*args: str) -> None:
    run_as = shlex.split(os.environ.get("FITHUB_PG_RUN_AS", ""))
    pg_ctl = Path(os.environ["FITHUB_PG_BINDIR"]) / "pg_ctl"
    subprocess.run([*run_as, str(pg_ctl), *args], check=True, capture_output=True, timeout=120)


@dataclass(frozen=True)
class PostgresServer:
    """One server of the test harness (tests/harness/with-postgres.sh)."""

    data_dir: str
    port: int
    log: str

    @classmethod
    def primary(cls) -> PostgresServer:
        return cls(
            os.environ["FITHUB_PG_PRIMARY_DATA"],
            int(os.environ["FITHUB_PG_PRIMARY_PORT"]),
            os.path.join(os.environ["FITHUB_PG_WORKDIR"], "primary.log"),
        )

    @classmethod
    def replica(cls) -> PostgresServer:
        return cls(
            os.environ["FITHUB_PG_REPLICA_DATA"],
            int(os.environ["FITHUB_PG_REPLICA_PORT"]),
            os.path.join(os.environ["FITHUB_PG_WORKDIR"], "replica.log"),
        )

    def stop(self, mode: str = "fast") -> None:
        _pg_ctl("-D", self.data_dir, "-m", mode, "-w", "stop")

    def start(self) -> None:
        _pg_ctl("-D", self.data_dir, "-l", self.log, "-o", f"-p {self.port}", "-w", "-t", "60", "start")


def database_url(alias: str) -> str:
    """A URL for the database `alias` currently points at (the test database in tests)."""
    db = connections[alias].settings_dict
    return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


def direct_connection(alias: str):
    """A plain psycopg connection to the server behind `alias`, with no fallback to the
    primary: what it reads is really on that server."""
    import psycopg

    db = connections[alias].settings_dict
    return psycopg.connect(
        host=db["HOST"], port=db["PORT"], user=db["USER"], dbname=db["NAME"], connect_timeout=2, autocommit=True
    )


def wait_for_replay(alias: str, timeout: float = 30.0) -> None:
    """Until the replica has replayed all the primary has written so far.

    Pausing replay half-way through, say, a TRUNCATE leaves the replica holding its
    AccessExclusiveLock: reads of that table on the replica would block until resumed.
    """
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_lsn()")
        target = cursor.fetchone()[0]
    deadline = time.monotonic() + timeout
    with direct_connection(alias) as conn:
        while not conn.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [target]).fetchone()[0]:
            if time.monotonic() > deadline:
                raise AssertionError(f"{alias} did not replay up to {target} in {timeout} s")
            time.sleep(0.02)


def replica_has_row(alias: str, table: str, pk) -> bool:
    with direct_connection(alias) as conn:
        in_recovery, found = conn.execute(
            f"SELECT pg_is_in_recovery(), EXISTS (SELECT 1 FROM {table} WHERE id = %s)",  # noqa: S608 - test table name
            [pk],
        ).fetchone()
    assert in_recovery, f"{alias} is not a standby"
    return found


def last_queries_on(alias: str) -> list[str]:
    """The last statement of every other client connection to the server behind `alias`."""
    with direct_connection(alias) as conn:
        rows = conn.execute(
            "SELECT query FROM pg_stat_activity WHERE backend_type = 'client backend' "
            "AND datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchall()
    return [row[0] for row in rows]


@dataclass
class Gunicorn:
    base_url: str
    process: subprocess.Popen

    def request(
        self, method: str, path: str, body: dict | None = None, token: str | None = None, timeout: float = 10
    ) -> tuple[int, dict, dict]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base_url + path, data=data, method=method)  # noqa: S310 - loopback
        request.add_header("Content-Type", "application/json")
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - loopback
                raw = response.read()
                return response.status, dict(response.headers), json.loads(raw) if raw else {}
        except urllib.error.HTTPError as error:
            raw = error.read()
            return error.code, dict(error.headers), json.loads(raw) if raw else {}


@contextlib.contextmanager
def gunicorn(*, workers: int = 2, env: dict[str, str] | None = None) -> Iterator[Gunicorn]:
    """FitHub under a real gunicorn, on the test databases (primary and replicas)."""
    port = free_port()
    replicas = ",".join(database_url(alias) for alias in settings.DATABASE_REPLICAS)
    process_env = {
        **os.environ,
        "DATABASE_URL": database_url("default"),
        "DATABASE_REPLICA_URLS": replicas,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DEBUG": "0",
        **(env or {}),
    }
    log = tempfile.NamedTemporaryFile(prefix="fithub-gunicorn-", suffix=".log")  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "fithub.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--timeout",
            "30",
            "--graceful-timeout",
            "5",
        ],
        cwd=ROOT,
        env=process_env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    server = Gunicorn(f"http://127.0.0.1:{port}", process)
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"gunicorn exited: {Path(log.name).read_text()[-2000:]}")
            with contextlib.suppress(OSError):
                if server.request("GET", "/health/live/", timeout=2)[0] == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError("gunicorn did not start in 30 s")
            time.sleep(0.2)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


@contextlib.contextmanager
def redis_server() -> Iterator[str]:
    """A throwaway redis-server on a free loopback port, keeping nothing on disk: its URL.
    (The machine's own Redis on 6379 is never touched.)"""
    binary = _redis_binary()
    port = free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
                break
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("redis-server did not start")
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=10)


def _redis_binary() -> str:
    found = shutil.which("redis-server")
    if found is None:
        from tests.integration.stack import ensure_tools

        ensure_tools()
        found = shutil.which("redis-server") or "/usr/bin/redis-server"
    return found
