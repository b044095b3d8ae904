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

A `ShapedQuery` does the same for querysets whose SQL takes a few forms (a search with one
word or three, signed in or not): it is compiled once per form (its shape), its values
written as `Param`s, and gives model instances as the queryset would.
"""

from __future__ import annotations

import contextlib
import threading
import uuid
from collections.abc import Callable, Hashable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.db import connections, router
from django.db.models import Field, Model, QuerySet, Value

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

    def _sql_and_params(self, statement: Statement, alias: str) -> tuple[str, list]:
        sql, order, _, _ = self._compiled(alias)
        connection = connections[alias]
        return sql, [self._adapt(name, statement.values[name], connection) for name in order]

    def _converted(self, statement: Statement, alias: str, fetched: Iterable) -> list[tuple]:
        _, _, compiler, converters = self._compiled(alias)
        return _convert(compiler, converters, fetched)


def _convert(compiler, converters: list, fetched: Iterable) -> list[tuple]:
    """The fetched rows as the compiler's queryset gives them (its converters applied)."""
    if converters:
        fetched = compiler.apply_converters(fetched, converters)
    return [tuple(row) for row in fetched]


@dataclass(frozen=True, slots=True)
class Statement:
    """A compiled query with its values (and, for a ShapedQuery, its shape), ready to run."""

    query: CompiledQuery | ShapedQuery
    values: dict[str, Any]
    shape: Hashable = None

    def sql_and_params(self, alias: str) -> tuple[str, list]:
        return self.query._sql_and_params(self, alias)

    def converted(self, alias: str, fetched: Iterable) -> list[tuple]:
        return self.query._converted(self, alias, fetched)


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
    parts = [statement.sql_and_params(alias) for statement in statements]
    results = []
    with connection.cursor() as cursor:
        cursor.execute("; ".join(sql for sql, _ in parts), [param for _, params in parts for param in params])
        for index, statement in enumerate(statements):
            if index:
                cursor.nextset()
            results.append(statement.converted(alias, cursor.fetchall()))
    return results


def _fetch_alone(statement: Statement, alias: str) -> list[tuple]:
    sql, params = statement.sql_and_params(alias)
    with connections[alias].cursor() as cursor:
        cursor.execute(sql, params)
        return statement.converted(alias, cursor.fetchall())


class Param(Value):
    """A value by name, for a `ShapedQuery`'s builder: in any queryset it is a plain `Value`;
    while a `ShapedQuery` compiles, its parameter is a placeholder that each run fills in.
    Lookups take it as an expression (`search_name__contains=Param(...)` escapes the
    pattern in SQL, which PostgreSQL folds to a constant before choosing an index)."""

    def __init__(self, name: str, value: Any, output_field: Field | None = None) -> None:
        super().__init__(value, output_field=output_field)
        self.name = name

    def as_sql(self, compiler, connection):
        sql, params = super().as_sql(compiler, connection)
        if not getattr(_shaping, "active", False):
            return sql, params
        if sql != "%s" or len(params) != 1:
            raise ValueError(f"Param {self.name!r} changes the SQL itself ({sql!r}): make it part of the shape")
        return sql, [_Slot(self.name, self._output_field_or_none)]


@dataclass(frozen=True, slots=True)
class _Slot:
    name: str
    field: Field | None = field(compare=False)

    def bind(self, values: dict[str, Any], connection) -> Any:
        value = values[self.name]
        return value if self.field is None else self.field.get_db_prep_value(value, connection)


_shaping = threading.local()


@contextlib.contextmanager
def _placeholders() -> Iterator[None]:
    _shaping.active = True
    try:
        yield
    finally:
        _shaping.active = False


class ShapedQuery:
    """`build(shape, values)` returns a queryset of `model` whose structure depends on `shape`
    only (hashable) and which takes each of `values` through a `Param` of that name.

    `instances(shape, values)` gives the model instances, annotations set, that
    `list(build(shape, values))` gives (`rows()` the tuples of a `values_list()` queryset,
    `bind()` a Statement for `fetch_together`), from SQL compiled once per shape, database and thread
    (at most `max_shapes` kept). Compiling builds the query a second time with other values
    of the same lengths and refuses it (ValueError) unless the SQL and every parameter but
    the Params come out the same, and every value is used: a value that reached the SQL
    some other way would otherwise be served to the next caller."""

    def __init__(self, model: type[Model], build: Callable[[Hashable, dict], QuerySet], *, max_shapes: int = 256):
        self.model, self.build, self.max_shapes = model, build, max_shapes
        self._local = threading.local()

    def rows(self, shape: Hashable, values: dict[str, Any]) -> list[tuple]:
        """The converted rows of a `values_list()` queryset, as `list(build(shape, values))`."""
        return fetch_together(self.bind(shape, values))[0]

    def bind(self, shape: Hashable, values: dict[str, Any]) -> Statement:
        """This query with its shape and values, to run with others in one round trip (`fetch_together`)."""
        return Statement(self, values, shape)

    def _sql_and_params(self, statement: Statement, alias: str) -> tuple[str, list]:
        sql, template, _, _ = self._compiled(statement.shape, alias, statement.values)
        connection = connections[alias]
        values = statement.values
        return sql, [param.bind(values, connection) if isinstance(param, _Slot) else param for param in template]

    def _converted(self, statement: Statement, alias: str, fetched: Iterable) -> list[tuple]:
        _, _, compiler, converters = self._compiled(statement.shape, alias, statement.values)
        return _convert(compiler, converters, fetched)

    def instances(self, shape: Hashable, values: dict[str, Any]) -> list[Model]:
        alias = router.db_for_read(self.model)
        _, _, compiler, _ = self._compiled(shape, alias, values)
        if compiler.klass_info is None or compiler.klass_info.get("related_klass_infos"):
            raise ValueError("instances() takes a queryset of model instances (no values(), no select_related())")
        rows = _fetch_alone(self.bind(shape, values), alias)
        start, end = compiler.klass_info["select_fields"][0], compiler.klass_info["select_fields"][-1] + 1
        attnames = [column[0].target.attname for column in compiler.select[start:end]]
        annotations = compiler.annotation_col_map.items()
        found = []
        for row in rows:
            instance = self.model.from_db(alias, attnames, row[start:end])
            for name, position in annotations:
                setattr(instance, name, row[position])
            found.append(instance)
        return found

    def _compiled(self, shape: Hashable, alias: str, values: dict) -> tuple:
        cache = self._local.__dict__.setdefault("compiled", {})
        key = (shape, alias)
        compiled = cache.get(key)
        if compiled is None:
            if len(cache) >= self.max_shapes:
                del cache[next(iter(cache))]
            compiled = cache[key] = self._compile(shape, alias, values)
        return compiled

    def _compile(self, shape: Hashable, alias: str, values: dict) -> tuple:
        # The compiler kept (for its converters) is the one built with the made-up values: the
        # cache holds nothing of the first caller's (their words, their id).
        with _placeholders():
            sql, params = self.build(shape, values).query.get_compiler(using=alias).as_sql()
            compiler = self.build(shape, _other(values)).query.get_compiler(using=alias)
            other_sql, other_params = compiler.as_sql()
        if (sql, list(params)) != (other_sql, list(other_params)):
            raise ValueError(f"values of shape {shape!r} reach the SQL other than through Params")
        unused = set(values) - {param.name for param in params if isinstance(param, _Slot)}
        if unused:
            raise ValueError(f"values {sorted(unused)} never reach the SQL")
        converters = compiler.get_converters([column for column, _, _ in compiler.select[: compiler.col_count]])
        return sql, params, compiler, converters


def _other(values: dict[str, Any]) -> dict[str, Any]:
    """Values unlike `values`, each of the same type (and strings of the same length)."""
    return {name: _unlike(value) for name, value in values.items()}


def _unlike(value: Any) -> Any:
    if isinstance(value, str):
        return "".join("y" if char == "x" else "x" for char in value)
    if isinstance(value, uuid.UUID):
        return uuid.UUID(int=value.int ^ 1)
    if isinstance(value, date):
        return value + timedelta(days=1)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value + 1
    raise TypeError(f"no other value for {value!r}: a Param takes strings, numbers, dates and UUIDs")
