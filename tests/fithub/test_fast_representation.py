"""FastRepresentation gives DRF's own representation, value for value: the same keys in the
same order, the same types, the same JSON, from instances and from `.values()` rows."""

import datetime as dt
import gc
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from unittest import mock

import orjson
import pytest
from django.contrib.auth.models import AnonymousUser
from django.db.models import Model, Prefetch
from django.urls import get_resolver
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st
from rest_framework import serializers

from apps.goals.api.serializers import GoalSerializer
from apps.goals.models import Goal
from apps.measurements.api.serializers import MeasurementSerializer, MeasurementTypeSerializer
from apps.measurements.models import Measurement, MeasurementType
from apps.nutrition import selectors, services
from apps.nutrition.api.serializers import (
    DiaryEntrySerializer,
    DiarySummarySerializer,
    FoodPortionSerializer,
    FoodPreferenceSerializer,
    FoodSerializer,
    MacroTotalsSerializer,
    MealSerializer,
    NutritionTargetSerializer,
    TargetInForceSerializer,
)
from apps.nutrition.models import DiaryEntry, Food, FoodPortion, FoodPreference, NutritionTarget, WaterEntry
from apps.nutrition.selectors import targets_for_range, targets_on_days
from fithub.api.serializers import FastRepresentation, _datetime_converter, _Zone
from fithub.db.statements import fetch_together
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
ZONES = ["UTC", "Asia/Tokyo", "America/St_Johns", "Asia/Kathmandu"]
SUMMARY_START, SUMMARY_END = dt.date(2026, 10, 30), dt.date(2026, 11, 23)


def _fast_serializers() -> list[type]:
    """Every FastRepresentation serializer of the project (not those this file defines)."""
    get_resolver().url_patterns  # noqa: B018 - importing the URL conf imports every API module
    found, pending = [], list(FastRepresentation.__subclasses__())
    while pending:
        cls = pending.pop()
        found.append(cls)
        pending.extend(cls.__subclasses__())
    return [cls for cls in found if cls.__module__.startswith(("apps.", "fithub."))]


def _drf_to_representation(self, instance):
    return serializers.Serializer.to_representation(self, instance)


def _drf(serializer_class: type, obj) -> dict:
    """What DRF's own Serializer.to_representation gives, nested serializers included."""
    with mock.patch.object(FastRepresentation, "to_representation", _drf_to_representation):
        return serializers.Serializer.to_representation(serializer_class(obj), obj)


def _typed(value):
    """`value` with the type of everything in it, keys in their order."""
    if isinstance(value, dict):
        return (type(value), [(key, _typed(item)) for key, item in value.items()])
    if isinstance(value, list | tuple):
        return (type(value), [_typed(item) for item in value])
    return (type(value), value)


def _assert_drfs(got, expected) -> None:
    assert got == expected
    assert _typed(got) == _typed(expected)  # key order and types too, at every level
    assert orjson.dumps(got, default=float) == orjson.dumps(expected, default=float)


# --- Sample objects: what the API serves each serializer ---------------------------------


@pytest.fixture
def world(builtin_types):
    """One user's foods, diary, meals, measurements, goals and targets, and a stranger's food."""
    user = UserFactory(timezone="Asia/Tokyo")
    apple = PublicFoodFactory(name="Apple, raw", barcode="0123456789012", sodium_mg=None, fiber_g=0.1 + 0.2)
    small = FoodPortionFactory(food=apple, seq=1, description="1 small", grams=149.5)
    FoodPortionFactory(food=apple, seq=2, description="1 large", grams=223.0)
    pie = CustomFoodFactory(user=user, name="Aunt's pie", brand="Home", energy_kcal=None)
    PublicFoodFactory(name="Apple juice")  # no portions
    FoodPreferenceFactory(user=user, food=apple, favorite=True)
    FoodPreferenceFactory(user=user, food=pie, dislike=True, allergy=True)
    bowl = MealFactory(user=user, name="Bowl", slot="breakfast", planned_weekdays=0b1010101)
    MealItemFactory(meal=bowl, food=apple, grams=150.0, position=1)
    MealItemFactory(meal=bowl, food=pie, grams=80.5, position=0)
    MealFactory(user=user, name="Empty")
    QuickAddEntryFactory(
        user=user, food=apple, portion=small, quantity=2, grams=299.0, saved_meal=bowl, label="", meal="dinner",
        consumed_at=dt.datetime(2026, 11, 21, 19, 30, 15, 123456, tzinfo=dt.UTC), local_date=dt.date(2026, 11, 22),
        sodium_mg=0.1 + 0.2, energy_kcal=1e-7,
    )  # fmt: skip
    QuickAddEntryFactory(user=user, consumed_at=dt.datetime(2026, 11, 22, 2, 30, tzinfo=dt.UTC))  # 23:00 in St John's
    QuickAddEntryFactory(user=user, consumed_at=dt.datetime(2026, 11, 21, 12, tzinfo=dt.UTC), meal="snack")
    QuickAddEntryFactory(
        user=user, food=pie, grams=80.0, label="Aunt's pie", meal="breakfast",
        consumed_at=dt.datetime(2026, 11, 20, 7, tzinfo=dt.UTC),
    )  # fmt: skip
    MeasurementFactory(
        user=user, value=Decimal("72.5748"), entered_value=Decimal("160"), entered_unit="lb", note="after a run",
        measured_at=dt.datetime(2026, 11, 21, 6, 15, 30, 250000, tzinfo=dt.UTC),
    )  # fmt: skip
    arm = MeasurementTypeFactory(user=user, name="Arm (left)", unit="mm")
    MeasurementFactory(user=user, type=arm, value=Decimal("312.1"), measured_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    GoalFactory(user=user, start_date=dt.date(2026, 11, 1), target_date=dt.date(2027, 2, 1))
    GoalFactory(
        user=user, type=arm, start_value=Decimal(300), target_value=Decimal("312.05"), status=Goal.Status.ACHIEVED,
        achieved_at=dt.datetime(2026, 11, 3, 8, 30, tzinfo=dt.UTC), start_date=dt.date(2026, 10, 1),
        target_date=dt.date(2026, 12, 1),
    )  # fmt: skip
    NutritionTarget.objects.create(
        user=user, energy_kcal=Decimal("2150.2"), protein_g=Decimal("120.05"), fat_g=70, carbohydrate_g=250.4,
        effective_from=dt.date(2026, 11, 1), water_ml=Decimal("2000.5"),
    )  # fmt: skip
    services.log_water(user=user, consumed_at=dt.datetime(2026, 11, 21, 23, 45, 10, tzinfo=dt.UTC), ml=Decimal("330"))
    services.log_water(
        user=user, consumed_at=dt.datetime(2026, 11, 22, 4, tzinfo=dt.UTC), value=Decimal("8.5"), unit="fl_oz"
    )
    NutritionTarget.objects.create(user=user, energy_kcal=1800, effective_from=dt.date(2026, 11, 21))
    CustomFoodFactory(name="Someone else's apple")
    return user


def _entries(user) -> list:
    loaded = list(DiaryEntry.objects.filter(user=user))
    related = list(DiaryEntry.objects.filter(user=user).select_related("food", "portion", "saved_meal"))
    morning = dt.datetime(2026, 11, 23, 8, 0, 0, 1, tzinfo=zoneinfo.ZoneInfo("Asia/Tokyo"))
    pie = Food.objects.get(name="Aunt's pie")
    # As the response to a write shows it: a new instance, with warnings.
    written = services.log_food(user=user, meal="lunch", consumed_at=morning, food=pie, grams=120.0)
    entry = written.entries[0]
    entry.warnings = written.warnings
    assert entry.warnings
    return [*loaded, *related, entry]


def _foods(user) -> list:
    visible = selectors.foods_visible_to(user).order_by("name")
    return [
        *selectors.with_portions(selectors.annotate_preferences(visible, user)),  # portion_rows JSON, preferences
        *selectors.with_portions(selectors.annotate_preferences(visible, AnonymousUser())),
        *Food.objects.filter(pk__in=visible.values("pk")).prefetch_related("portions"),  # portions prefetched
        *visible,  # portions read one food at a time
        *selectors.search_page(user=user, query="apple", offset=0, size=5),
    ]


def _portions(user) -> list:
    food = selectors.with_portions(selectors.foods_visible_to(user)).get(name="Apple, raw")
    assert food.portion_rows
    return [*FoodPortion.objects.filter(food__name="Apple, raw"), *food.portion_rows]


def _measurements(user) -> list:
    return [
        *Measurement.objects.filter(user=user).select_related("type"),
        *Measurement.objects.filter(user=user),
        MeasurementFactory(
            user=user,
            type=MeasurementType.objects.get(key="waist"),
            value=Decimal("80.01"),
            measured_at=dt.datetime(2026, 11, 22, 21, 15, tzinfo=zoneinfo.ZoneInfo("Asia/Kathmandu")),
        ),
    ]


def _types(user) -> list:
    return list(MeasurementType.objects.filter(user__isnull=True)) + list(MeasurementType.objects.filter(user=user))


def _targets(user) -> list:
    (rows,) = fetch_together(targets_for_range(user=user, start=SUMMARY_START, end=SUMMARY_END))
    in_force = targets_on_days(rows, start=SUMMARY_START, end=SUMMARY_END).values()
    distinct = {target.pk: target for target in in_force if target is not None}  # as the summary holds them
    assert len(distinct) == 2
    return [*NutritionTarget.objects.filter(user=user), *distinct.values()]


def _days(user) -> list[dict]:
    """The summary's days, each with the target in force (none before the first target)."""
    sums, rows, water_rows = fetch_together(
        selectors.daily_sums(user=user, start=SUMMARY_START, end=SUMMARY_END),
        targets_for_range(user=user, start=SUMMARY_START, end=SUMMARY_END),
        selectors.daily_water(user=user, start=SUMMARY_START, end=SUMMARY_END),
    )
    days = selectors.summarize_days(sums, start=SUMMARY_START, end=SUMMARY_END)
    targets = targets_on_days(rows, start=SUMMARY_START, end=SUMMARY_END)
    water = selectors.water_by_day(water_rows)
    for day in days:
        day["water_ml"] = water.get(day["date"], 0.0)
        day["target"] = targets.get(day["date"])
    assert any(day["water_ml"] for day in days)
    assert {day["target"] is None for day in days} == {True, False}
    assert any(day["entry_count"] for day in days)
    return days


def _water(user) -> list:
    return list(WaterEntry.objects.filter(user=user))


def _logged_foods(kind: str):
    def samples(user) -> list:
        if kind == "recent":
            foods = selectors.recent_foods(user=user, offset=0, size=20)
        else:
            foods = selectors.frequent_foods(user=user, offset=0, size=20, now=dt.datetime(2026, 11, 23, tzinfo=dt.UTC))
        assert {food.last_portion for food in foods} > {None}  # one logged by a portion, one in grams
        return foods

    return samples


def _meals(user) -> list:
    return list(selectors.meals(user=user))


def _planned(user) -> list:
    days = {dt.date(2026, 11, 16) + dt.timedelta(days=n) for n in range(7)}
    return [meal for day in sorted(days) for meal in selectors.planned_meals(user=user, day=day)]


@dataclass(frozen=True)
class Case:
    samples: Callable[[object], list]  # the objects the API serves it, from the world's user
    shows_as: type | None = None  # a write serializer answers with this read serializer


CASES: dict[str, Case] = {
    "DiaryEntrySerializer": Case(_entries),
    "DiaryEntryWriteSerializer": Case(_entries, shows_as=DiaryEntrySerializer),
    "FoodSerializer": Case(_foods),
    "FoodWriteSerializer": Case(_foods, shows_as=FoodSerializer),
    "FoodPortionSerializer": Case(_portions),
    "FoodPreferenceSerializer": Case(
        lambda user: [
            *FoodPreference.objects.filter(user=user).select_related("food"),
            *FoodPreference.objects.filter(user=user),
        ]
    ),
    "RecentFoodSerializer": Case(_logged_foods("recent")),
    "FrequentFoodSerializer": Case(_logged_foods("frequent")),
    "WaterEntrySerializer": Case(_water),
    "MealSerializer": Case(_meals),
    "MealWriteSerializer": Case(_meals, shows_as=MealSerializer),
    "PlannedMealSerializer": Case(_planned),
    "MeasurementSerializer": Case(_measurements),
    "MeasurementTypeSerializer": Case(_types),
    "GoalSerializer": Case(lambda user: [*Goal.objects.filter(user=user).select_related("type")]),
    "NutritionTargetSerializer": Case(_targets),
    "TargetInForceSerializer": Case(_targets),
    "DiarySummarySerializer": Case(lambda user: [{"start": SUMMARY_START, "end": SUMMARY_END, "days": _days(user)}]),
    "DailySummarySerializer": Case(_days),
    "NutrientTotalsSerializer": Case(lambda user: [day["totals"] for day in _days(user)]),
    "MealSplitSerializer": Case(lambda user: [day["by_meal"] for day in _days(user)]),
    "MacroTotalsSerializer": Case(
        lambda user: [day["by_meal"][slot] for day in _days(user) for slot in ("lunch", "snack")]
    ),
}
# Bases with no fields of their own to show.
BASES = {"OwnedModelSerializer"}


def test_every_fast_serializer_has_a_case():
    found = {cls.__name__ for cls in _fast_serializers()}
    assert len(found) == len(_fast_serializers())  # the names say which class
    assert found - BASES - set(CASES) == set(), "a FastRepresentation serializer without a case in CASES"
    assert found >= {"DiaryEntrySerializer", "FoodSerializer", "MeasurementSerializer", "DiarySummarySerializer"}


def test_a_new_fast_serializer_without_a_case_is_found():
    new = type("NewSerializer", (FastRepresentation, serializers.Serializer), {"__module__": "apps.new.api"})
    try:
        assert "NewSerializer" in {cls.__name__ for cls in _fast_serializers()}
        assert "NewSerializer" not in CASES
    finally:
        del new
        gc.collect()
    assert "NewSerializer" not in {cls.__name__ for cls in _fast_serializers()}


def _serializer_class(name: str) -> type:
    (found,) = [cls for cls in _fast_serializers() if cls.__name__ == name]
    return found


@pytest.mark.parametrize("name", list(CASES))
def test_each_serializer_shows_what_drf_shows(world, name):
    serializer_class, case = _serializer_class(name), CASES[name]
    reference = case.shows_as or serializer_class
    samples = case.samples(world)
    assert samples
    for zone in ZONES:
        with timezone.override(zone):
            for sample in samples:
                expected = _drf(reference, sample)
                got = serializer_class(sample).to_representation(sample)
                _assert_drfs(dict(got) if case.shows_as else got, expected)  # a write one answers with .data
                assert serializer_class(sample).data == expected


# The serializers a `.values()` row serves: their columns() name its columns.
ROWS_SERVE = {
    "DiaryEntrySerializer",
    "FoodPortionSerializer",
    "FoodPreferenceSerializer",
    "MeasurementSerializer",
    "WaterEntrySerializer",
    "NutritionTargetSerializer",
    "TargetInForceSerializer",
    "NutrientTotalsSerializer",  # dicts of their fields
    "MacroTotalsSerializer",
}


@pytest.mark.parametrize("name", [name for name, case in CASES.items() if case.shows_as is None])
def test_a_values_row_shows_what_its_instance_shows(world, name):
    """Where `columns()` names columns, a `.values()` row of them shows as DRF shows the row's instance."""
    serializer_class = _serializer_class(name)
    columns = serializer_class.columns() if issubclass(serializer_class, FastRepresentation) else None
    assert (columns is not None) == (name in ROWS_SERVE)
    if columns is None:
        return
    samples = CASES[name].samples(world)
    if not isinstance(samples[0], Model):  # its samples are rows already
        assert all(list(sample) == columns for sample in samples)
        return
    samples = [sample for sample in samples if isinstance(sample, Model)]
    model = type(samples[0])
    rows = {row["id"]: row for row in model.objects.filter(pk__in=[s.pk for s in samples]).values(*columns)}
    assert len(rows) >= 2
    for zone in ZONES:
        with timezone.override(zone):
            for pk, row in rows.items():
                assert list(row) == columns
                expected = _drf(serializer_class, model.objects.get(pk=pk))
                _assert_drfs(serializer_class(row).to_representation(row), expected)


def test_columns_are_what_a_row_needs():
    assert DiaryEntrySerializer.columns() == [
        "id", "food", "portion", "quantity", "grams", "label", "meal", "consumed_at", "local_date", "saved_meal",
        "energy_kcal", "protein_g", "fat_g", "carbohydrate_g", "fiber_g", "sugars_g", "saturated_fat_g", "sodium_mg",
        "version", "created_at", "updated_at",
    ]  # fmt: skip
    assert MeasurementSerializer.columns() == [
        "id", "type", "type__key", "value", "type__unit", "entered_value", "entered_unit", "measured_at", "note",
        "version", "created_at", "updated_at",
    ]  # fmt: skip
    assert FoodPreferenceSerializer.columns() == [
        "id", "food", "food__name", "favorite", "dislike", "allergy", "version", "created_at", "updated_at",
    ]  # fmt: skip
    assert FoodPortionSerializer.columns() == ["id", "description", "grams", "archived_at"]
    # A method (without methods_take_rows), a property, a nested list: instances only.
    assert GoalSerializer.columns() is None
    assert MeasurementTypeSerializer.columns() is None
    assert FoodSerializer.columns() is None
    assert NutritionTargetSerializer.columns() == [
        *TargetInForceSerializer.columns(),
        "version",
        "created_at",
        "updated_at",
    ]


def test_diary_entries_in_every_zone(world):
    """The full entry (food, portion, saved meal) and a quick add, by zone, as the list shows them."""
    (full,) = DiaryEntry.objects.filter(user=world, saved_meal__isnull=False)
    quick = DiaryEntry.objects.filter(user=world, food__isnull=True).order_by("consumed_at").last()
    rows = {row["id"]: row for row in DiaryEntry.objects.values(*DiaryEntrySerializer.columns())}
    shown = {}
    for zone in ZONES:
        with timezone.override(zone):
            for entry in (full, quick):
                expected = _drf(DiaryEntrySerializer, entry)
                _assert_drfs(DiaryEntrySerializer(entry).to_representation(entry), expected)
                _assert_drfs(DiaryEntrySerializer(rows[entry.pk]).to_representation(rows[entry.pk]), expected)
                shown[zone, entry.label] = expected["consumed_at"]
    assert shown == {
        ("UTC", ""): "2026-11-21T19:30:15.123456Z",
        ("UTC", "Quick add"): "2026-11-22T02:30:00Z",
        ("Asia/Tokyo", ""): "2026-11-22T04:30:15.123456+09:00",
        ("Asia/Tokyo", "Quick add"): "2026-11-22T11:30:00+09:00",
        ("America/St_Johns", ""): "2026-11-21T16:00:15.123456-03:30",
        ("America/St_Johns", "Quick add"): "2026-11-21T23:00:00-03:30",
        ("Asia/Kathmandu", ""): "2026-11-22T01:15:15.123456+05:45",
        ("Asia/Kathmandu", "Quick add"): "2026-11-22T08:15:00+05:45",
    }
    assert DiaryEntrySerializer(full).data["portion"] == full.portion_id  # a raw id, as DRF gives it
    assert DiaryEntrySerializer(quick).data["food"] is None


def test_foods_with_portion_rows_and_preferences(world):
    foods = {
        food.name: food
        for food in selectors.with_portions(
            selectors.annotate_preferences(selectors.foods_visible_to(world), world)
        ).order_by("name")
    }
    assert set(foods) == {"Apple, raw", "Apple juice", "Aunt's pie"}
    apple, pie = FoodSerializer(foods["Apple, raw"]).data, FoodSerializer(foods["Aunt's pie"]).data
    assert [portion["description"] for portion in apple["portions"]] == ["1 small", "1 large"]
    assert (apple["is_public"], apple["is_favorite"], apple["is_allergen"]) == (True, True, False)
    assert (pie["is_public"], pie["is_favorite"], pie["is_allergen"], pie["portions"]) == (False, False, True, [])
    assert pie["energy_kcal"] is None


def test_the_diary_summary_shows_each_days_target(world):
    summary = {"start": SUMMARY_START, "end": SUMMARY_END, "days": _days(world)}
    shown = DiarySummarySerializer(summary).data
    _assert_drfs(dict(shown), _drf(DiarySummarySerializer, summary))
    days = {day["date"]: day for day in shown["days"]}
    assert len(days) == (SUMMARY_END - SUMMARY_START).days + 1
    assert days["2026-10-31"]["target"] is None
    assert days["2026-11-20"]["target"]["energy_kcal"] == Decimal("2150.2")
    assert days["2026-11-20"]["target"]["protein_g"] == Decimal("120.1")  # 120.05, stored to one place
    assert days["2026-11-22"]["target"]["protein_g"] is None  # the bare target from 2026-11-21
    assert days["2026-11-22"]["entry_count"] == 2
    assert list(days["2026-11-22"]["by_meal"]) == ["breakfast", "lunch", "dinner", "snack"]


# --- Serializers the plan knows less well ------------------------------------------------


class _Odd(FastRepresentation, serializers.ModelSerializer):
    """Fields the plan hands to DRF, or reads in ways of their own."""

    owner_email = serializers.CharField(source="food.user.email", read_only=True)  # across two relations
    year = serializers.IntegerField(source="created_at.year", read_only=True)  # a dotted non-relation
    everything = serializers.SerializerMethodField()
    macros = MacroTotalsSerializer(source="*")  # the whole entry
    day = serializers.DateField(source="local_date", format="%d/%m/%Y")
    at = serializers.DateTimeField(source="consumed_at", format="%Y-%m-%d %H:%M %Z")
    at_kathmandu = serializers.DateTimeField(source="consumed_at", default_timezone=zoneinfo.ZoneInfo("Asia/Kathmandu"))
    hex_id = serializers.UUIDField(source="id", format="hex")
    food_hex = serializers.PrimaryKeyRelatedField(
        source="food", read_only=True, pk_field=serializers.UUIDField(format="hex")
    )
    kcal = serializers.DecimalField(source="energy_kcal", max_digits=8, decimal_places=1)
    meal_label = serializers.ChoiceField(source="meal", choices=[("lunch", "Lunch"), ("dinner", "Dinner")])

    class Meta:
        model = DiaryEntry
        fields = [
            "id", "owner_email", "year", "everything", "macros", "day", "at", "at_kathmandu", "hex_id", "food_hex",
            "kcal", "meal_label",
        ]  # fmt: skip

    def get_everything(self, entry) -> str:
        return f"{entry.label}/{entry.meal}"


class _Portioned(FastRepresentation, serializers.Serializer):
    """A nested serializer with a representation of its own, and one with a method field."""

    class _Own(serializers.ModelSerializer):
        class Meta:
            model = FoodPortion
            fields = ["id", "grams"]

        def to_representation(self, instance):
            return {**super().to_representation(instance), "grams": round(instance.grams)}

    class _WithMethod(FastRepresentation, serializers.ModelSerializer):
        label = serializers.SerializerMethodField()

        class Meta:
            model = FoodPortion
            fields = ["label", "description"]

        def get_label(self, portion) -> str:
            return f"{portion.description} ({portion.grams:g} g)"

    name = serializers.CharField()
    own = _Own(source="portions", many=True)
    first = _WithMethod(source="portions.first")
    with_method = _WithMethod(source="portions", many=True)


def test_fields_the_plan_hands_to_drf_are_shown_as_drf_shows_them(world):
    entries = list(DiaryEntry.objects.filter(user=world, food__user__isnull=False).select_related("food__user"))
    assert entries
    assert _Odd.columns() is None
    for zone in ZONES:
        with timezone.override(zone):
            for entry in entries:
                _assert_drfs(_Odd(entry).to_representation(entry), _drf(_Odd, entry))
    food = Food.objects.prefetch_related(Prefetch("portions", queryset=FoodPortion.objects.order_by("seq"))).get(
        name="Apple, raw"
    )
    _assert_drfs(_Portioned(food).to_representation(food), _drf(_Portioned, food))
    assert _Portioned(food).data["own"][0]["grams"] == 150


def test_a_dotted_source_through_an_empty_foreign_key_is_left_out_as_drf_leaves_it_out(world):
    """DRF leaves out a read-only field whose source crosses an empty foreign key (`food.name`
    of a quick add: AttributeError on None, then SkipField); so does the plan. A `.values()`
    row could not tell an empty foreign key from an empty name: such a field needs instances."""

    class Named(FastRepresentation, serializers.ModelSerializer):
        food_name = serializers.CharField(source="food.name", read_only=True)

        class Meta:
            model = DiaryEntry
            fields = ["id", "food_name"]

    quick = DiaryEntry.objects.filter(user=world, food__isnull=True).first()
    expected = _drf(Named, quick)
    assert list(expected) == ["id"]
    assert _outcome(Named, quick) == expected
    assert Named.columns() is None


def _outcome(serializer_class: type, obj):
    try:
        return serializer_class(obj).to_representation(obj)
    except Exception as error:  # shown in the comparison
        return repr(error)


@pytest.mark.parametrize(
    ("serializer_class", "write"),
    [
        (FoodSerializer, lambda user: services.create_food(user=user, name="Soup", energy_kcal=40.0)),
        (GoalSerializer, lambda user: _new_goal(user)),
    ],
    ids=["food-source", "goal-status"],
)
def test_a_choice_held_as_an_enum_member_is_shown_as_the_plain_string_drf_shows(world, serializer_class, write):
    """(Types only, the JSON is the same.) a new row keeps its TextChoices member
    (`Food.Source.USER` from create_food, `Goal.Status.ACTIVE` from the model default); DRF's
    ChoiceField shows its plain `str` key, the plan shows the member as it is."""
    instance = write(world)
    _assert_drfs(serializer_class(instance).to_representation(instance), _drf(serializer_class, instance))


def _new_goal(user):
    from apps.goals.services import create_goal

    waist = MeasurementType.objects.get(key="waist")
    later = user.local_today() + dt.timedelta(days=60)
    return create_goal(user=user, type=waist, start_value=Decimal(90), target_value=Decimal(85), target_date=later)


# --- The datetime converter ---------------------------------------------------------------


def _shown(field: serializers.DateTimeField, value, convert: Callable | None = None):
    try:
        return convert(value, _Zone.current()) if convert else field.to_representation(value)
    except serializers.ValidationError as error:
        return ("ValidationError", [str(detail) for detail in error.detail])


ODD_TIMES = [
    dt.datetime(2026, 11, 21, 19, 30, tzinfo=dt.UTC),
    dt.datetime(2026, 11, 21, 19, 30, tzinfo=zoneinfo.ZoneInfo("UTC")),
    dt.datetime(2026, 3, 29, 1, 30, 0, 5, tzinfo=dt.timezone(dt.timedelta(hours=5, minutes=45))),
    dt.datetime(2026, 6, 1, 12, tzinfo=dt.timezone(dt.timedelta(hours=-9, minutes=-30, seconds=-15))),  # seconds
    dt.datetime(2026, 6, 1, 12, tzinfo=dt.timezone(dt.timedelta(microseconds=1))),
    dt.datetime(2026, 11, 1, 1, 30, fold=1, tzinfo=zoneinfo.ZoneInfo("America/St_Johns")),  # the repeated hour
    dt.datetime(1, 1, 1, 0, 0, tzinfo=dt.UTC),  # out of range once moved west
    dt.datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=dt.UTC),  # out of range once moved east
    dt.datetime(2026, 11, 21, 19, 30),  # noqa: DTZ001 - naive, on purpose
    dt.datetime(2026, 3, 8, 2, 30),  # noqa: DTZ001 - naive, and not a time in New York
]


@pytest.mark.parametrize("zone", [*ZONES, "Asia/Kathmandu", "Etc/UTC", "America/New_York", "Pacific/Kiritimati"])
@pytest.mark.parametrize("value", ODD_TIMES, ids=[value.isoformat() for value in ODD_TIMES])
def test_the_datetime_converter_agrees_with_the_field(zone, value):
    field = serializers.DateTimeField()
    with timezone.override(zone):
        assert _shown(field, value, _datetime_converter(field)) == _shown(field, value)


class _NoOffset(dt.tzinfo):
    """A zone that knows no offset: Python counts its times as naive."""

    def utcoffset(self, moment):
        return None

    def dst(self, moment):
        return None

    def tzname(self, moment):
        return None


def test_a_time_whose_zone_gives_no_offset_is_taken_as_naive_as_drf_takes_it():
    """(Exotic.) DRF asks `timezone.is_aware()` (an offset): a time whose tzinfo gives no
    offset is naive to it, and so to the converter."""
    field = serializers.DateTimeField()
    value = dt.datetime(2026, 11, 21, 12, tzinfo=_NoOffset())
    with timezone.override("America/St_Johns"):
        assert _shown(field, value, _datetime_converter(field)) == _shown(field, value) == "2026-11-21T12:00:00-03:30"


def test_the_datetime_converter_in_the_utc_singleton_zone():
    field = serializers.DateTimeField()
    with timezone.override(dt.UTC):
        assert _Zone.current().utc
        for value in ODD_TIMES:
            assert _shown(field, value, _datetime_converter(field)) == _shown(field, value)


@pytest.mark.parametrize(
    "field",
    [
        serializers.DateTimeField(format="%Y-%m-%d %H:%M"),
        serializers.DateTimeField(format=None),
        serializers.DateTimeField(default_timezone=zoneinfo.ZoneInfo("Asia/Tokyo")),
    ],
    ids=["format", "no-format", "own-zone"],
)
def test_a_datetime_field_of_its_own_is_shown_by_the_field(field):
    with timezone.override("America/St_Johns"):
        for value in ODD_TIMES:
            assert _shown(field, value, _datetime_converter(field)) == _shown(field, value)


def test_without_time_zone_support_the_converter_is_the_field(settings):
    settings.USE_TZ = False
    field = serializers.DateTimeField()
    for value in ODD_TIMES:
        assert _shown(field, value, _datetime_converter(field)) == _shown(field, value)


offsets = st.timedeltas(min_value=dt.timedelta(hours=-23, minutes=-59), max_value=dt.timedelta(hours=23, minutes=59))
zones = st.one_of(st.timezones(), st.just(dt.UTC), offsets.map(dt.timezone))


@settings(max_examples=500, deadline=None)
@given(value=st.datetimes(timezones=zones, allow_imaginary=True), zone=zones)
def test_the_datetime_converter_agrees_with_the_field_for_any_time_and_zone(value, zone):
    field = serializers.DateTimeField()
    with timezone.override(zone):
        assert _shown(field, value, _datetime_converter(field)) == _shown(field, value)
