"""CompiledQuery runs the ORM's SQL with new values and gives what the queryset gives."""

import datetime as dt
import uuid

import pytest
from django.db.models import Count

from apps.nutrition.models import DiaryEntry
from fithub.db.statements import USER_DATE_RANGE, CompiledQuery, Param, ShapedQuery, fetch_together
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


# --- ShapedQuery: compiled once per shape, values as Params -------------------------------


def _foods(shape, values):
    """Foods named like a word, the caller's own with `mine` (the shape), with a computed column."""
    from django.db.models import F, Q, UUIDField

    from apps.nutrition.models import Food

    (mine,) = shape
    visible = Q(user__isnull=True)
    if mine:
        visible |= Q(user_id=Param("user", values["user"], output_field=UUIDField()))
    return (
        Food.objects.filter(visible, name__icontains=Param("word", values["word"]))
        .annotate(double=F("energy_kcal") * 2)
        .order_by("name")
    )


def _shaped_foods():
    from apps.nutrition.models import Food

    return ShapedQuery(Food, _foods)


def test_shaped_instances_are_the_querysets_for_every_value_and_shape():
    from tests.nutrition.factories import CustomFoodFactory, PublicFoodFactory

    me, them = UserFactory(), UserFactory()
    PublicFoodFactory(name="Bean 50%_off, raw", energy_kcal=100)
    PublicFoodFactory(name="Beans, raw", energy_kcal=120)
    CustomFoodFactory(user=me, name="My bean soup", energy_kcal=80)
    CustomFoodFactory(user=them, name="Their bean stew")
    shaped = _shaped_foods()
    cases = [
        ((True,), {"user": me.pk, "word": "bean"}),
        ((True,), {"user": them.pk, "word": "BEAN"}),
        ((False,), {"word": "bean"}),
        ((False,), {"word": "50%_"}),  # LIKE's wildcards in the value match only themselves
        ((False,), {"word": "50%x"}),
        ((True,), {"user": me.pk, "word": "rice"}),
    ]
    for shape, values in cases:
        expected = list(_foods(shape, values))
        found = shaped.instances(shape, values)
        assert [(food.pk, food.name, food.double, food.created_at) for food in found] == [
            (food.pk, food.name, food.double, food.created_at) for food in expected
        ]
        assert all(isinstance(food.created_at, dt.datetime) and food.created_at.tzinfo for food in found)
    assert [food.name for food in shaped.instances((True,), {"user": me.pk, "word": "bean"})] == [
        "Bean 50%_off, raw",
        "Beans, raw",
        "My bean soup",
    ]
    assert [food.name for food in shaped.instances((False,), {"word": "50%_"})] == ["Bean 50%_off, raw"]
    assert shaped.instances((False,), {"word": "50%x"}) == []


def test_a_shape_is_built_and_compiled_once_per_thread(django_assert_num_queries):
    from apps.nutrition.models import Food

    builds = []

    def counted(shape, values):
        builds.append(shape)
        return _foods(shape, values)

    shaped = ShapedQuery(Food, counted, max_shapes=2)
    user = UserFactory()
    for word in ("bean", "rice", "oats"):
        with django_assert_num_queries(1):
            shaped.instances((True,), {"user": user.pk, "word": word})
    assert builds == [(True,), (True,)]  # built twice (the second time with other values), once
    shaped.instances((False,), {"word": "bean"})
    shaped.instances((None,), {"word": "bean"})  # a third shape: the oldest one goes
    shaped.instances((True,), {"user": user.pk, "word": "bean"})
    assert builds.count((True,)) == 4


def _refused_shape(build, values, match: str) -> None:
    from apps.nutrition.models import Food

    with pytest.raises(ValueError, match=match):
        ShapedQuery(Food, build).instances((True,), values)


def test_a_value_that_reaches_the_sql_outside_a_param_is_refused():
    def leaky(shape, values):
        return _foods(shape, values).filter(name__icontains=values["word"])  # would serve the first caller's word

    _refused_shape(leaky, {"user": uuid.uuid4(), "word": "bean"}, "other than through Params")


def test_a_value_that_does_not_reach_the_sql_is_refused_by_a_shaped_query():
    _refused_shape(_foods, {"user": uuid.uuid4(), "word": "bean", "extra": "x"}, "never reach the SQL")


def test_a_param_that_would_change_the_sql_is_refused():
    def null_user(shape, values):
        return _foods(shape, values | {"user": None})  # NULL is SQL text, not a parameter

    _refused_shape(null_user, {"user": uuid.uuid4(), "word": "bean"}, "changes the SQL itself")


def _food_names(shape, values):
    return _foods(shape, values).values_list("name", "energy_kcal")


def test_shaped_rows_go_together_with_compiled_statements_in_one_round_trip(django_assert_num_queries):
    from apps.nutrition.models import Food
    from tests.nutrition.factories import PublicFoodFactory

    PublicFoodFactory(name="Bean, raw", energy_kcal=100)
    PublicFoodFactory(name="Rice, raw", energy_kcal=130)
    user = UserFactory()
    QuickAddEntryFactory(user=user, local_date=dt.date(2026, 11, 2), meal="lunch")
    names = ShapedQuery(Food, _food_names)
    counts = CompiledQuery(DiaryEntry, _counts, fields=FIELDS, sentinels=SENTINELS)
    november = {"start": dt.date(2026, 11, 1), "end": dt.date(2026, 11, 30)}
    assert names.rows((False,), {"word": "bean"}) == [("Bean, raw", 100.0)]
    with django_assert_num_queries(1):
        beans, lunches, rice = fetch_together(
            names.bind((False,), {"word": "bean"}),
            counts.bind(user_id=user.pk, **november),
            names.bind((False,), {"word": "RICE"}),
        )
    assert (beans, lunches, rice) == ([("Bean, raw", 100.0)], [("lunch", 1)], [("Rice, raw", 130.0)])


def test_the_compiled_shape_keeps_nothing_of_its_first_callers_values():
    shaped = _shaped_foods()
    user = UserFactory()
    shaped.instances((True,), {"user": user.pk, "word": "private-words"})
    ((sql, _, compiler, _),) = shaped._local.compiled.values()
    with_values = str(compiler.query)  # the SQL with the values of the query the cache holds
    assert "private-words" not in with_values
    assert user.pk.hex not in with_values
    assert str(user.pk) not in with_values
    assert "%s" in sql
