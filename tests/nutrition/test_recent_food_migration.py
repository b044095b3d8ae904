"""Migration 0017 backfills the recent foods' rows from an existing diary, and its triggers
keep them afterwards, on PostgreSQL and on SQLite (`make run`'s default), each in a fresh
database of its own migrated from scratch; triggers dropped (as a later migration that
rebuilds the diary table on SQLite drops them) come back at the next `migrate`."""

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).with_name("recent_food_migration.py")
EXPECTED = {
    "backfilled": True,
    "rows": 4,  # (me, food 0), (me, food 1), (other, food 0), (other, food 2); the quick-add has none
    "triggers": ["nutrition_recent_food_delete", "nutrition_recent_food_insert", "nutrition_recent_food_update"],
    "kept": True,
    "rows_after": 3,  # (me, food 0) fell back, (me, food 1) went, (other, food 2) became (other, food 1)
    "reinstalled": True,
}


def _migrate_and_check(database_url: str) -> dict:
    env = {**os.environ, "DATABASE_URL": database_url, "DATABASE_REPLICA_URLS": "", "DEBUG": "0"}
    done = subprocess.run(
        [sys.executable, str(SCRIPT)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_sqlite(tmp_path):
    assert _migrate_and_check(f"sqlite:///{tmp_path / 'fresh.sqlite3'}") == EXPECTED


def test_postgresql():
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        pytest.fail("needs the PostgreSQL server of harness/with-postgres.sh (DATABASE_URL)")
    name = f"fithub_migration_{uuid.uuid4().hex[:12]}"
    server = urlsplit(url)
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            assert _migrate_and_check(urlunsplit(server._replace(path=f"/{name}"))) == EXPECTED
        finally:
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
