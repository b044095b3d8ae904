"""The change triggers on SQLite, the embedded default `make run` uses without DATABASE_URL:
a fresh database migrated in a subprocess, rows changed by each path
(tests/fithub/sqlite_sync_script.py), and what the versions and the feed say."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).with_name("sqlite_sync_script.py")


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    database = tmp_path_factory.mktemp("sqlite") / "db.sqlite3"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}", "DATABASE_REPLICA_URLS": "", "CACHE_URL": "locmem://"}
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "--no-input", "-v0"], cwd=ROOT, env=env, check=True, timeout=300)
    shell = subprocess.run(
        [*manage, "shell", "--no-imports"],
        cwd=ROOT,
        env=env,
        input=SCRIPT.read_text(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert shell.returncode == 0, shell.stderr[-3000:]
    line = next(line for line in shell.stdout.splitlines() if line.startswith("RESULT "))
    return json.loads(line.removeprefix("RESULT "))


def test_versions_and_dependencies(result):
    assert result["food_created"][0] == result["food_created"][1] == 2  # created, then its portion
    assert result["food_updated"][0] == result["food_updated"][1] > 2
    before, after = result["meal_follows_food"]
    assert after == before + 1
    assert result["food_follows_preference"][1] == result["food_follows_preference"][0] + 1  # is_favorite
    assert result["profile_follows_weight"][1] == result["profile_follows_weight"][0] + 1


def test_the_feed_has_every_path(result):
    ids = result["ids"]
    assert result["profile"] == [["profile", ids["user"], "upsert", 1, False]]
    since = {(kind, pk): (op, version, empty) for kind, pk, op, version, empty in result["since"]}
    first, second, third = ids["entries"]
    assert since[("diary_entry", first)] == ("upsert", 2, False)  # bulk_create, then QuerySet.update
    assert since[("diary_entry", second)] == ("delete", 2, True)
    assert since[("diary_entry", third)] == ("upsert", 2, False)  # raw SQL
    assert since[("food", ids["spare"])][0] == "delete"
    assert [op for (kind, _), (op, _, _) in since.items() if kind == "food_preference"] == ["delete"]
    assert since[("food", ids["given"])][0] == "delete"  # given to another user
    assert ("profile", ids["user"]) in since
    assert [(kind, op) for kind, _, op, _, _ in result["other_has_given"]] == [("food", "upsert")]
    # In sequence order, each object once.
    assert len(result["since"]) == len(since)


def test_triggers_outlive_a_table_remake(result):
    assert result["triggers_after_remake"] == sorted(
        [f"fithub_changes_nutrition_food_{event}" for event in ("insert", "update", "delete")]
        + [f"fithub_bump_{name}_{event}" for name in ("food_meals", "food_preferences", "portion_food")
           for event in ("insert", "update", "delete")]
    )  # fmt: skip
    before, after, meal_bumped = result["after_remake"]
    assert after == before + 2  # a portion inserted, then a rename
    assert meal_bumped is True


def test_a_deleted_account_leaves_no_log(result):
    assert result["deleted"] == [0, 0]
