"""Inside Django's test run, the harness's servers (harness/servers.py) on the test databases:
their URLs, connections straight to one server, waiting for the replica, restarting the
primary, a gunicorn."""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings
from django.db import DatabaseError, connections

from harness.servers import PostgresServer, Process, free_port, request, start_gunicorn


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


def drop_connections() -> None:
    """Close this process's connections: those to a primary that was stopped died with it."""
    for connection in connections.all(initialized_only=True):
        with contextlib.suppress(DatabaseError):
            connection.close()


@contextlib.contextmanager
def primary_stopped(mode: str = "fast") -> Iterator[PostgresServer]:
    """The primary stopped for the block, then started again; this process's connections are
    dropped afterwards whatever the block did, so later tests (and this test's teardown) do
    not inherit connections the restart killed."""
    primary = PostgresServer.primary()
    primary.stop(mode)
    try:
        yield primary
    finally:
        try:
            primary.start()
        finally:
            drop_connections()


def restart_primary_keeping_connections() -> None:
    """Stop and start the primary; this process's connections to it stay, dead (the caller
    drops them when done)."""
    primary = PostgresServer.primary()
    primary.stop()
    primary.start()


class Gunicorn:
    def __init__(self, process: Process, port: int) -> None:
        self.process, self.base_url = process, f"http://127.0.0.1:{port}"

    def request(
        self, method: str, path: str, body: dict | None = None, token: str | None = None, timeout: float = 10
    ) -> tuple[int, dict, dict]:
        """The status, headers and JSON body of one request."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = request(self.base_url + path, method=method, body=body, headers=headers, timeout=timeout)
        return response.status, dict(response.headers), response.json()


@contextlib.contextmanager
def gunicorn(*, workers: int = 2, env: dict[str, str] | None = None) -> Iterator[Gunicorn]:
    """FitHub under a real gunicorn (the production config), on the test databases."""
    replicas = ",".join(database_url(alias) for alias in settings.DATABASE_REPLICAS)
    process_env = {
        **os.environ,
        "DATABASE_URL": database_url("default"),
        "DATABASE_REPLICA_URLS": replicas,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DEBUG": "0",
        "GUNICORN_GRACEFUL_TIMEOUT": "5",
        **(env or {}),
    }
    port = free_port()
    with (
        tempfile.TemporaryDirectory(prefix="fithub-gunicorn-") as work,
        start_gunicorn("fithub", port, Path(work), process_env, workers=workers) as process,
    ):
        yield Gunicorn(process, port)
