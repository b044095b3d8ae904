"""CompiledQuery runs the ORM's SQL with new values and gives what the queryset gives."""

import datetime as dt
import uuid

import pytest
from django.db.models import Count

from apps.nutrition.models import DiaryEntry
from fithub.compiled import USER_DATE_RANGE, CompiledQuery, fetch_together
from tests.nutrition.factories import QuickAddEntryFactory
from tests.users.factories import UserFactory

pytestmark = pytest.mark.django_db
SENTINELS = USER_DATE_RANGE
FIELDS = {"user_id": "user", "start": "local_date", "end": "local_date"}


def _entries(*, user_id, start, end):
    return (
        DiaryEntry.objects.filter(user_id=user_id, local_date__range=(start, end))
        .order_by("local_date", "meal")
        .values_list("local_date", "meal", "energy_kcal", "consumed_at")
    )


def test_rows_are_the_querysets_for_every_set_of_values():
    compiled = CompiledQuery(DiaryEntry, _entries, fields=FIELDS, sentinels=SENTINELS)
    users = [UserFactory(), UserFactory()]
    for n, user in enumerate(users):
        for day in range(1, 6):
            QuickAddEntryFactory(user=user, local_date=dt.date(2026, 11, day), energy_kcal=100 * day + n, meal="dinner")
    for user in users:
        for start, end in [(dt.date(2026, 11, 2), dt.date(2026, 11, 4)), (dt.date(2026, 1, 1), dt.date(2026, 12, 31))]:
            expected = list(_entries(user_id=user.pk, start=start, end=end))
            assert compiled.rows(user_id=user.pk, start=start, end=end) == expected
            assert expected
    assert compiled.rows(user_id=uuid.uuid4(), start=dt.date(2026, 1, 1), end=dt.date(2026, 12, 31)) == []


def _refused(build, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        CompiledQuery(DiaryEntry, build, fields=FIELDS, sentinels=SENTINELS).rows(
            user_id=uuid.uuid4(), start=dt.date(2026, 1, 1), end=dt.date(2026, 1, 2)
        )


def test_a_value_folded_into_the_sql_is_refused():
    def sliced(*, user_id, start, end):
        return _entries(user_id=user_id, start=start, end=end)[: (end - start).days + 1]  # a LIMIT in the SQL

    _refused(sliced, "change the SQL itself")


def test_a_value_that_does_not_reach_the_sql_is_refused():
    def ignores_end(*, user_id, start, end):
        return _entries(user_id=user_id, start=start, end=start)

    _refused(ignores_end, "must reach the SQL")


def _counts(*, user_id, start, end):
    return (
        DiaryEntry.objects.filter(user_id=user_id, local_date__range=(start, end))
        .order_by()
        .values_list("meal")
        .annotate(Count("id"))
        .order_by("meal")
    )


def test_statements_fetched_together_take_one_round_trip_and_keep_their_results_apart(
    django_assert_num_queries,
):
    entries = CompiledQuery(DiaryEntry, _entries, fields=FIELDS, sentinels=SENTINELS)
    counts = CompiledQuery(DiaryEntry, _counts, fields=FIELDS, sentinels=SENTINELS)
    mine, theirs = UserFactory(), UserFactory()
    for day in range(1, 4):
        QuickAddEntryFactory(user=mine, local_date=dt.date(2026, 11, day), meal="lunch")
    QuickAddEntryFactory(user=theirs, local_date=dt.date(2026, 11, 2), meal="snack")
    november = {"start": dt.date(2026, 11, 1), "end": dt.date(2026, 11, 30)}
    statements = [
        entries.bind(user_id=mine.pk, **november),
        counts.bind(user_id=uuid.uuid4(), **november),  # an empty result between two others
        counts.bind(user_id=theirs.pk, **november),
        entries.bind(user_id=theirs.pk, **november),
    ]
    expected = [
        list(_entries(user_id=mine.pk, **november)),
        [],
        [("snack", 1)],
        list(_entries(user_id=theirs.pk, **november)),
    ]
    with django_assert_num_queries(1):
        assert fetch_together(*statements) == expected
    assert len(expected[0]) == 3


def test_with_server_side_parameters_statements_run_one_by_one(monkeypatch, django_assert_num_queries):
    """psycopg sends several statements in one query only with client-side parameters."""
    from django.db import connection

    entries = CompiledQuery(DiaryEntry, _entries, fields=FIELDS, sentinels=SENTINELS)
    user = UserFactory()
    QuickAddEntryFactory(user=user, local_date=dt.date(2026, 11, 2))
    november = {"start": dt.date(2026, 11, 1), "end": dt.date(2026, 11, 30)}
    monkeypatch.setitem(connection.settings_dict["OPTIONS"], "server_side_binding", True)
    statement = entries.bind(user_id=user.pk, **november)
    with django_assert_num_queries(2):
        first, second = fetch_together(statement, statement)
    assert first == second == list(_entries(user_id=user.pk, **november))
    assert first
