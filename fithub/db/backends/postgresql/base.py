"""The PostgreSQL backend of every alias: django-prometheus's, with times loaded at C speed.

Django registers its own loader for `timestamptz` on each connection: a Python subclass of
psycopg's loader that puts the connection's zone on each value. Being Python, it bypasses
psycopg's C implementation (psycopg[binary]) for every time a query returns, 150 on a page
of the diary list. When the connection's zone is UTC, which is the only zone Django uses
with USE_TZ and no per-database TIME_ZONE (the session is set to UTC on connect), psycopg's
own loader gives the same values, UTC-aware, so it is used instead.

A persistent connection (CONN_MAX_AGE) outlives the server's session when the server shuts
down or restarts, or ends the backend: used again, it fails the request that uses it. The
server says so before closing its end (AdminShutdown, then end of stream), so before a
request's first statement on a connection from an earlier request (Django's health-check
hook, which also runs before an atomic block opens the transaction), the connection's socket
is polled without waiting: a connection the server has hung up on is closed and the request
connects anew. No round trip; DB_CONN_HEALTH_CHECKS=1 adds Django's `SELECT 1` as well, which
also finds a connection whose host vanished without closing it.
"""

from __future__ import annotations

import select
from datetime import UTC

import psycopg
from django_prometheus.db.backends.postgresql.base import DatabaseWrapper as PrometheusDatabaseWrapper
from psycopg import adapters
from psycopg.postgres import types
from psycopg.pq import ConnStatus, Format

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


def server_hung_up(connection: psycopg.Connection) -> bool:
    """Whether the server has ended this idle connection's session, found without a round trip.

    An idle connection has nothing to read unless the server spoke unasked: what it says then
    is read (a notice leaves the connection usable; an error is followed by the end of the
    stream, which breaks it)."""
    if connection.closed or connection.broken:
        return True
    pgconn = connection.pgconn
    try:
        fd = pgconn.socket
    except psycopg.OperationalError:  # libpq has lost it already
        return True
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    for _ in range(3):
        if not poller.poll(0):
            return False
        try:
            pgconn.consume_input()
        except psycopg.OperationalError:  # the end of the stream: the server closed its end
            return True
        if pgconn.status != ConnStatus.OK:
            return True
    return True  # still talking unasked: not a connection to reuse


class DatabaseWrapper(PrometheusDatabaseWrapper):
    def get_new_connection(self, conn_params):
        connection = super().get_new_connection(conn_params)
        if self.timezone == UTC:
            connection.adapters.register_loader(TIMESTAMPTZ_OID, UtcTimestamptzLoader)
        return connection

    def close_if_health_check_failed(self):
        """Once per request, before its first statement on a connection from an earlier one
        (new connections are not checked): closed if the server hung up on it."""
        if self.connection is None or self.health_check_done or self.pool:
            return
        if server_hung_up(self.connection):
            self.close()  # the request's first statement connects anew
            return
        if self.health_check_enabled:
            super().close_if_health_check_failed()  # DB_CONN_HEALTH_CHECKS: SELECT 1 too
        self.health_check_done = True
