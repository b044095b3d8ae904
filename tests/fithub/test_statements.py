"""CachedQuery gives what its queryset gives, from SQL compiled once per shape, and refuses
a builder whose values could reach the next caller other than as its own Params."""

import datetime as dt
import gc
import threading
import types
import uuid
from decimal import Decimal

import pytest
from django.db import connection, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Count, DateField, F, Field, Model, Prefetch, Q, Sum, UUIDField, Value
from django.db.models.options import Options
from django.db.models.sql import Query
from django.db.models.sql.compiler import SQLCompiler
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.goals.models import Goal
from apps.measurements.models import Measurement
from apps.nutrition import selectors
from apps.nutrition.models import DiaryEntry, Food, FoodPreference, Meal, MealItem
from fithub.db.statements import CachedQuery, Param, fetch_together
from tests.goals.factories import GoalFactory
from tests.measurements.factories import MeasurementFactory, MeasurementTypeFactory
from tests.nutrition.factories import (
    CustomFoodFactory,
    FoodPortionFactory,
    FoodPreferenceFactory,
    MealFactory,
    MealItemFactory,
    PublicFoodFactory,
    QuickAddEntryFactory,
)
from tests.users.factories import UserFactory

pytestmark = pytest.mark.django_db
NOVEMBER = {"start": dt.date(2026, 11, 1), "end": dt.date(2026, 11, 30)}


# --- How results are compared: values, their types and order, and every related row ----


def _typed(value, within: tuple = ()):
    """`value` with the type of everything in it, model instances as all they carry (a row
    already being described, such as a prefetched item's parent, by its class and key)."""
    if isinstance(value, Model):
        if any(value is outer for outer in within):
            return ("the row above", type(value), value.pk)
        within = (*within, value)
        state = value._state
        attributes = {
            name: _typed(item, within)
            for name, item in vars(value).items()
            if name not in ("_state", "_prefetched_objects_cache")
        }
        related = {name: _typed(item, within) for name, item in state.fields_cache.items()}
        prefetched = {
            name: [_typed(item, within) for item in queryset]
            for name, queryset in getattr(value, "_prefetched_objects_cache", {}).items()
        }
        return (type(value), state.db, state.adding, attributes, related, prefetched)
    if isinstance(value, dict):
        return (type(value), [(key, _typed(item, within)) for key, item in value.items()])
    if isinstance(value, list | tuple):
        return (type(value), [_typed(item, within) for item in value])
    return (type(value), value)


def _assert_same(query: CachedQuery, shape, values: dict) -> list:
    expected = list(query.build(shape, values))
    got = query.results(shape, values)
    assert _typed(got) == _typed(expected)
    return got


def _user(values: dict) -> Param:
    return Param("user", values["user"], output_field=UUIDField())


def _day(values: dict, name: str) -> Param:
    return Param(name, values[name], output_field=DateField())


# --- values_list() tuples, values() dicts, instances ----------------------------------


def _entries(shape, values):
    return (
        DiaryEntry.objects.filter(user_id=_user(values), local_date__range=(_day(values, "start"), _day(values, "end")))
        .order_by("local_date", "meal", "id")
        .values_list("local_date", "meal", "energy_kcal", "consumed_at")
    )


def test_rows_are_the_querysets_for_every_set_of_values():
    entries = CachedQuery(DiaryEntry, _entries)
    users = [UserFactory(), UserFactory()]
    for n, user in enumerate(users):
        for day in range(1, 6):
            QuickAddEntryFactory(user=user, local_date=dt.date(2026, 11, day), energy_kcal=100 * day + n, meal="dinner")
    for user in users:
        for start, end in [(dt.date(2026, 11, 2), dt.date(2026, 11, 4)), (dt.date(2026, 1, 1), dt.date(2026, 12, 31))]:
            rows = _assert_same(entries, None, {"user": user.pk, "start": start, "end": end})
            assert rows
            assert all(type(row) is tuple and len(row) == 4 for row in rows)
    assert entries.results(None, {"user": uuid.uuid4(), **NOVEMBER}) == []


def _per_slot(shape, values):
    return (
        DiaryEntry.objects.filter(user_id=_user(values), local_date__range=(_day(values, "start"), _day(values, "end")))
        .order_by()
        .values("meal")
        .annotate(entries=Count("id"), kcal=Sum("energy_kcal"))
        .order_by("meal")
    )


def _with_expressions(shape, values):
    return (
        Measurement.objects.filter(user_id=_user(values))
        .values("id", "value", "type__unit", "measured_at", doubled=F("value") * 2, day=F("measured_at__date"))
        .order_by("measured_at", "id")
    )


@pytest.mark.parametrize(
    ("model", "build", "dates"),
    [(DiaryEntry, _per_slot, NOVEMBER), (Measurement, _with_expressions, {})],
    ids=["grouped", "expressions"],
)
def test_values_dicts_are_the_querysets(builtin_types, model, build, dates):
    user = UserFactory()
    for day, meal in [(1, "lunch"), (1, "dinner"), (2, "lunch"), (3, "snack")]:
        QuickAddEntryFactory(user=user, local_date=dt.date(2026, 11, day), meal=meal, energy_kcal=100.5 * day)
    MeasurementFactory(user=user, value=Decimal("80.1234"), measured_at=dt.datetime(2026, 11, 2, 23, tzinfo=dt.UTC))
    MeasurementFactory(user=user, type=MeasurementTypeFactory(user=user, unit="mm"), value=Decimal(12))
    MeasurementFactory(value=Decimal(70))  # someone else's
    query = CachedQuery(model, build)
    rows = _assert_same(query, None, {"user": user.pk, **dates})
    assert len(rows) == (3 if model is DiaryEntry else 2)
    assert all(type(row) is dict for row in rows)
    assert _assert_same(query, None, {"user": uuid.uuid4(), **dates}) == []


def _by_slot(queryset):
    return queryset.values("meal").annotate(n=Count("id"), kcal=Sum("energy_kcal"))


def _doubled(queryset):
    return queryset.annotate(double=F("energy_kcal") * 2)


# values_list() and values() naming fields and annotations, each with its ordering: in the
# order Django < 5.2 selected them (fields, then annotations in annotate() order)...
VALUES_LISTS = {
    "fields": (lambda qs: qs.values_list("meal", "label", "energy_kcal"), ["meal", "energy_kcal"]),
    "fields-then-annotations": (lambda qs: _by_slot(qs).values_list("meal", "n"), ["meal"]),
    "annotations-only": (lambda qs: _doubled(qs).values_list("double"), ["double"]),
    "annotations-in-annotate-order": (lambda qs: _by_slot(qs).values_list("meal", "n", "kcal"), ["meal"]),
}
# ...and in other orders, which Django 5.2 keeps (`query.selected`).
VALUES_LISTS_OUT_OF_ORDER = {
    "annotations-after-values": (lambda qs: _by_slot(qs).values_list("meal", "kcal", "n"), ["meal"]),
    "annotation-named-first": (lambda qs: _doubled(qs).values_list("double", "meal", "label"), ["meal", "double"]),
    "annotation-between-fields": (lambda qs: _doubled(qs).values_list("meal", "double", "label"), ["meal", "double"]),
    "annotations-after-values-named-first": (lambda qs: _by_slot(qs).values_list("kcal", "meal", "n"), ["meal"]),
}
VALUES_OUT_OF_ORDER = {
    "annotation-named-first": (lambda qs: _doubled(qs).values("double", "meal"), ["meal", "double"]),
    "annotation-after-values-named-first": (lambda qs: _by_slot(qs).values("n", "meal"), ["meal"]),
}


def _user_entries(values):
    return DiaryEntry.objects.filter(user_id=_user(values)).order_by()


@pytest.fixture
def slots(user):
    for day, meal, kcal in [(1, "lunch", 100), (2, "lunch", 250), (1, "dinner", 7), (3, "snack", 30.5)]:
        QuickAddEntryFactory(user=user, local_date=dt.date(2026, 11, day), meal=meal, energy_kcal=kcal, label=meal)
    return user


def _named(cases: dict):
    def build(name, values):
        select, ordering = cases[name]
        return select(_user_entries(values)).order_by(*ordering)

    return build


@pytest.mark.parametrize("name", list(VALUES_LISTS))
def test_values_list_tuples_are_in_the_named_order(slots, name):
    rows = _assert_same(CachedQuery(DiaryEntry, _named(VALUES_LISTS)), name, {"user": slots.pk})
    assert len(rows) >= 3


@pytest.mark.parametrize("name", list(VALUES_LISTS_OUT_OF_ORDER))
def test_values_list_with_annotations_out_of_order_keeps_the_named_order(slots, name):
    """Django 5.2 selects the columns in the order values_list() names them
    (`query.selected`), but CachedQuery reorders each row as if the SQL had the fields first
    and then the annotations in annotate() order (Django < 5.2): an annotation named before a
    field, or annotations named in another order than annotate()'s, come out scrambled."""
    _assert_same(CachedQuery(DiaryEntry, _named(VALUES_LISTS_OUT_OF_ORDER)), name, {"user": slots.pk})


@pytest.mark.parametrize("name", list(VALUES_OUT_OF_ORDER))
def test_values_dicts_with_an_annotation_named_first_keep_each_value_under_its_name(slots, name):
    """The same for values(): each value under its own name, in the order Django 5.2 selects them."""
    _assert_same(CachedQuery(DiaryEntry, _named(VALUES_OUT_OF_ORDER)), name, {"user": slots.pk})


def _preferences(shape, values):
    return (
        FoodPreference.objects.filter(user_id=_user(values), favorite=Param("favorite", values["favorite"]))
        .select_related("food")
        .annotate(double_kcal=F("food__energy_kcal") * 2)
        .order_by("food__name")
    )


def _goals(shape, values):
    return (
        Goal.objects.filter(user_id=_user(values))
        .select_related("type")
        .annotate(span=F("target_value") - F("start_value"))
        .order_by("type__name")
    )


def _diary_with_relations(shape, values):
    """A nullable foreign key, one across two relations, and three levels of select_related."""
    return (
        DiaryEntry.objects.filter(user_id=_user(values), local_date__gte=_day(values, "start"))
        .select_related("food__user", "portion__food", "saved_meal")
        .annotate(portion_grams=F("portion__grams"))
        .order_by("local_date", "id")
    )


@pytest.fixture
def relations(builtin_types):
    user, other = UserFactory(), UserFactory()
    public, own = PublicFoodFactory(name="Apple, raw"), CustomFoodFactory(user=user, name="Aunt's pie")
    FoodPreferenceFactory(user=user, food=public, favorite=True)
    FoodPreferenceFactory(user=user, food=own, favorite=False, allergy=True)
    FoodPreferenceFactory(user=other, food=public, favorite=True)
    GoalFactory(user=user)
    GoalFactory(
        user=user, type=MeasurementTypeFactory(user=user, name="Arm", unit="cm"), status=Goal.Status.ACHIEVED,
        achieved_at=dt.datetime(2026, 11, 3, 8, 30, tzinfo=dt.UTC), start_value=Decimal(30), target_value=Decimal(33),
    )  # fmt: skip
    portion = FoodPortionFactory(food=public, description="1 medium", grams=182.0)
    meal = MealFactory(user=user)
    QuickAddEntryFactory(user=user, local_date=dt.date(2026, 11, 2))
    QuickAddEntryFactory(
        user=user, food=public, portion=portion, quantity=1.5, grams=273.0, saved_meal=meal,
        local_date=dt.date(2026, 11, 3),
    )  # fmt: skip
    QuickAddEntryFactory(user=user, food=own, grams=150.0, local_date=dt.date(2026, 11, 4))
    QuickAddEntryFactory(user=other, food=public, local_date=dt.date(2026, 11, 3))
    return user


@pytest.mark.parametrize(
    ("model", "build", "values", "count"),
    [
        (FoodPreference, _preferences, {"favorite": True}, 1),
        (FoodPreference, _preferences, {"favorite": False}, 1),
        (Goal, _goals, {}, 2),
        (DiaryEntry, _diary_with_relations, {"start": dt.date(2026, 11, 1)}, 3),
        (DiaryEntry, _diary_with_relations, {"start": dt.date(2026, 11, 3)}, 2),
    ],
    ids=["favorites", "not-favorites", "goals", "diary", "diary-later"],
)
def test_instances_with_select_related_rows_and_annotations_are_the_querysets(relations, model, build, values, count):
    query = CachedQuery(model, build)
    found = _assert_same(query, None, {"user": relations.pk, **values})
    assert len(found) == count
    assert _assert_same(query, None, {"user": uuid.uuid4(), **values}) == []
    for instance in found:
        for relation in ("food", "type", "portion", "saved_meal"):
            if hasattr(type(instance), relation):
                assert type(instance)._meta.get_field(relation).is_cached(instance)  # no query to read it


def _meals(shape, values):
    """apps.nutrition.selectors.meals(): totals annotated, items prefetched with their foods."""
    return selectors.meals().filter(user_id=_user(values))


def test_meals_come_with_their_prefetched_items_as_the_queryset_gives_them(django_assert_num_queries):
    user = UserFactory()
    rice, beans = PublicFoodFactory(name="Rice", energy_kcal=130.0), PublicFoodFactory(name="Beans", fiber_g=None)
    bowl = MealFactory(user=user, name="Bowl", planned_weekdays=0b101)
    MealItemFactory(meal=bowl, food=rice, grams=150.0, position=1)
    MealItemFactory(meal=bowl, food=beans, grams=80.5, position=0)
    MealFactory(user=user, name="Empty")
    MealItemFactory(meal=MealFactory(name="Someone else's"), food=rice)
    query = CachedQuery(Meal, _meals)
    _assert_same(query, None, {"user": user.pk})
    with django_assert_num_queries(2):  # the meals, then their items with the foods
        found = query.results(None, {"user": user.pk})
    with django_assert_num_queries(0):
        items = {meal.name: [(item.food.name, item.grams) for item in meal.items.all()] for meal in found}
    assert items == {"Bowl": [("Beans", 80.5), ("Rice", 150.0)], "Empty": []}
    assert [meal.total_energy_kcal for meal in found] == pytest.approx([195.0 + 80.5 * 2, 0.0])
    with django_assert_num_queries(1):  # no meals: nothing to prefetch
        assert query.results(None, {"user": uuid.uuid4()}) == []


def _foods_with_portions(shape, values):
    """Foods with selectors.with_portions() (portion_rows JSON on PostgreSQL) and the caller's
    preferences from selectors.annotate_preferences()."""
    caller = types.SimpleNamespace(pk=values["user"], is_authenticated=True)
    visible = Food.objects.filter(Q(user__isnull=True) | Q(user_id=_user(values)))
    return selectors.with_portions(selectors.annotate_preferences(visible, caller)).order_by("name")


def test_foods_with_their_portion_rows_and_preferences_are_the_querysets():
    assert connection.vendor == "postgresql"
    user = UserFactory()
    apple, pie = PublicFoodFactory(name="Apple"), CustomFoodFactory(user=user, name="Pie")
    FoodPortionFactory(food=apple, seq=2, description="1 large", grams=223.0)
    FoodPortionFactory(food=apple, seq=1, description="1 small", grams=149.5)
    FoodPreferenceFactory(user=user, food=pie, favorite=True, allergy=True)
    CustomFoodFactory(name="Someone else's")
    query = CachedQuery(Food, _foods_with_portions)
    found = _assert_same(query, None, {"user": user.pk})
    assert [(food.name, food.is_favorite, food.is_allergen) for food in found] == [
        ("Apple", False, False),
        ("Pie", True, True),
    ]
    assert [row["description"] for row in found[0].portion_rows] == ["1 small", "1 large"]
    assert found[1].portion_rows is None
    _assert_same(query, None, {"user": uuid.uuid4()})


# --- Params of every kind ---------------------------------------------------------------


def _measurements(shape, values):
    return (
        Measurement.objects.filter(
            user_id=_user(values),
            measured_at__gte=Param("since", values["since"]),
            value__gte=Param("at_least", values["at_least"]),
        )
        .annotate(over=F("value") - Param("at_least_again", values["at_least_again"]))
        .order_by("measured_at", "id")
    )


def test_datetime_and_decimal_params_are_bound_for_each_caller(builtin_types):
    user = UserFactory()
    start = dt.datetime(2026, 11, 1, 6, tzinfo=dt.UTC)
    for hours, value in [(0, "80.0"), (5, "79.5"), (30, "81.2500"), (49, "78.0001")]:
        MeasurementFactory(user=user, value=Decimal(value), measured_at=start + dt.timedelta(hours=hours))
    query = CachedQuery(Measurement, _measurements)
    tokyo = dt.timezone(dt.timedelta(hours=9))
    counts = []
    for since, at_least in [
        (start, Decimal("79.5")),
        (start + dt.timedelta(hours=1), Decimal(0)),
        (dt.datetime(2026, 11, 2, 21, tzinfo=tokyo), Decimal("78.0001")),  # 12:00 UTC
        (start, Decimal("81.25001")),
    ]:
        values = {"user": user.pk, "since": since, "at_least": at_least, "at_least_again": at_least}
        found = _assert_same(query, None, values)
        counts.append(len(found))
    assert counts == [3, 3, 2, 0]


def _bool_preferences(shape, values):
    return (
        FoodPreference.objects.filter(
            user_id=_user(values),
            favorite=Param("favorite", values["favorite"]),
            allergy=Param("allergy", values["allergy"]),
        )
        .order_by("food__name")
        .values_list("food__name", "favorite", "allergy")
    )


def test_bool_params_are_bound_for_each_caller():
    user = UserFactory()
    for name, favorite, allergy in [("A", True, False), ("B", False, True), ("C", False, False)]:
        FoodPreferenceFactory(user=user, food=PublicFoodFactory(name=name), favorite=favorite, allergy=allergy)
    query = CachedQuery(FoodPreference, _bool_preferences)
    found = {
        (favorite, allergy): query.results(None, {"user": user.pk, "favorite": favorite, "allergy": allergy})
        for favorite in (True, False)
        for allergy in (False, True)
    }
    for (favorite, allergy), rows in found.items():
        assert rows == list(_bool_preferences(None, {"user": user.pk, "favorite": favorite, "allergy": allergy}))
    assert found[(True, False)] == [("A", True, False)]
    assert found[(False, True)] == [("B", False, True)]
    assert found[(True, True)] == []


def _until(shape, values):
    return (
        DiaryEntry.objects.filter(
            user_id=_user(values),
            local_date__lte=_day(values, "end"),
            consumed_at__lte=Param("until", values["until"]),
        )
        .order_by("local_date")
        .values_list("local_date", "label")
    )


@pytest.mark.parametrize(
    ("end", "until"),
    [
        (dt.date.max, dt.datetime.max.replace(tzinfo=dt.UTC)),
        (dt.date.max, dt.datetime(9999, 12, 31, 23, 59, tzinfo=dt.timezone(dt.timedelta(hours=-3, minutes=-30)))),
        (dt.date.min, dt.datetime.min.replace(tzinfo=dt.UTC)),
    ],
    ids=["max", "max-west", "min"],
)
def test_a_date_at_the_end_of_the_calendar_compiles(user, end, until):
    """Compiling makes up a value of the same kind (the next day): at date.max the day before."""
    QuickAddEntryFactory(user=user, consumed_at=dt.datetime(9999, 12, 31, 12, tzinfo=dt.UTC), label="last")
    QuickAddEntryFactory(user=user, consumed_at=dt.datetime(1, 1, 1, 0, tzinfo=dt.UTC), label="first")
    query = CachedQuery(DiaryEntry, _until)
    rows = _assert_same(query, None, {"user": user.pk, "end": end, "until": until})
    assert [label for _, label in rows] == (["first"] if end == dt.date.min else ["first", "last"])
    november = {"user": user.pk, "end": NOVEMBER["end"], "until": until}
    assert [label for _, label in _assert_same(query, None, november)] == ["first"]


def test_a_time_of_day_param_compiles(user):
    """A time of day (`datetime.time`) is a Param value like a date: compiling makes up another one."""
    QuickAddEntryFactory(user=user, consumed_at=dt.datetime(2026, 11, 2, 7, 30, tzinfo=dt.UTC), label="breakfast")
    QuickAddEntryFactory(user=user, consumed_at=dt.datetime(2026, 11, 2, 19, 0, tzinfo=dt.UTC), label="dinner")

    def after(shape, values):
        return (
            DiaryEntry.objects.filter(user_id=_user(values), consumed_at__time__gte=Param("time", values["time"]))
            .order_by("consumed_at")
            .values_list("label", flat=False)
        )

    rows = _assert_same(CachedQuery(DiaryEntry, after), None, {"user": user.pk, "time": dt.time(12, 0)})
    assert rows == [("dinner",)]


# --- What compiling refuses -------------------------------------------------------------


def _refused(build, values: dict, match: str, model=DiaryEntry, shape=None) -> None:
    with pytest.raises(ValueError, match=match):
        CachedQuery(model, build).results(shape, values)


def test_a_value_that_changes_the_sql_text_is_refused():
    def limited(shape, values):  # a LIMIT is SQL text
        return _entries(shape, values)[: values["limit"]]

    def decides(shape, values):  # a value that picks the SQL belongs in the shape
        queryset = _entries(shape, values)
        return queryset.filter(meal="lunch") if values["lunch"] else queryset

    _refused(limited, {"user": uuid.uuid4(), **NOVEMBER, "limit": 5}, "other than through Params")
    _refused(decides, {"user": uuid.uuid4(), **NOVEMBER, "lunch": True}, "other than through Params")


def test_a_limit_computed_from_two_values_is_refused(user):
    """Compiling moves each value by a different amount, so a LIMIT computed from two of them
    (a range's length in days) changes too and is refused, rather than cached to cut the
    next caller's range."""
    for day in range(1, 11):
        QuickAddEntryFactory(user=user, local_date=dt.date(2026, 11, day))

    def one_a_day(shape, values):
        return _entries(shape, values)[: (values["end"] - values["start"]).days + 1]

    query = CachedQuery(DiaryEntry, one_a_day)
    try:
        query.results(None, {"user": user.pk, "start": dt.date(2026, 11, 1), "end": dt.date(2026, 11, 2)})
    except ValueError:
        return
    longer = {"user": user.pk, **NOVEMBER}
    assert len(query.results(None, longer)) == len(list(one_a_day(None, longer))) == 10, "compiled, and kept the LIMIT"


def test_a_value_that_reaches_the_sql_outside_a_param_is_refused():
    def leaky(shape, values):  # would serve the first caller's word to the next
        return _foods(shape, values).filter(name__icontains=values["word"])

    def leaky_user(shape, values):
        return _entries(shape, values).filter(user_id=values["user"])

    _refused(leaky, {"user": uuid.uuid4(), "word": "bean"}, "other than through Params", Food, (True,))
    _refused(leaky_user, {"user": uuid.uuid4(), **NOVEMBER}, "other than through Params")


@pytest.mark.parametrize(("first", "second"), [("", "Oats"), (1e16, 100.0)], ids=["empty-string", "large-float"])
def test_a_value_outside_a_param_is_refused_whatever_the_first_callers_value(user, first, second):
    """A folded value is refused whatever the first caller's value: an empty string or a float
    too large to move by one still gets a made-up value unlike it."""
    QuickAddEntryFactory(user=user, label="Oats", energy_kcal=350.0)

    def folded(shape, values):
        return (
            DiaryEntry.objects.filter(user_id=_user(values))
            .annotate(through_param=Param("x", values["x"]), folded=Value(values["x"]))
            .values_list("label", "through_param", "folded")
        )

    query = CachedQuery(DiaryEntry, folded)
    try:
        query.results(None, {"user": user.pk, "x": first})
    except ValueError:
        return
    assert query.results(None, {"user": user.pk, "x": second}) == [("Oats", second, second)], "served the first value"


def test_a_value_that_does_not_reach_the_sql_is_refused():
    def ignores_end(shape, values):
        return DiaryEntry.objects.filter(user_id=_user(values), local_date__gte=_day(values, "start")).values_list("id")

    _refused(ignores_end, {"user": uuid.uuid4(), **NOVEMBER}, "never reach the SQL")
    _refused(_foods, {"user": uuid.uuid4(), "word": "bean", "extra": "x"}, "never reach the SQL", Food, (True,))


def test_a_value_only_in_a_prefetch_is_refused(user):
    def prefetched(shape, values):
        heavy = MealItem.objects.filter(grams__gte=values["grams"])
        return Meal.objects.filter(user_id=_user(values)).prefetch_related(Prefetch("items", queryset=heavy))

    _refused(prefetched, {"user": user.pk, "grams": 100.0}, "never reach the SQL|reach a prefetch", Meal)


def test_a_value_in_a_prefetch_is_refused_even_when_it_also_reaches_the_sql(user):
    """The value reaches the main SQL as a Param, but a prefetch runs as it was compiled (with
    the made-up values): compiling refuses it rather than prefetch with another caller's value."""

    def heavy_items(shape, values):
        heavy = Q(items__grams__gte=Param("grams", values["grams"]))
        return (
            Meal.objects.filter(user_id=_user(values))
            .annotate(heavy=Count("items", filter=heavy))
            .prefetch_related(Prefetch("items", queryset=MealItem.objects.filter(grams__gte=values["grams"])))
        )

    _refused(heavy_items, {"user": user.pk, "grams": 100.0}, "reach a prefetch", Meal)


class _CastUUIDField(UUIDField):
    def get_placeholder(self, value, compiler, connection):
        return "%s::uuid"


def test_a_param_whose_sql_is_not_a_placeholder_is_refused():
    def null_user(shape, values):
        return _foods(shape, values | {"user": None})  # NULL is SQL text, not a parameter

    def cast_user(shape, values):
        user = Param("user", values["user"], output_field=_CastUUIDField())
        return DiaryEntry.objects.filter(user_id=user).values_list("id")

    _refused(null_user, {"user": uuid.uuid4(), "word": "bean"}, "changes the SQL itself", Food, (True,))
    _refused(cast_user, {"user": uuid.uuid4()}, "changes the SQL itself")


def test_instances_with_deferred_fields_are_refused(user):
    def deferred(shape, values):
        return DiaryEntry.objects.filter(user_id=_user(values)).only("id", "label")

    _refused(deferred, {"user": user.pk}, "model instances, values")


@pytest.mark.parametrize("kind", ["flat", "named"])
def test_flat_and_named_values_lists_are_the_querysets_or_refused(user, kind):
    """values_list(flat=True) and values_list(named=True) are refused: a CachedQuery gives
    instances, values() dicts or values_list() tuples, nothing it would serve differently."""
    QuickAddEntryFactory(user=user, label="Oats", meal="breakfast")

    def build(shape, values):
        return DiaryEntry.objects.filter(user_id=_user(values)).values_list("label", "meal", **{shape: True})

    def flat_build(shape, values):
        return DiaryEntry.objects.filter(user_id=_user(values)).values_list("label", flat=True)

    query = CachedQuery(DiaryEntry, flat_build if kind == "flat" else build)
    try:
        found = query.results(kind, {"user": user.pk})
    except ValueError:
        return
    assert [type(row).__name__ for row in found] == (["str"] if kind == "flat" else ["Row"])
    assert found == list(query.build(kind, {"user": user.pk}))


# --- Shapes, the cache and what it keeps ----------------------------------------------


def _foods(shape, values):
    """Foods named like a word, the caller's own with `mine` (the shape), with a computed column."""
    (mine,) = shape
    visible = Q(user__isnull=True)
    if mine:
        visible |= Q(user_id=_user(values))
    return (
        Food.objects.filter(visible, name__icontains=Param("word", values["word"]))
        .annotate(double=F("energy_kcal") * 2)
        .order_by("name")
    )


def test_instances_are_the_querysets_for_every_value_and_shape():
    me, them = UserFactory(), UserFactory()
    PublicFoodFactory(name="Bean 50%_off, raw", energy_kcal=100)
    PublicFoodFactory(name="Beans, raw", energy_kcal=120)
    CustomFoodFactory(user=me, name="My bean soup", energy_kcal=80)
    CustomFoodFactory(user=them, name="Their bean stew")
    query = CachedQuery(Food, _foods)
    cases = [
        ((True,), {"user": me.pk, "word": "bean"}),
        ((True,), {"user": them.pk, "word": "BEAN"}),
        ((False,), {"word": "bean"}),
        ((False,), {"word": "50%_"}),  # LIKE's wildcards in the value match only themselves
        ((False,), {"word": "50%x"}),
        ((True,), {"user": me.pk, "word": "rice"}),
    ]
    for shape, values in cases:
        found = _assert_same(query, shape, values)
        assert all(isinstance(food.created_at, dt.datetime) and food.created_at.tzinfo for food in found)
    names = [food.name for food in query.results((True,), {"user": me.pk, "word": "bean"})]
    assert names == ["Bean 50%_off, raw", "Beans, raw", "My bean soup"]
    assert [food.name for food in query.results((False,), {"word": "50%_"})] == ["Bean 50%_off, raw"]
    assert query.results((False,), {"word": "50%x"}) == []


def test_a_shape_is_built_and_compiled_once_per_thread_and_database(django_assert_num_queries):
    builds = []

    def counted(shape, values):
        builds.append(shape)
        return _foods(shape, values)

    query = CachedQuery(Food, counted, max_shapes=2)
    user = UserFactory()
    for word in ("bean", "rice", "oats"):
        with django_assert_num_queries(1):
            query.results((True,), {"user": user.pk, "word": word})
    assert builds == [(True,), (True,)]  # built twice (the second time with other values), once

    other_alias = next(alias for alias in connections if alias != "default")
    _, params = query.bind((True,), {"user": user.pk, "word": "kale"}).sql_and_params(other_alias)
    assert builds.count((True,)) == 4  # the other database has a statement of its own
    assert "kale" in params
    assert user.pk in params

    def elsewhere():
        try:
            query.results((True,), {"user": user.pk, "word": "bean"})
        finally:
            connections.close_all()

    thread = threading.Thread(target=elsewhere)
    thread.start()
    thread.join()
    assert builds.count((True,)) == 6  # another thread compiles its own

    query.results((False,), {"word": "bean"})
    query.results((None,), {"word": "bean"})  # a third shape: the oldest one goes
    assert builds.count((True,)) == 6
    query.results((True,), {"user": user.pk, "word": "bean"})
    assert builds.count((True,)) == 8


def test_a_cache_of_no_shapes_runs_every_query():
    """max_shapes=0 keeps nothing: every run compiles, and every run answers."""
    query = CachedQuery(Food, _foods, max_shapes=0)
    assert query.results((False,), {"word": "bean"}) == []


def _reachable(root) -> list:
    """Every object the cached statement holds on to, short of classes, modules, model
    metadata and fields, database connections and functions' globals."""
    stop = (type, types.ModuleType, Options, Field, BaseDatabaseWrapper, types.CodeType)
    seen, found, pending = set(), [], [root]
    while pending:
        item = pending.pop()
        if id(item) in seen or isinstance(item, stop):
            continue
        seen.add(id(item))
        found.append(item)
        if isinstance(item, types.FunctionType):
            pending.extend(cell.cell_contents for cell in item.__closure__ or ())
            pending.extend(item.__defaults__ or ())
        elif isinstance(item, SQLCompiler):
            pending.extend([item.query, item.select, item.klass_info, item.annotation_col_map])
        else:
            pending.extend(gc.get_referents(item))
    return found


def _holds(compiled, secrets: list) -> list:
    """The secrets (strings, UUIDs) anything the cached statement holds has, or its SQL shows."""
    texts = {secret: [secret] if isinstance(secret, str) else [str(secret), secret.hex] for secret in secrets}
    held = []
    for item in _reachable(compiled):
        if isinstance(item, SQLCompiler | Query):
            item = str(item if isinstance(item, Query) else item.query)  # the SQL with its values
        if isinstance(item, str):
            held.extend(secret for secret, shown in texts.items() if any(text in item for text in shown))
        elif isinstance(item, uuid.UUID):
            held.extend(secret for secret in secrets if item == secret)
    return held


@pytest.mark.parametrize(
    "build",
    [_foods, lambda shape, values: _foods(shape, values).values("name", "double")],
    ids=["instances", "values"],
)
def test_the_cache_keeps_nothing_of_its_first_callers_values(build):
    user = UserFactory()
    CustomFoodFactory(user=user, name="My private-words soup")
    query = CachedQuery(Food, build)
    assert len(query.results((True,), {"user": user.pk, "word": "private-words"})) == 1
    (compiled,) = query._local.compiled.values()
    assert "%s" in compiled.sql
    assert _holds(compiled, ["private-words", user.pk]) == []
    assert _holds(compiled, ["x" * len("private-words")])  # the made-up word is what it holds


def test_a_cached_prefetch_keeps_nothing_of_its_callers_rows():
    """Django's prefetch writes the first instance into its queryset's hints: each run
    prefetches with a copy, so the cached statement holds nothing of its callers' rows."""
    user = UserFactory()
    meal = MealFactory(user=user)
    MealItemFactory(meal=meal)
    query = CachedQuery(Meal, _meals)
    assert len(query.results(None, {"user": user.pk})) == 1
    (compiled,) = query._local.compiled.values()
    assert _holds(compiled, [user.pk, meal.pk]) == []


# --- One round trip ---------------------------------------------------------------------


def _counts(shape, values):
    return _per_slot(shape, values).values_list("meal", "entries")


def test_statements_fetched_together_take_one_round_trip_and_keep_their_results_apart(django_assert_num_queries):
    entries, counts = CachedQuery(DiaryEntry, _entries), CachedQuery(DiaryEntry, _counts)
    names = CachedQuery(Food, _foods)
    mine, theirs = UserFactory(), UserFactory()
    for day in range(1, 4):
        QuickAddEntryFactory(user=mine, local_date=dt.date(2026, 11, day), meal="lunch")
    QuickAddEntryFactory(user=theirs, local_date=dt.date(2026, 11, 2), meal="snack")
    PublicFoodFactory(name="Bean, raw", energy_kcal=100)
    PublicFoodFactory(name="Rice, raw", energy_kcal=130)
    statements = [
        entries.bind(None, {"user": mine.pk, **NOVEMBER}),
        counts.bind(None, {"user": uuid.uuid4(), **NOVEMBER}),  # an empty result between two others
        counts.bind(None, {"user": theirs.pk, **NOVEMBER}),
        names.bind((False,), {"word": "bean"}),
        entries.bind(None, {"user": theirs.pk, **NOVEMBER}),
        names.bind((True,), {"user": mine.pk, "word": "RICE"}),
    ]
    expected = [list(statement.query.build(statement.shape, statement.values)) for statement in statements]
    with django_assert_num_queries(1):
        found = fetch_together(*statements)
    assert _typed(found) == _typed(expected)
    assert [len(rows) for rows in found] == [3, 0, 1, 1, 1, 1]
    assert found[2] == [("snack", 1)]


def test_instances_with_a_prefetch_come_together_with_rows(django_assert_num_queries):
    """Rows become instances once the cursor is done: the prefetch is a query of its own."""
    user = UserFactory()
    meal = MealFactory(user=user, name="Bowl")
    MealItemFactory(meal=meal, grams=120.0)
    QuickAddEntryFactory(user=user, local_date=dt.date(2026, 11, 2), saved_meal=meal)
    meals, entries = CachedQuery(Meal, _meals), CachedQuery(DiaryEntry, _entries)
    statements = [meals.bind(None, {"user": user.pk}), entries.bind(None, {"user": user.pk, **NOVEMBER})]
    expected = [list(statement.query.build(statement.shape, statement.values)) for statement in statements]
    with django_assert_num_queries(2):
        found = fetch_together(*statements)
    assert _typed(found) == _typed(expected)
    assert [item.grams for item in found[0][0].items.all()] == [120.0]


def test_with_server_side_binding_statements_run_one_by_one(monkeypatch, django_assert_num_queries):
    """psycopg sends several statements in one query only with client-side parameters."""
    entries = CachedQuery(DiaryEntry, _entries)
    user = UserFactory()
    QuickAddEntryFactory(user=user, local_date=dt.date(2026, 11, 2))
    monkeypatch.setitem(connection.settings_dict["OPTIONS"], "server_side_binding", True)
    statement = entries.bind(None, {"user": user.pk, **NOVEMBER})
    with django_assert_num_queries(2):
        first, second = fetch_together(statement, statement)
    assert first == second == list(_entries(None, {"user": user.pk, **NOVEMBER}))
    assert first


def test_one_statement_alone_is_one_query(django_assert_num_queries):
    user = UserFactory()
    QuickAddEntryFactory(user=user, local_date=dt.date(2026, 11, 2))
    statement = CachedQuery(DiaryEntry, _entries).bind(None, {"user": user.pk, **NOVEMBER})
    with django_assert_num_queries(1):
        (rows,) = fetch_together(statement)
    assert len(rows) == 1


def test_no_statements_fetch_no_results():
    """`fetch_together()` with no statements fetches nothing and returns no results."""
    assert fetch_together() == []


# --- Properties -------------------------------------------------------------------------

DAYS = [dt.date(1900, 1, 1), dt.date(1900, 1, 2), dt.date(1999, 12, 31), dt.date(2026, 11, 20)]
DAYS += [dt.date(2026, 11, 21), dt.date(9999, 12, 30), dt.date(9999, 12, 31)]


@pytest.fixture
def calendar():
    """Three users' entries from 1900 to 9999, two on some days."""
    users = [UserFactory(), UserFactory(), UserFactory()]
    food = PublicFoodFactory()
    for n, day in enumerate(DAYS):
        for user in users[: 1 + n % 3]:
            consumed = dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC)
            QuickAddEntryFactory(user=user, local_date=day, consumed_at=consumed, energy_kcal=n, meal="dinner")
            if n % 2:
                QuickAddEntryFactory(user=user, local_date=day, consumed_at=consumed, food=food, meal="lunch")
    return [user.pk for user in users]


def _entry_instances(shape, values):
    return (
        DiaryEntry.objects.filter(user_id=_user(values), local_date__range=(_day(values, "start"), _day(values, "end")))
        .select_related("food")
        .annotate(days_in=F("local_date") - _day(values, "start"))
        .order_by("local_date", "meal", "id")
    )


def _per_day(shape, values):
    return (
        _user_entries(values)
        .filter(local_date__range=(_day(values, "start"), _day(values, "end")))
        .values("local_date")
        .annotate(n=Count("id"), kcal=Sum("energy_kcal"))
        .order_by("local_date")
    )


CACHED = [
    CachedQuery(DiaryEntry, _entries),
    CachedQuery(DiaryEntry, _entry_instances),
    CachedQuery(DiaryEntry, _per_day),
]
dates = st.one_of(st.sampled_from(DAYS), st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(9999, 12, 31)))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    pick=st.one_of(st.integers(min_value=0, max_value=2), st.uuids()),
    ends=st.lists(dates, min_size=2, max_size=2).map(sorted),
)
def test_results_are_the_querysets_for_any_user_and_date_range(calendar, pick, ends):
    user = calendar[pick] if isinstance(pick, int) else pick
    start, end = ends
    values = {"user": user, "start": start, "end": end}
    statements = [query.bind(None, values) for query in CACHED]
    expected = [list(statement.query.build(None, statement.values)) for statement in statements]
    assert _typed(fetch_together(*statements)) == _typed(expected)
    assert _typed([statement.query.results(None, statement.values) for statement in statements]) == _typed(expected)
