"""fithub.db.backends.postgresql: psycopg's own (C) timestamptz loader instead of Django's Python one,
with the same values; a kept connection the server hung up on is replaced before a request uses it."""

import select
import time
from datetime import UTC, datetime

import pytest
from django.db import close_old_connections, connection, connections
from django.db.backends.postgresql.psycopg_any import register_tzloader
from psycopg.pq import Format

from fithub.db.backends.postgresql.base import TIMESTAMPTZ_OID, UtcTimestamptzLoader, server_hung_up
from tests.live import direct_connection

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="a PostgreSQL backend")

TIMES = [
    "2026-12-01 20:00:00+00",
    "2026-03-29 01:30:00.123456+00",
    "2026-10-25 02:59:59.999999+02",
    "1999-12-31 23:59:59-08",
    "0001-01-01 00:00:00+00",
    "9999-12-31 23:59:59.5+00",
]
SQL = "SELECT " + ", ".join(f"%s::timestamptz AS t{index}" for index in range(len(TIMES)))


def _select(cursor) -> tuple:
    cursor.execute(SQL, TIMES)
    return cursor.fetchone()


@pytest.mark.django_db(databases="__all__")
def test_every_postgres_alias_loads_times_with_psycopgs_loader():
    for alias in connections:
        connections[alias].ensure_connection()
        loader = connections[alias].connection.adapters.get_loader(TIMESTAMPTZ_OID, Format.TEXT)
        assert loader is UtcTimestamptzLoader, alias
        # The instance is psycopg's own class (its C one with psycopg[binary]), not Django's.
        instance = loader(TIMESTAMPTZ_OID, connections[alias].connection)
        assert type(instance).__module__.startswith(("psycopg.", "psycopg_binary.", "psycopg_c.")), type(instance)


@pytest.mark.django_db
def test_times_are_the_values_djangos_loader_gives_utc_aware():
    with connection.cursor() as cursor:
        ours = _select(cursor)
    with connection.cursor() as cursor:
        register_tzloader(UTC, cursor)  # Django's own loader, on this cursor only
        djangos = _select(cursor)
    assert ours == djangos
    assert all(value.tzinfo is UTC for value in ours)
    assert ours[1] == datetime(2026, 3, 29, 1, 30, 0, 123456, tzinfo=UTC)
    assert ours[2] == datetime(2026, 10, 25, 0, 59, 59, 999999, tzinfo=UTC)


@pytest.mark.django_db
def test_orm_reads_times_back_as_written(user, builtin_types):  # built-ins: a transactional test may flush them
    from apps.measurements.models import Measurement, MeasurementType

    when = datetime(2026, 7, 1, 6, 15, 30, 250000, tzinfo=UTC)
    weight = MeasurementType.objects.get(key="weight")
    row = Measurement.objects.create(
        user=user, type=weight, value=70, entered_value=70, entered_unit="kg", measured_at=when
    )
    loaded = Measurement.objects.get(pk=row.pk)
    assert loaded.measured_at == when
    assert loaded.measured_at.tzinfo is UTC


def _select_one(alias="default") -> None:
    with connections[alias].cursor() as cursor:
        cursor.execute("SELECT 1")


@pytest.mark.django_db(transaction=True)  # no test transaction: the connection may be replaced
def test_a_connection_the_server_ended_is_replaced_before_a_requests_first_statement():
    """pg_terminate_backend ends the session as a shutdown does: the server says so and
    closes its end. The next request's first statement runs on a new connection, no error."""
    primary = connections["default"]
    _select_one()
    kept = primary.connection
    close_old_connections()  # a request starts: a live connection is kept
    _select_one()
    assert primary.connection is kept
    with direct_connection("default") as other:
        other.execute("SELECT pg_terminate_backend(%s)", [kept.info.backend_pid])
    deadline = time.monotonic() + 10
    while not server_hung_up(kept):
        assert time.monotonic() < deadline, "the ended session was not noticed"
        time.sleep(0.01)

    close_old_connections()  # the next request
    _select_one()
    assert primary.connection is not kept
    assert kept.closed


@pytest.mark.django_db(transaction=True)
def test_a_live_connection_the_server_sent_something_unasked_is_kept():
    """A notification arrives on an idle connection as a shutdown's error would: it is read,
    and the connection stays in use."""
    primary = connections["default"]
    _select_one()
    kept = primary.connection
    kept.execute("LISTEN fithub_backend_test")
    try:
        with direct_connection("default") as other:
            other.execute("NOTIFY fithub_backend_test")
        assert select.select([kept.fileno()], [], [], 10)[0], "the notification did not arrive"
        assert not server_hung_up(kept)
        close_old_connections()
        _select_one()
        assert primary.connection is kept
    finally:
        kept.execute("UNLISTEN *")
