"""The PostgreSQL backend of every alias: django-prometheus's, with times loaded at C speed.

Django registers its own loader for `timestamptz` on each connection: a Python subclass of
psycopg's loader that puts the connection's zone on each value. Being Python, it bypasses
psycopg's C implementation (psycopg[binary]) for every time a query returns, 150 on a page
of the diary list. When the connection's zone is UTC, which is the only zone Django uses
with USE_TZ and no per-database TIME_ZONE (the session is set to UTC on connect), psycopg's
own loader gives the same values, UTC-aware, so it is used instead.
"""

from __future__ import annotations

from datetime import UTC

from django_prometheus.db.backends.postgresql.base import DatabaseWrapper as PrometheusDatabaseWrapper
from psycopg import adapters
from psycopg.postgres import types
from psycopg.pq import Format

TIMESTAMPTZ_OID = types["timestamptz"].oid


class UtcTimestamptzLoader:
    """psycopg's own timestamptz loader (its C class when available), shaped as Django expects:
    Django's `create_cursor` reads the registered loader's `timezone` to decide whether the
    cursor needs a loader of its own."""

    timezone = UTC
    format = Format.TEXT
    _loader = adapters.get_loader(TIMESTAMPTZ_OID, Format.TEXT)

    def __new__(cls, oid, context=None):
        return cls._loader(oid, context)


class DatabaseWrapper(PrometheusDatabaseWrapper):
    def get_new_connection(self, conn_params):
        connection = super().get_new_connection(conn_params)
        if self.timezone == UTC:
            connection.adapters.register_loader(TIMESTAMPTZ_OID, UtcTimestamptzLoader)
        return connection
