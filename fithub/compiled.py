"""Querysets compiled once and run many times with new values, for the hottest reads.

Building a queryset and compiling it to SQL costs Django far more than PostgreSQL takes to
run a small indexed query: the day summary's grouped query took 0.45 ms to build and
compile and 0.12 ms to run. A `CompiledQuery` is written with the ORM as usual (one source
of truth, any database backend); it is compiled once per database alias with sentinel
values, and each run only executes the SQL with the new values, adapted the way the ORM
adapts them, and converts the rows with the compiler's converters, as `values_list()` does.

Each named value must reach the SQL only as parameters of its own (filter values), never
folded into the SQL text (a slice's LIMIT computed from them, say). Compiling checks it:
the query is built with two sets of sentinel values, which must give the same SQL, with
every parameter one of the sentinels and every sentinel used; otherwise it is refused.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db import connections, router
from django.db.models import Field, Model, QuerySet

# Sentinels for the common shape: one user's rows between two dates.
USER_DATE_RANGE = (
    {"user_id": uuid.UUID(int=1), "start": date(2000, 1, 1), "end": date(2000, 1, 2)},
    {"user_id": uuid.UUID(int=2), "start": date(2001, 3, 1), "end": date(2001, 3, 9)},
)


class CompiledQuery:
    """`build(**values)` returns a `values_list()` queryset of `model`; `fields` names, for
    each value, the model field that adapts it (`user_id`, `local_date`); `sentinels` is
    two sets of example values, all distinct. `rows(**values)` runs it on the database the
    router picks for reading `model` and returns the converted row tuples."""

    def __init__(
        self,
        model: type[Model],
        build: Callable[..., QuerySet],
        *,
        fields: dict[str, str],
        sentinels: tuple[dict[str, Any], dict[str, Any]],
    ) -> None:
        self.model, self.build, self.sentinels = model, build, sentinels
        self.fields: dict[str, Field] = {name: model._meta.get_field(field) for name, field in fields.items()}
        self._local = threading.local()  # compiled per thread: a compiler holds its connection

    def _adapt(self, name: str, value, connection) -> Any:
        return self.fields[name].get_db_prep_value(value, connection, prepared=False)

    def _compile(self, alias: str) -> tuple:
        compiled = [self._compile_with(alias, sentinels) for sentinels in self.sentinels]
        if compiled[0][0] != compiled[1][0] or compiled[0][1] != compiled[1][1]:
            raise ValueError(f"the values change the SQL itself, not only its parameters: {self.sentinels}")
        return compiled[0]

    def _compile_with(self, alias: str, sentinels: dict[str, Any]) -> tuple:
        connection = connections[alias]
        compiler = self.build(**sentinels).query.get_compiler(using=alias)
        sql, params = compiler.as_sql()
        expected = {name: self._adapt(name, value, connection) for name, value in sentinels.items()}
        order = []
        for param in params:
            names = [name for name, adapted in expected.items() if adapted == param]
            if len(names) != 1:
                raise ValueError(f"parameter {param!r} is not one of the sentinels {sentinels}")
            order.append(names[0])
        if set(order) != set(sentinels):
            raise ValueError(f"each of {sorted(sentinels)} must reach the SQL as a parameter: {order}")
        converters = compiler.get_converters([column for column, _, _ in compiler.select[: compiler.col_count]])
        return sql, order, compiler, converters

    def rows(self, **values) -> list[tuple]:
        return fetch_together(self.bind(**values))[0]

    def bind(self, **values) -> Statement:
        """This query with its values, to run with others in one round trip (`fetch_together`)."""
        return Statement(self, values)

    def _compiled(self, alias: str) -> tuple:
        cache = self._local.__dict__
        compiled = cache.get(alias)
        if compiled is None:
            compiled = cache[alias] = self._compile(alias)
        return compiled

    def _sql_and_params(self, alias: str, values: dict) -> tuple[str, list]:
        sql, order, _, _ = self._compiled(alias)
        connection = connections[alias]
        return sql, [self._adapt(name, values[name], connection) for name in order]

    def _converted(self, alias: str, fetched: Iterable) -> list[tuple]:
        _, _, compiler, converters = self._compiled(alias)
        if converters:
            fetched = compiler.apply_converters(fetched, converters)
        return [tuple(row) for row in fetched]


@dataclass(frozen=True, slots=True)
class Statement:
    query: CompiledQuery
    values: dict[str, Any]


def fetch_together(*statements: Statement) -> list[list[tuple]]:
    """The rows of each statement, in order. Statements that read from the same PostgreSQL
    database go in one round trip: psycopg sends several statements in one query when
    parameters are bound client-side (Django's default), and the results come back one set
    after another. Anything else runs one statement at a time."""
    aliases = [router.db_for_read(statement.query.model) for statement in statements]
    alias = aliases[0]
    connection = connections[alias]
    together = (
        len(statements) > 1
        and len(set(aliases)) == 1
        and connection.vendor == "postgresql"
        and not connection.settings_dict["OPTIONS"].get("server_side_binding")
    )
    if not together:
        return [_fetch_alone(statement, alias) for statement, alias in zip(statements, aliases, strict=True)]
    parts = [statement.query._sql_and_params(alias, statement.values) for statement in statements]
    results = []
    with connection.cursor() as cursor:
        cursor.execute("; ".join(sql for sql, _ in parts), [param for _, params in parts for param in params])
        for index, statement in enumerate(statements):
            if index:
                cursor.nextset()
            results.append(statement.query._converted(alias, cursor.fetchall()))
    return results


def _fetch_alone(statement: Statement, alias: str) -> list[tuple]:
    sql, params = statement.query._sql_and_params(alias, statement.values)
    with connections[alias].cursor() as cursor:
        cursor.execute(sql, params)
        return statement.query._converted(alias, cursor.fetchall())
