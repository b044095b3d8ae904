"""The database backend of replica aliases: a failed replica never fails a read.

When connecting to the replica fails, or a query on it fails outside a transaction (the
server went away mid-request), the replica is marked down in the router's selector and
the read is answered by the primary instead. The router stops sending reads to the
replica until its back-off has passed.
"""

import contextlib
import time

from django.db import DatabaseError, OperationalError, connections
from django.db.backends.utils import CursorDebugWrapper, CursorWrapper
from psycopg import OperationalError as PsycopgOperationalError

from fithub.db.backends.postgresql.base import DatabaseWrapper as PostgresDatabaseWrapper
from fithub.db.replicas import replica_selector
from fithub.db.router import PRIMARY
from fithub.ops.metrics import record_replica_fallback


class _FallbackMixin:
    """Re-runs a failed statement on the primary; later fetches read the primary's cursor."""

    def _switch_to_primary(self, error: Exception) -> None:
        replica = self.db
        replica_selector.mark_down(replica.alias, reason=f"query failed: {error.__class__.__name__}")
        record_replica_fallback()
        with contextlib.suppress(DatabaseError):
            replica.close()
        primary_cursor = connections[PRIMARY].cursor()
        self.db = primary_cursor.db
        self.cursor = primary_cursor.cursor

    def _can_fall_back(self) -> bool:
        return self.db.alias != PRIMARY and not self.db.in_atomic_block

    def execute(self, sql, params=None):
        try:
            return super().execute(sql, params)
        except OperationalError as error:
            if not self._can_fall_back():
                raise
            self._switch_to_primary(error)
            return super().execute(sql, params)

    def executemany(self, sql, param_list):
        try:
            return super().executemany(sql, param_list)
        except OperationalError as error:
            if not self._can_fall_back():
                raise
            self._switch_to_primary(error)
            return super().executemany(sql, param_list)


class FallbackCursorWrapper(_FallbackMixin, CursorWrapper):
    pass


class FallbackCursorDebugWrapper(_FallbackMixin, CursorDebugWrapper):
    pass


class DatabaseWrapper(PostgresDatabaseWrapper):
    def get_new_connection(self, conn_params):
        try:
            return super().get_new_connection(conn_params)
        except PsycopgOperationalError as error:
            replica_selector.mark_down(self.alias, reason=f"connect failed: {error.__class__.__name__}")
            record_replica_fallback()
            connection = super().get_new_connection(connections[PRIMARY].get_connection_params())
            # Hold the primary connection only until the end of this request.
            self.close_at = time.monotonic()
            return connection

    def make_cursor(self, cursor):
        return FallbackCursorWrapper(cursor, self)

    def make_debug_cursor(self, cursor):
        return FallbackCursorDebugWrapper(cursor, self)
