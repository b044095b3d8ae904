"""The statement cache: querysets compiled to SQL once per shape, then run with new values.

Building a queryset and compiling it costs Django more than PostgreSQL takes to run a
small indexed query, and the hot reads (lists, the day summary, the trend, food search)
are the same few queries with other values. A `CachedQuery` is written with the ORM as
usual, as `build(shape, values)`: `shape` is whatever changes the SQL text (which filters
a request names, a page size, how many words a search has), hashable; every value reaches
the queryset as a `Param` of that name. The SQL is compiled once per shape, database
alias and thread; each run only binds the values and turns the rows into what the
queryset itself gives (model instances with their select_related rows and annotations,
`values()` dicts or `values_list()` tuples), prefetches included.

Compiling a shape costs a worker 10-20 ms of CPU (food search's ranked query), so a
`CachedQuery` may name the shapes nearly every worker meets (`warm=`): `warm_statements()`
compiles them in gunicorn's master before it forks the workers (fithub/ops/warmup.py), and
their first clients do not pay for them.

Compiling builds the queryset a second time with other values of the same kinds and
refuses it (ValueError) unless the SQL comes out the same, every parameter that is not a
Param is the same, and every value is used: a value that reached the SQL some other way
would otherwise be served to the next caller. The cache keeps the compiler built with the
made-up values, so it holds nothing of a first caller's (their words, their id).

This module is the only place that uses Django's query compiler API.
"""

from __future__ import annotations

import contextlib
import threading
import uuid
from collections.abc import Callable, Hashable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.db import connections, router
from django.db.models import Field, Model, Prefetch, QuerySet, Value, prefetch_related_objects
from django.db.models.query import ModelIterable, ValuesIterable, ValuesListIterable, get_related_populators


class Param(Value):
    """A value by name, for a `CachedQuery`'s builder: in any queryset it is a plain `Value`;
    while a `CachedQuery` compiles, its parameter is a placeholder that each run fills in.
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


@dataclass(frozen=True, slots=True)
class _Compiled:
    """One shape's SQL on one alias, and how to turn its rows into the queryset's results."""

    sql: str
    template: list  # parameters: _Slot for a Param, the value itself for anything else
    results: Callable[[list], list]


class CachedQuery:
    """`build(shape, values)` returns a queryset of `model` whose SQL depends on `shape` only
    and which takes each of `values` through a `Param` of that name.

    `results(shape, values)` gives what `list(build(shape, values))` gives, from SQL compiled
    once per shape, database and thread (at most `max_shapes` kept); `bind()` gives a
    Statement to run with others in one round trip (`fetch_together`)."""

    def __init__(
        self,
        model: type[Model],
        build: Callable[[Hashable, dict], QuerySet],
        *,
        max_shapes: int = 256,
        warm: Callable[[], Iterable[tuple[Hashable, dict[str, Any]]]] | None = None,
    ):
        self.model, self.build, self.max_shapes, self.warm = model, build, max_shapes, warm
        self._local = threading.local()
        if warm is not None:
            _WARMED.append(self)

    def results(self, shape: Hashable, values: dict[str, Any]) -> list:
        return fetch_together(self.bind(shape, values))[0]

    def bind(self, shape: Hashable, values: dict[str, Any]) -> Statement:
        return Statement(self, shape, values)

    def compiled(self, shape: Hashable, alias: str, values: dict) -> _Compiled:
        cache = self._local.__dict__.setdefault("compiled", {})
        key = (shape, alias)
        compiled = cache.get(key)
        if compiled is None:
            compiled = self._compile(shape, alias, values)
            if self.max_shapes > 0:
                if len(cache) >= self.max_shapes:
                    del cache[next(iter(cache))]
                cache[key] = compiled
        return compiled

    def _compile(self, shape: Hashable, alias: str, values: dict) -> _Compiled:
        first, queryset = self.build(shape, values), self.build(shape, _other(values))
        with _placeholders():
            sql, params = first.query.get_compiler(using=alias).as_sql()
            compiler = queryset.query.get_compiler(using=alias)
            other_sql, other_params = compiler.as_sql()
        if (sql, list(params)) != (other_sql, list(other_params)):
            raise ValueError(f"values of shape {shape!r} reach the SQL other than through Params")
        if _prefetch_signature(first) != _prefetch_signature(queryset):
            raise ValueError(f"values of shape {shape!r} reach a prefetch: prefetches run as compiled")
        unused = set(values) - {param.name for param in params if isinstance(param, _Slot)}
        if unused:
            raise ValueError(f"values {sorted(unused)} never reach the SQL")
        return _Compiled(sql, list(params), _results_of(queryset, compiler, alias))


_WARMED: list[CachedQuery] = []


def warm_statements(alias: str) -> int:
    """Compile the shapes every `CachedQuery(..., warm=...)` names on database `alias`, in this
    thread (a forked process inherits them): how many. Compiling asks the server's version."""
    compiled = 0
    for query in _WARMED:
        for shape, values in query.warm():
            query.compiled(shape, alias, values)
            compiled += 1
    return compiled


def _results_of(queryset: QuerySet, compiler, alias: str) -> Callable[[list], list]:
    """What turns fetched rows into the queryset's own results, as its iterable class does."""
    converters = compiler.get_converters([column for column, _, _ in compiler.select[: compiler.col_count]])

    def converted(rows: list) -> list:
        return [tuple(row) for row in compiler.apply_converters(rows, converters)] if converters else rows

    iterable = queryset._iterable_class
    if iterable is ValuesListIterable:  # Django selects the columns in the order named
        return lambda rows: [tuple(row) for row in converted(rows)]
    if iterable is ValuesIterable:
        query = queryset.query
        names = (
            list(query.selected)
            if query.selected
            else [*query.extra_select, *query.values_select, *query.annotation_select]
        )
        return lambda rows: [dict(zip(names, row, strict=True)) for row in converted(rows)]
    if iterable is not ModelIterable:
        raise ValueError(f"a CachedQuery gives instances, values() or values_list() rows, not {iterable.__name__}")
    klass_info = compiler.klass_info
    if klass_info is None or queryset._known_related_objects or queryset.query.deferred_loading[0]:
        raise ValueError("a CachedQuery gives model instances, values() or values_list() rows")
    model = klass_info["model"]
    start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
    attnames = [column[0].target.attname for column in compiler.select[start:end]]
    populators = get_related_populators(klass_info, compiler.select, alias)
    annotations = list(compiler.annotation_col_map.items())
    prefetches = queryset._prefetch_related_lookups

    def instances(rows: list) -> list:
        found = []
        for row in converted(rows):
            instance = model.from_db(alias, attnames, row[start:end])
            for populator in populators:
                populator.populate(row, instance)
            for name, position in annotations:
                setattr(instance, name, row[position])
            found.append(instance)
        if prefetches and found:
            prefetch_related_objects(found, *(_fresh(lookup) for lookup in prefetches))
        return found

    return instances


def _prefetch_signature(queryset: QuerySet) -> list:
    """The prefetches' own SQL with its values: it must not depend on the values."""
    return [
        (lookup.prefetch_through, str(lookup.queryset.query) if lookup.queryset is not None else None)
        if isinstance(lookup, Prefetch)
        else lookup
        for lookup in queryset._prefetch_related_lookups
    ]


def _fresh(lookup):
    """A copy of a cached Prefetch for one run: prefetching adds the run's first instance to
    its queryset's hints, which the cache must not keep."""
    if not isinstance(lookup, Prefetch) or lookup.queryset is None:
        return lookup
    queryset = lookup.queryset.all()
    queryset._hints = {}
    return Prefetch(lookup.prefetch_through, queryset=queryset, to_attr=lookup.to_attr)


@dataclass(frozen=True, slots=True)
class Statement:
    """A cached query with its shape and values, ready to run."""

    query: CachedQuery
    shape: Hashable
    values: dict[str, Any]

    def sql_and_params(self, alias: str) -> tuple[str, list]:
        compiled = self.query.compiled(self.shape, alias, self.values)
        connection = connections[alias]
        values = self.values
        return compiled.sql, [p.bind(values, connection) if isinstance(p, _Slot) else p for p in compiled.template]

    def results(self, alias: str, rows: list) -> list:
        return self.query.compiled(self.shape, alias, self.values).results(rows)


def fetch_together(*statements: Statement) -> list[list]:
    """The results of each statement, in order. Statements that read from the same PostgreSQL
    database go in one round trip: psycopg sends several statements in one query when
    parameters are bound client-side (Django's default), and the results come back one set
    after another. Anything else runs one statement at a time."""
    if not statements:
        return []
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
    fetched = []
    with connection.cursor() as cursor:
        cursor.execute("; ".join(sql for sql, _ in parts), [param for _, params in parts for param in params])
        for index in range(len(statements)):
            if index:
                cursor.nextset()
            fetched.append(cursor.fetchall())
    # Rows become instances only once the cursor is done: a prefetch runs queries of its own.
    return [statement.results(alias, rows) for statement, rows in zip(statements, fetched, strict=True)]


def _fetch_alone(statement: Statement, alias: str) -> list:
    sql, params = statement.sql_and_params(alias)
    with connections[alias].cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return statement.results(alias, rows)


def _other(values: dict[str, Any]) -> dict[str, Any]:
    """Values unlike `values`, each of the same kind, each moved by a different amount: a
    value derived from two of them (a LIMIT of `end - start`) then changes too."""
    return {name: _unlike(value, step) for step, (name, value) in enumerate(values.items(), start=1)}


def _unlike(value: Any, step: int) -> Any:
    if isinstance(value, bool):
        return not value
    if isinstance(value, str):
        return "".join("y" if char == "x" else "x" for char in value) or "x"
    if isinstance(value, uuid.UUID):
        return uuid.UUID(int=value.int ^ step)
    if isinstance(value, date):  # datetimes too
        try:
            return value + timedelta(days=step)
        except OverflowError:
            return value - timedelta(days=step)
    if isinstance(value, time):
        moved = (datetime.combine(date(2000, 1, 1), value) + timedelta(minutes=step)).time()
        return moved.replace(tzinfo=value.tzinfo)
    if isinstance(value, int | float | Decimal):
        moved = value + step
        return moved if moved != value else value * 2 + step
    raise TypeError(f"no other value for {value!r}: a Param takes strings, numbers, dates, times and UUIDs")
