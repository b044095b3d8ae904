"""The change log: every change of a user's row, by any path, recorded by the database.

Each user has a counter row (`fithub_changesequence`: the last sequence number given, and
the sequence up to which tombstones were pruned) and a log (`fithub_change`) holding one
row per (user, type, object id): the sequence of the object's latest change, whether it is
an upsert or a delete (a tombstone), and the object's version. A change updates the
object's log row in place, so the log holds the live rows plus the tombstones.

Triggers write it, so every path is caught: services, the admin, cascades, `QuerySet.update`,
`bulk_create`, raw SQL. On PostgreSQL (PL/pgSQL):

- `fithub_changes_version`, BEFORE UPDATE of each row: `version` becomes the old one + 1,
  whatever the statement set it to;
- `fithub_changes_insert|update|delete`, AFTER each statement, with its transition tables:
  one call of `fithub_record_changes(type, rows)` (fithub's migration 0003) with the
  statement's rows sorted by user. It takes the user's counter with `UPDATE ... SET seq =
  seq + n ... RETURNING` (several users' counters in user order first, so two such
  statements cannot deadlock) and upserts the log rows with the numbers it took. The
  counter's row lock is held until the transaction ends, so one user's writers take their
  numbers one transaction after the other: sequence order is commit order, and a reader
  that has seen sequence N has seen every change numbered below N (docs/ARCHITECTURE.md,
  "Sync").
- `fithub_bump_<name>_insert|update|delete`: a change of one table that changes the
  representation of rows of another bumps their version (a portion its food, a meal item its
  meal, a food the meals that use it...), which records their change in turn. They are
  named to fire before the recording triggers, so a statement locks the rows it bumps
  before the user's counter (a writer of the profile takes the same locks in that order).

SQLite (the embedded default `make run` uses) gets row triggers doing the same.

The migrations generate the SQL from explicit arguments (`TrackChanges`, `BumpOnChange`,
`BackfillChanges` below), so a migration keeps doing what it did when the models change;
a change of a table's triggers is a new migration (drop and create). The arguments are the
migrations' own constants: identifiers are checked to be plain names, and the SQL fragments
(`when`, `target_filter`) are trusted text like any migration's RunSQL.

A user with no counter row gets no log rows: an account deletion removes the counter first
(`forget_user`), then everything it deletes records nothing, and the log rows go with it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.migrations.operations.base import Operation
from django.db.models import Max, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce, Greatest

LOG_TABLE = "fithub_change"
SEQUENCE_TABLE = "fithub_changesequence"
UPSERT = "upsert"
DELETE = "delete"
_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]*")


def _name(value: str) -> str:
    if not _IDENTIFIER.fullmatch(value):
        raise ValueError(f"{value!r} is not a plain SQL name")
    return value


def _sql(template: str, **parts: str) -> str:
    """A statement from one of this module's templates and the operation's parts (names checked
    by the operations, fragments of their own SQL)."""
    return template.format(log=LOG_TABLE, sequences=SEQUENCE_TABLE, **parts)


# --- PostgreSQL -----------------------------------------------------------------------------

PG_FUNCTION = """CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$
{body}
END $$"""
PG_STATEMENT_TRIGGER = (
    "CREATE TRIGGER {trigger} AFTER {event} ON {table} REFERENCING {tables} "
    "FOR EACH STATEMENT EXECUTE FUNCTION {function}()"
)
PG_VERSION_TRIGGER = (
    "CREATE TRIGGER fithub_changes_version BEFORE UPDATE ON {table} FOR EACH ROW EXECUTE FUNCTION fithub_bump_version()"
)
PG_DROP_TRIGGER = "DROP TRIGGER IF EXISTS {trigger} ON {table}"
PG_DROP_FUNCTION = "DROP FUNCTION IF EXISTS {function}()"
PG_TRANSITION_TABLES = {
    "insert": "NEW TABLE AS new_rows",
    "update": "OLD TABLE AS old_rows NEW TABLE AS new_rows",
    "delete": "OLD TABLE AS old_rows",
}
# The statement's changes, sorted by user then object, to fithub_record_changes.
PG_RECORD = """BEGIN
    {first}PERFORM fithub_record_changes('{type}', (
        SELECT array_agg(x.c ORDER BY (x.c).user_id, (x.c).object_id) FROM ({rows}) AS x(c)
    ));
    RETURN NULL;"""
PG_ROW = "ROW({alias}.{user}, {alias}.{id}, {alias}.{version}, '{op}')::fithub_change_row"
PG_INSERTED = "SELECT {row} FROM new_rows AS r WHERE r.{user} IS NOT NULL"
PG_DELETED = "SELECT {row} FROM old_rows AS o WHERE o.{user} IS NOT NULL"
# A row given to another owner (or to none) is a delete for the one it left.
PG_LEFT_OWNER = (
    " UNION ALL SELECT {row} FROM old_rows AS o JOIN new_rows AS n ON n.{id} = o.{id}"
    " WHERE o.{user} IS NOT NULL AND o.{user} IS DISTINCT FROM n.{user}"
)
PG_NEW_SEQUENCES = (
    "INSERT INTO {sequences} (user_id, seq, pruned_through) SELECT r.{id}, 0, 0 FROM new_rows AS r "
    "ON CONFLICT DO NOTHING;\n    "
)
# The rows bumped, in id order and locked first when there are several: two statements
# bumping overlapping rows take them in one order.
PG_BUMP = """DECLARE
    ids uuid[];
BEGIN
    SELECT array_agg(DISTINCT t.id ORDER BY t.id) INTO ids FROM {target} AS t WHERE t.id IN ({ids}){target_filter};
    IF ids IS NULL THEN
        RETURN NULL;
    END IF;
    IF cardinality(ids) > 1 THEN
        PERFORM 1 FROM {target} WHERE id = ANY(ids) ORDER BY id FOR NO KEY UPDATE;
    END IF;
    UPDATE {target} SET version = version + 1 WHERE id = ANY(ids);
    RETURN NULL;"""
PG_BUMP_BY_COLUMN = "SELECT r.{column} FROM ({rows}) AS r{when}"
PG_BUMP_VIA = "SELECT v.{to_target} FROM {via} AS v WHERE v.{to_row} IN (SELECT r.id FROM ({rows}) AS r{when})"
PG_ALL_UPDATED = "SELECT * FROM new_rows UNION ALL SELECT * FROM old_rows"
PG_CHANGED = (
    "SELECT n.* FROM new_rows AS n JOIN old_rows AS o ON o.id = n.id WHERE ({new}) IS DISTINCT FROM ({old}) "
    "UNION ALL SELECT o.* FROM new_rows AS n JOIN old_rows AS o ON o.id = n.id WHERE ({new}) IS DISTINCT FROM ({old})"
)

# --- SQLite ---------------------------------------------------------------------------------

SQLITE_NOW = "strftime('%Y-%m-%d %H:%M:%f', 'now')"
SQLITE_TRIGGER = "CREATE TRIGGER {trigger} AFTER {event} ON {table} FOR EACH ROW{when} BEGIN\n    {body}\nEND"
SQLITE_DROP_TRIGGER = "DROP TRIGGER IF EXISTS {trigger}"
SQLITE_TAKE = "UPDATE {sequences} SET seq = seq + 1 WHERE user_id = {row}.{user}{guard};"
SQLITE_LOG = (
    "INSERT INTO {log} (user_id, type, object_id, seq, op, version, changed_at) "
    "SELECT {row}.{user}, '{type}', {row}.{id}, seq, '{op}', {version}, strftime('%Y-%m-%d %H:%M:%f', 'now') "
    "FROM {sequences} WHERE user_id = {row}.{user}{guard} "
    "ON CONFLICT (user_id, type, object_id) DO UPDATE SET seq = excluded.seq, op = excluded.op, "
    "version = excluded.version, changed_at = excluded.changed_at;"
)
SQLITE_NEW_SEQUENCE = (
    "INSERT INTO {sequences} (user_id, seq, pruned_through) VALUES (NEW.{id}, 0, 0) ON CONFLICT DO NOTHING;"
)
# SQLite's triggers cannot change NEW: the version is set after the update (the trigger does
# not fire itself again: recursive_triggers is off).
SQLITE_BUMP_SELF = "UPDATE {table} SET version = OLD.version + 1 WHERE {id} = NEW.{id};"
SQLITE_BUMP = "UPDATE {target} SET version = version + 1 WHERE {match}{target_filter};"
SQLITE_MATCH_COLUMN = "(id = {row}.{column}{when})"
SQLITE_MATCH_VIA = "(id IN (SELECT {to_target} FROM {via} WHERE {to_row} = {row}.id){when})"

# --- Backfill (both) ------------------------------------------------------------------------

BACKFILL_SEQUENCES = (
    "INSERT INTO {sequences} (user_id, seq, pruned_through) SELECT {id}, 0, 0 FROM {table} WHERE true "
    "ON CONFLICT DO NOTHING"
)
BACKFILL_LOG = (
    "INSERT INTO {log} (user_id, type, object_id, seq, op, version, changed_at) "
    "SELECT t.{user}, '{type}', t.{id}, s.seq + row_number() OVER (PARTITION BY t.{user} ORDER BY t.{id}), "
    "'upsert', t.version, {now} FROM {table} AS t JOIN {sequences} AS s ON s.user_id = t.{user} "
    "WHERE true ON CONFLICT DO NOTHING"
)
BACKFILL_COUNTERS = (
    "UPDATE {sequences} SET seq = (SELECT max(c.seq) FROM {log} AS c WHERE c.user_id = {sequences}.user_id) "
    "WHERE EXISTS (SELECT 1 FROM {log} AS c WHERE c.user_id = {sequences}.user_id)"
)
UNDO_BACKFILL = "DELETE FROM {log} WHERE type = %s"
LOCK_USER = "SELECT 1 FROM {sequences} WHERE user_id = %s FOR UPDATE"


class RunForVendor(Operation):
    """Statements run on one database vendor only (the shared functions: PostgreSQL)."""

    reduces_to_sql = True
    reversible = True

    def __init__(self, vendor: str, forward: Sequence[str], backward: Sequence[str]) -> None:
        self.vendor, self.forward, self.backward = vendor, list(forward), list(backward)

    def deconstruct(self):
        return (self.__class__.__qualname__, [self.vendor, self.forward, self.backward], {})

    def state_forwards(self, app_label, state) -> None:
        pass

    def database_forwards(self, app_label, schema_editor, from_state, to_state) -> None:
        if schema_editor.connection.vendor == self.vendor:
            for statement in self.forward:
                schema_editor.execute(statement, params=None)

    def database_backwards(self, app_label, schema_editor, from_state, to_state) -> None:
        if schema_editor.connection.vendor == self.vendor:
            for statement in self.backward:
                schema_editor.execute(statement, params=None)

    def describe(self) -> str:
        return f"Run {len(self.forward)} statements on {self.vendor}"


class _Triggers(Operation):
    """Statements generated per vendor (`statements(vendor)`: forwards, backwards)."""

    reduces_to_sql = True
    reversible = True

    def state_forwards(self, app_label, state) -> None:
        pass

    def statements(self, vendor: str) -> tuple[list[str], list[str]]:
        if vendor == "postgresql":
            return self._postgresql()
        if vendor == "sqlite":
            return self._sqlite()
        raise NotImplementedError(f"No change triggers for {vendor}")

    def _postgresql(self) -> tuple[list[str], list[str]]:
        raise NotImplementedError

    def _sqlite(self) -> tuple[list[str], list[str]]:
        raise NotImplementedError

    def database_forwards(self, app_label, schema_editor, from_state, to_state) -> None:
        for statement in self.statements(schema_editor.connection.vendor)[0]:
            schema_editor.execute(statement, params=None)

    def database_backwards(self, app_label, schema_editor, from_state, to_state) -> None:
        for statement in self.statements(schema_editor.connection.vendor)[1]:
            schema_editor.execute(statement, params=None)


class _OfTable:
    """The arguments of an operation on one tracked table: its name, the change `type` its
    rows are, the owner and id columns, and whether its rows own a counter (the users table)."""

    def __init__(
        self,
        table: str,
        type: str,
        user_column: str = "user_id",
        id_column: str = "id",
        creates_sequences: bool = False,
    ) -> None:
        self.table, self.type = _name(table), _name(type)
        self.user_column, self.id_column = _name(user_column), _name(id_column)
        self.creates_sequences = creates_sequences

    def deconstruct(self):
        kwargs = {"table": self.table, "type": self.type, "user_column": self.user_column, "id_column": self.id_column}
        if self.creates_sequences:
            kwargs["creates_sequences"] = True
        return (self.__class__.__qualname__, [], kwargs)


class TrackChanges(_OfTable, _Triggers):
    """Record every insert, update and delete of `table`'s rows in the change log as changes of
    `type` (`user_column` names the owner: rows without one are not recorded; `id_column` the
    object's id), and bump `version` on every update. With `creates_sequences` (the users
    table, `id` its own owner) an inserted row gets its counter row first."""

    def describe(self) -> str:
        return f"Record the changes of {self.table} as {self.type!r}"

    def _pg_row(self, alias: str, op: str, version: str = "version") -> str:
        return _sql(PG_ROW, alias=alias, user=self.user_column, id=self.id_column, version=version, op=op)

    def _postgresql(self) -> tuple[list[str], list[str]]:
        table, user, pk = self.table, self.user_column, self.id_column
        inserted = _sql(PG_INSERTED, row=self._pg_row("r", UPSERT), user=user)
        updated = _sql(PG_INSERTED, row=self._pg_row("r", UPSERT), user=user)
        if user != pk:
            updated += _sql(PG_LEFT_OWNER, row=self._pg_row("o", DELETE, "version + 1"), id=pk, user=user)
        deleted = _sql(PG_DELETED, row=self._pg_row("o", DELETE, "version + 1"), user=user)
        first = _sql(PG_NEW_SEQUENCES, id=pk) if self.creates_sequences else ""
        forward = [_sql(PG_VERSION_TRIGGER, table=table)]
        backward = [_sql(PG_DROP_TRIGGER, trigger="fithub_changes_version", table=table)]
        for event, rows, prefix in (("insert", inserted, first), ("update", updated, ""), ("delete", deleted, "")):
            function, trigger = f"fithub_changes_{table}_{event}", f"fithub_changes_{event}"
            body = _sql(PG_RECORD, first=prefix, type=self.type, rows=rows)
            forward += [
                _sql(PG_FUNCTION, function=function, body=body),
                _sql(
                    PG_STATEMENT_TRIGGER,
                    trigger=trigger,
                    event=event.upper(),
                    table=table,
                    tables=PG_TRANSITION_TABLES[event],
                    function=function,
                ),
            ]
            backward += [
                _sql(PG_DROP_TRIGGER, trigger=trigger, table=table),
                _sql(PG_DROP_FUNCTION, function=function),
            ]
        return forward, backward

    def _sqlite_record(self, row: str, op: str, version: str, guard: str = "") -> list[str]:
        parts = {"row": row, "user": self.user_column, "guard": f" AND {guard}" if guard else ""}
        return [
            _sql(SQLITE_TAKE, **parts),
            _sql(SQLITE_LOG, **parts, type=self.type, id=self.id_column, op=op, version=version),
        ]

    def _sqlite(self) -> tuple[list[str], list[str]]:
        table, user, pk = self.table, self.user_column, self.id_column
        insert = [_sql(SQLITE_NEW_SEQUENCE, id=pk)] if self.creates_sequences else []
        insert += self._sqlite_record("NEW", UPSERT, "NEW.version")
        update = [_sql(SQLITE_BUMP_SELF, table=table, id=pk)]
        if user != pk:
            update += self._sqlite_record("OLD", DELETE, "OLD.version + 1", guard=f"OLD.{user} IS NOT NEW.{user}")
        update += self._sqlite_record("NEW", UPSERT, "OLD.version + 1")
        delete = self._sqlite_record("OLD", DELETE, "OLD.version + 1")
        forward, backward = [], []
        for event, body in (("insert", insert), ("update", update), ("delete", delete)):
            trigger = f"fithub_changes_{table}_{event}"
            forward.append(
                _sql(
                    SQLITE_TRIGGER, trigger=trigger, event=event.upper(), table=table, when="", body="\n    ".join(body)
                )
            )
            backward.append(_sql(SQLITE_DROP_TRIGGER, trigger=trigger))
        return forward, backward


class BumpOnChange(_Triggers):
    """A change of a row of `table` changes the representation of rows of `target`: bump
    their version (which records their change). The target rows are those whose `id` is the
    changed row's `column` (a portion's food), or, with `via=(table, to_target, to_row)`,
    the `to_target` ids of the `via` rows whose `to_row` is the changed row's id (the meals
    whose items use a food). `when` (SQL about `{row}`, the changed row) and `target_filter`
    (SQL about the target row) narrow it; `columns` limits updates to those that change one
    of them (None: every update; a table whose rows are themselves bumped must list its
    columns, or a bump would bump back)."""

    def __init__(
        self,
        name: str,
        table: str,
        target: str,
        column: str | None = None,
        via: Sequence[str] | None = None,
        columns: Sequence[str] | None = None,
        when: str = "",
        target_filter: str = "",
    ) -> None:
        if (column is None) == (via is None):
            raise ValueError("Give one of column and via.")
        self.name, self.table, self.target = _name(name), _name(table), _name(target)
        self.column = _name(column) if column is not None else None
        self.via = tuple(_name(part) for part in via) if via is not None else None
        self.columns = [_name(c) for c in columns] if columns is not None else None
        self.when, self.target_filter = when, target_filter

    def deconstruct(self):
        kwargs = {"name": self.name, "table": self.table, "target": self.target}
        if self.column is not None:
            kwargs["column"] = self.column
        if self.via is not None:
            kwargs["via"] = list(self.via)
        if self.columns is not None:
            kwargs["columns"] = self.columns
        if self.when:
            kwargs["when"] = self.when
        if self.target_filter:
            kwargs["target_filter"] = self.target_filter
        return (self.__class__.__qualname__, [], kwargs)

    def describe(self) -> str:
        return f"Bump {self.target} when {self.table} changes ({self.name})"

    def _target_filter(self) -> str:
        return f" AND {self.target_filter}" if self.target_filter else ""

    def _pg_ids(self, rows: str) -> str:
        when = f" WHERE {self.when.format(row='r')}" if self.when else ""
        if self.column is not None:
            return _sql(PG_BUMP_BY_COLUMN, column=self.column, rows=rows, when=when)
        via, to_target, to_row = self.via
        return _sql(PG_BUMP_VIA, via=via, to_target=to_target, to_row=to_row, rows=rows, when=when)

    def _postgresql(self) -> tuple[list[str], list[str]]:
        if self.columns is None:
            updated = PG_ALL_UPDATED
        else:
            new = ", ".join(f"n.{c}" for c in self.columns)
            old = ", ".join(f"o.{c}" for c in self.columns)
            updated = _sql(PG_CHANGED, new=new, old=old)
        forward, backward = [], []
        for event, rows in (
            ("insert", "SELECT * FROM new_rows"),
            ("update", updated),
            ("delete", "SELECT * FROM old_rows"),
        ):
            function = trigger = f"fithub_bump_{self.name}_{event}"
            body = _sql(PG_BUMP, target=self.target, ids=self._pg_ids(rows), target_filter=self._target_filter())
            forward += [
                _sql(PG_FUNCTION, function=function, body=body),
                _sql(
                    PG_STATEMENT_TRIGGER,
                    trigger=trigger,
                    event=event.upper(),
                    table=self.table,
                    tables=PG_TRANSITION_TABLES[event],
                    function=function,
                ),
            ]
            backward += [
                _sql(PG_DROP_TRIGGER, trigger=trigger, table=self.table),
                _sql(PG_DROP_FUNCTION, function=function),
            ]
        return forward, backward

    def _sqlite_match(self, row: str) -> str:
        when = f" AND {self.when.format(row=row)}" if self.when else ""
        if self.column is not None:
            return _sql(SQLITE_MATCH_COLUMN, row=row, column=self.column, when=when)
        via, to_target, to_row = self.via
        return _sql(SQLITE_MATCH_VIA, via=via, to_target=to_target, to_row=to_row, row=row, when=when)

    def _sqlite(self) -> tuple[list[str], list[str]]:
        changed = ""
        if self.columns is not None:
            changed = " WHEN " + " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in self.columns)
        forward, backward = [], []
        for event, match, when in (
            ("insert", self._sqlite_match("NEW"), ""),
            ("update", f"({self._sqlite_match('NEW')} OR {self._sqlite_match('OLD')})", changed),
            ("delete", self._sqlite_match("OLD"), ""),
        ):
            trigger = f"fithub_bump_{self.name}_{event}"
            body = _sql(SQLITE_BUMP, target=self.target, match=match, target_filter=self._target_filter())
            forward.append(
                _sql(SQLITE_TRIGGER, trigger=trigger, event=event.upper(), table=self.table, when=when, body=body)
            )
            backward.append(_sql(SQLITE_DROP_TRIGGER, trigger=trigger))
        return forward, backward


class BackfillChanges(_OfTable, Operation):
    """Log the rows `table` already has as upserts of `type` (after `TrackChanges` in the same
    migration, so that a full sync is served from the log). With `creates_sequences` (the
    users table), each user first gets a counter row."""

    reduces_to_sql = True
    reversible = True

    def describe(self) -> str:
        return f"Log the existing rows of {self.table} as {self.type!r}"

    def state_forwards(self, app_label, state) -> None:
        pass

    def database_forwards(self, app_label, schema_editor, from_state, to_state) -> None:
        now = "now()" if schema_editor.connection.vendor == "postgresql" else SQLITE_NOW
        parts = {"table": self.table, "user": self.user_column, "id": self.id_column}
        if self.creates_sequences:
            schema_editor.execute(_sql(BACKFILL_SEQUENCES, **parts), params=None)
        schema_editor.execute(_sql(BACKFILL_LOG, **parts, type=self.type, now=now), params=None)
        schema_editor.execute(_sql(BACKFILL_COUNTERS), params=None)

    def database_backwards(self, app_label, schema_editor, from_state, to_state) -> None:
        schema_editor.execute(_sql(UNDO_BACKFILL), params=[self.type])


# --- At run time ---------------------------------------------------------------------------


def current_sequence(user_id, *, using: str | None = None) -> int:
    """The user's latest change sequence: it grows with every committed change of any of
    their rows (0 before the first). One primary-key lookup; conditional requests can derive
    the ETags of lists and aggregates from it and the query."""
    from fithub.models import ChangeSequence

    manager = ChangeSequence.objects if using is None else ChangeSequence.objects.using(using)
    return manager.filter(user_id=user_id).values_list("seq", flat=True).first() or 0


def lock_user(user_id, *, using: str = DEFAULT_DB_ALIAS) -> None:
    """Take the user's change counter for the rest of the transaction before anything else.
    A transaction that writes several statements of the user's rows (a batch push) does this
    first: it and the user's other writers, which take the counter at their first write, then
    wait for each other there instead of deadlocking over rows each locked first."""
    connection = connections[using]
    if not connection.in_atomic_block:
        raise RuntimeError("lock_user() inside a transaction only: the lock ends with it.")
    with connection.cursor() as cursor:
        cursor.execute(_sql(LOCK_USER), [user_id])


def forget_user(user_id, *, using: str = DEFAULT_DB_ALIAS) -> None:
    """Drop the user's counter and log (first, in an account deletion): what the deletion
    removes afterwards records nothing, and a writer of theirs still in flight waits for the
    deletion, then records nothing either."""
    from fithub.models import Change, ChangeSequence

    ChangeSequence.objects.using(using).filter(user_id=user_id).delete()
    Change.objects.using(using).filter(user_id=user_id).delete()


def prune_tombstones(*, before: datetime, batch: int = 1000) -> int:
    """Delete the tombstones written before `before`, and record for each user the highest
    sequence pruned (`pruned_through`: a cursor below it may have missed a deletion, and the
    feed answers it 410). A transaction per `batch` users, their counters locked in user
    order first (as writers take them). The number of tombstones deleted. The caller keeps
    them long enough (`manage.py prune_tombstones`: SYNC_TOMBSTONE_DAYS, at least 90)."""
    from fithub.models import Change, ChangeSequence

    pruned = 0
    while True:
        with transaction.atomic():
            expired = Change.objects.filter(op=DELETE, changed_at__lt=before)
            users = list(expired.order_by("user_id").values_list("user_id", flat=True).distinct()[:batch])
            if not users:
                return pruned
            counters = ChangeSequence.objects.filter(user_id__in=users)
            list(counters.select_for_update().order_by("user_id").values_list("user_id", flat=True))
            theirs = expired.filter(user_id__in=users)
            highest = theirs.filter(user_id=OuterRef("user_id")).order_by().values("user_id").annotate(top=Max("seq"))
            counters.update(
                pruned_through=Greatest("pruned_through", Coalesce(Subquery(highest.values("top")), Value(0)))
            )
            pruned += theirs.delete()[0]
