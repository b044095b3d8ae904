"""The backup and restore commands of docs/OPERATIONS.md, run against a migrated database."""

import os
import shutil
import subprocess
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest

from harness.servers import request

pytestmark = pytest.mark.integration


def _binary(name: str) -> str:
    bindir = os.environ.get("FITHUB_PG_BINDIR")
    path = Path(bindir, name) if bindir else None
    if path is not None and path.exists():
        return str(path)
    found = shutil.which(name)
    assert found, f"{name} not found"
    return found


def _snapshot(dsn: str) -> dict[str, int]:
    with psycopg.connect(dsn) as conn:
        tables = [
            row[0]
            for row in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
            ).fetchall()
        ]
        return {table: conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0] for table in tables}  # noqa: S608


def test_pg_dump_and_pg_restore_round_trip(stack, tmp_path):
    email = f"backup-{uuid.uuid4().hex[:8]}@example.com"
    created = request(
        stack.app_url(0, "/api/v1/auth/register/"),
        method="POST",
        body={"email": email, "password": "correct horse battery staple"},
    )
    assert created.status == 201, created.body

    url = urlsplit(os.environ["DATABASE_URL"])
    conn_args = ["-h", url.hostname, "-p", str(url.port), "-U", url.username]
    dump = tmp_path / "fithub.dump"
    target = f"fithub_restore_{uuid.uuid4().hex[:8]}"
    subprocess.run(
        [_binary("pg_dump"), *conn_args, "-d", url.path.lstrip("/"), "--format=custom", f"--file={dump}"],
        check=True, timeout=120,
    )  # fmt: skip
    subprocess.run([_binary("createdb"), *conn_args, target], check=True, timeout=60)
    try:
        subprocess.run(
            [_binary("pg_restore"), *conn_args, "-d", target, "--no-owner", "--exit-on-error", str(dump)],
            check=True, timeout=120,
        )  # fmt: skip
        source_dsn = os.environ["DATABASE_URL"]
        restored_dsn = url._replace(path=f"/{target}").geturl()
        original, restored = _snapshot(source_dsn), _snapshot(restored_dsn)
        assert restored == original
        assert original["django_migrations"] > 0
        with psycopg.connect(restored_dsn) as conn:
            assert conn.execute("SELECT count(*) FROM users_user WHERE email = %s", [email]).fetchone()[0] == 1
    finally:
        subprocess.run([_binary("dropdb"), *conn_args, "--if-exists", target], check=True, timeout=60)
