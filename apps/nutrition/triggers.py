"""The database triggers that keep `RecentFood` (a user's latest entry of each food) in step
with the diary entries, on PostgreSQL and on SQLite (`make run` without DATABASE_URL).

Triggers rather than code in the services: every path that writes entries keeps the rows
right, the services, the admin, `QuerySet.update()` and `.delete()`, `bulk_create`, the
account deletion's bulk statements and raw SQL alike. After an entry's insert, delete, or a
change of its user, food, time or id, each (user, food) pair it touched is recomputed from
the entries: its row points at the pair's latest entry (`consumed_at`, then `id`, as the
recent list orders them), or goes when the pair has no entry left. A change of amount
needs nothing (the list reads the amount from the entry the row points at).

PostgreSQL: inserts and deletes fire one trigger per statement (transition tables), which
recomputes each distinct pair once (a meal of 8 items, an account's 18,000 entries); an
update fires per row, and only when one of those columns changed (the trigger's WHEN: a
changed amount or label costs nothing). Each recompute first takes a transaction-level
advisory lock per user it touches, so two transactions writing one user's entries at once
recompute one after the other, the second seeing the first's entries (READ COMMITTED: each
statement of the function reads a new snapshot). SQLite: one trigger per row (its writes
are serialized anyway).

Named `nutrition_recent_food_*`. `install` is idempotent (CREATE OR REPLACE, DROP IF
EXISTS). On SQLite, a migration that makes Django rebuild the diary table (most AddField
and AlterField operations there copy it to a new table) drops its triggers with the old
table: `ensure_installed`, run after every `migrate` (the app's post_migrate), puts them
back and rebuilds the rows (tests/nutrition/test_recent_food_migration.py migrates fresh
databases). Such a migration may also call `install` and `rebuild` itself, so that later
migrations' writes are kept too.
"""

from __future__ import annotations

from django.db import connections

TRIGGERS = ("nutrition_recent_food_insert", "nutrition_recent_food_update", "nutrition_recent_food_delete")
_FUNCTIONS = (
    "nutrition_recent_food_inserted()",
    "nutrition_recent_food_updated()",
    "nutrition_recent_food_deleted()",
    "nutrition_recent_food_refresh(uuid[], uuid[])",
)

_POSTGRES_REFRESH = """
CREATE OR REPLACE FUNCTION nutrition_recent_food_refresh(users uuid[], foods uuid[]) RETURNS void
LANGUAGE plpgsql AS $body$
DECLARE
    owner uuid;
BEGIN
    -- One transaction at a time recomputes a user's pairs (until it commits): the statements
    -- below, with snapshots taken after the lock, see every other writer's entries.
    FOR owner IN SELECT DISTINCT u FROM unnest(users) AS u ORDER BY 1 LOOP
        PERFORM pg_advisory_xact_lock(hashtext('nutrition_recent_food'), hashtext(owner::text));
    END LOOP;
    -- The pairs' rows go, then each pair with an entry left gets its latest again: an entry
    -- that moved to another pair is never pointed at twice, even for a moment.
    DELETE FROM nutrition_recentfood AS r USING unnest(users, foods) AS p (user_id, food_id)
    WHERE r.user_id = p.user_id AND r.food_id = p.food_id;
    INSERT INTO nutrition_recentfood (user_id, food_id, entry_id, last_logged_at)
    SELECT pairs.user_id, pairs.food_id, e.id, e.consumed_at
    FROM (
        SELECT DISTINCT p.user_id, p.food_id FROM unnest(users, foods) AS p (user_id, food_id)
        WHERE p.food_id IS NOT NULL
    ) AS pairs CROSS JOIN LATERAL (
        SELECT d.id, d.consumed_at FROM nutrition_diaryentry AS d
        WHERE d.user_id = pairs.user_id AND d.food_id = pairs.food_id
        ORDER BY d.consumed_at DESC, d.id DESC LIMIT 1
    ) AS e;
END
$body$
"""

# Inserts and deletes: once per statement, over its rows (the transition table ROWS).
_POSTGRES_PER_STATEMENT = """
CREATE OR REPLACE FUNCTION nutrition_recent_food_NAME() RETURNS trigger LANGUAGE plpgsql AS $body$
BEGIN
    PERFORM nutrition_recent_food_refresh(array_agg(user_id), array_agg(food_id))
    FROM (SELECT DISTINCT user_id, food_id FROM ROWS WHERE food_id IS NOT NULL) AS pairs HAVING count(*) > 0;
    RETURN NULL;
END
$body$
"""

_POSTGRES = [
    _POSTGRES_REFRESH,
    _POSTGRES_PER_STATEMENT.replace("NAME", "inserted").replace("ROWS", "new_rows"),
    _POSTGRES_PER_STATEMENT.replace("NAME", "deleted").replace("ROWS", "old_rows"),
    """
CREATE OR REPLACE FUNCTION nutrition_recent_food_updated() RETURNS trigger LANGUAGE plpgsql AS $body$
BEGIN
    PERFORM nutrition_recent_food_refresh(ARRAY[OLD.user_id, NEW.user_id], ARRAY[OLD.food_id, NEW.food_id]);
    RETURN NULL;
END
$body$
""",
    """CREATE OR REPLACE TRIGGER nutrition_recent_food_insert AFTER INSERT ON nutrition_diaryentry
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION nutrition_recent_food_inserted()""",
    """CREATE OR REPLACE TRIGGER nutrition_recent_food_delete AFTER DELETE ON nutrition_diaryentry
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION nutrition_recent_food_deleted()""",
    # A change of these columns can change which entry is a pair's latest; of others, nothing.
    """CREATE OR REPLACE TRIGGER nutrition_recent_food_update
    AFTER UPDATE OF id, user_id, food_id, consumed_at ON nutrition_diaryentry FOR EACH ROW
    WHEN (OLD.id IS DISTINCT FROM NEW.id OR OLD.user_id IS DISTINCT FROM NEW.user_id
        OR OLD.food_id IS DISTINCT FROM NEW.food_id OR OLD.consumed_at IS DISTINCT FROM NEW.consumed_at)
    EXECUTE FUNCTION nutrition_recent_food_updated()""",
]

# SQLite: the statements that recompute the pair of the row ROW (NEW or OLD), as on PostgreSQL.
_SQLITE_REFRESH = """
    DELETE FROM nutrition_recentfood WHERE user_id = ROW.user_id AND food_id = ROW.food_id;
    INSERT INTO nutrition_recentfood (user_id, food_id, entry_id, last_logged_at)
    SELECT user_id, food_id, id, consumed_at FROM nutrition_diaryentry
    WHERE user_id = ROW.user_id AND food_id = ROW.food_id
    ORDER BY consumed_at DESC, id DESC LIMIT 1;
"""
_NEW = _SQLITE_REFRESH.replace("ROW.", "NEW.")
_OLD = _SQLITE_REFRESH.replace("ROW.", "OLD.")

_SQLITE = [
    "CREATE TRIGGER nutrition_recent_food_insert AFTER INSERT ON nutrition_diaryentry"
    " WHEN NEW.food_id IS NOT NULL BEGIN " + _NEW + " END",
    "CREATE TRIGGER nutrition_recent_food_delete AFTER DELETE ON nutrition_diaryentry"
    " WHEN OLD.food_id IS NOT NULL BEGIN " + _OLD + " END",
    "CREATE TRIGGER nutrition_recent_food_update"
    " AFTER UPDATE OF id, user_id, food_id, consumed_at ON nutrition_diaryentry"
    " WHEN OLD.id IS NOT NEW.id OR OLD.user_id IS NOT NEW.user_id"
    " OR OLD.food_id IS NOT NEW.food_id OR OLD.consumed_at IS NOT NEW.consumed_at"
    " BEGIN " + _OLD + _NEW + " END",
]

# Every pair's latest entry: what the triggers keep, computed from scratch.
_REBUILD = [
    "DELETE FROM nutrition_recentfood",
    """INSERT INTO nutrition_recentfood (user_id, food_id, entry_id, last_logged_at)
    SELECT user_id, food_id, id, consumed_at FROM (
        SELECT user_id, food_id, id, consumed_at,
            row_number() OVER (PARTITION BY user_id, food_id ORDER BY consumed_at DESC, id DESC) AS position
        FROM nutrition_diaryentry WHERE food_id IS NOT NULL
    ) AS entries WHERE position = 1""",
]


def install(schema_editor) -> None:
    """Create (or replace) the triggers on the connection's database."""
    if schema_editor.connection.vendor == "postgresql":
        statements = _POSTGRES
    else:
        statements = [f"DROP TRIGGER IF EXISTS {name}" for name in TRIGGERS] + _SQLITE
    for statement in statements:
        schema_editor.execute(statement, params=None)


def drop(schema_editor) -> None:
    """Remove the triggers (and on PostgreSQL their functions)."""
    postgres = schema_editor.connection.vendor == "postgresql"
    for name in TRIGGERS:
        schema_editor.execute(
            f"DROP TRIGGER IF EXISTS {name}" + (" ON nutrition_diaryentry" if postgres else ""), params=None
        )
    if postgres:
        for function in _FUNCTIONS:
            schema_editor.execute(f"DROP FUNCTION IF EXISTS {function}", params=None)


def rebuild(schema_editor) -> None:
    """Recompute every row from the entries (the migration's backfill). On PostgreSQL the
    diary table is locked against writes first (SHARE ROW EXCLUSIVE, what CREATE TRIGGER
    takes too; reads go on) until the transaction ends, so no write falls between."""
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("LOCK TABLE nutrition_diaryentry IN SHARE ROW EXCLUSIVE MODE", params=None)
    for statement in _REBUILD:
        schema_editor.execute(statement, params=None)


def installed(connection) -> set[str]:
    """The names of the triggers of ours the diary table has."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT tgname FROM pg_trigger WHERE tgrelid = 'nutrition_diaryentry'::regclass")
        else:
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'nutrition_diaryentry'"
            )
        return {name for (name,) in cursor.fetchall()} & set(TRIGGERS)


def ensure_installed(*, using: str) -> bool:
    """Once the rows' table exists, make sure every trigger does, else install them and
    rebuild the rows (what a table rebuild on SQLite drops). Whether it had to; two small
    queries when nothing is missing."""
    connection = connections[using]
    if connection.vendor not in ("postgresql", "sqlite"):
        return False
    if "nutrition_recentfood" not in connection.introspection.table_names():
        return False
    if installed(connection) == set(TRIGGERS):
        return False
    with connection.schema_editor() as editor:
        install(editor)
        rebuild(editor)
    return True
