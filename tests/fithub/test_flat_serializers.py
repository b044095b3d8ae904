"""FlatReadSerializer gives DRF's representation, value for value, from instances and rows."""

import datetime as dt
from decimal import Decimal

import orjson
import pytest
from django.urls import get_resolver
from django.utils import timezone
from rest_framework import serializers

from apps.nutrition.models import DiaryEntry
from fithub.api.serializers import FlatReadSerializer, _datetime_converter, _Zone
from tests.nutrition.factories import FoodPortionFactory, MealFactory, PublicFoodFactory, QuickAddEntryFactory
from tests.users.factories import UserFactory

pytestmark = pytest.mark.django_db


def _all_flat_serializers() -> list[type[FlatReadSerializer]]:
    get_resolver().url_patterns  # noqa: B018 - importing the URL conf imports every API module
    found, pending = [], list(FlatReadSerializer.__subclasses__())
    while pending:
        cls = pending.pop()
        found.append(cls)
        pending.extend(cls.__subclasses__())
    return found


def _drf(serializer_class, instance) -> dict:
    """What DRF's own field-by-field ModelSerializer.to_representation gives."""
    serializer = serializer_class(instance)
    return serializers.ModelSerializer.to_representation(serializer, instance)


@pytest.fixture
def entries():
    user = UserFactory()
    food = PublicFoodFactory()
    portion = FoodPortionFactory(food=food)
    meal = MealFactory(user=user)
    consumed = dt.datetime(2026, 11, 21, 19, 30, 15, 123456, tzinfo=dt.UTC)
    full = QuickAddEntryFactory(
        user=user, food=food, portion=portion, quantity=2, grams=480.0, saved_meal=meal, label="",
        consumed_at=consumed, local_date=dt.date(2026, 11, 21), sodium_mg=0.1 + 0.2,
    )  # fmt: skip
    quick = QuickAddEntryFactory(user=user)
    return [full, quick]


def test_every_flat_serializer_is_found():
    assert {cls.__name__ for cls in _all_flat_serializers()} >= {"DiaryEntrySerializer"}


@pytest.mark.parametrize("zone", ["UTC", "Asia/Tokyo", "America/St_Johns"])
def test_diary_entries_are_represented_as_drf_does(entries, zone):
    (serializer_class,) = [cls for cls in _all_flat_serializers() if cls.Meta.model is DiaryEntry]
    rows = {row["id"]: row for row in DiaryEntry.objects.values(*serializer_class.columns())}
    with timezone.override(zone):
        for entry in entries:
            expected = _drf(serializer_class, entry)
            from_instance = serializer_class(entry).data
            from_row = serializer_class(rows[entry.pk]).data
            assert from_instance == expected
            assert from_row == expected
            assert list(from_row) == list(expected)  # the same key order
            assert orjson.dumps(from_row) == orjson.dumps(expected)
    assert isinstance(expected["id"], str)


def test_targets_in_force_are_represented_as_drf_does(user):
    from apps.nutrition.api.serializers import TargetInForceSerializer
    from apps.nutrition.models import NutritionTarget

    full = NutritionTarget.objects.create(
        user=user, energy_kcal=2150.25, protein_g=120.05, fat_g=70, carbohydrate_g=250.4,
        effective_from=dt.date(2026, 11, 1),
    )  # fmt: skip
    bare = NutritionTarget.objects.create(user=user, energy_kcal=1800, effective_from=dt.date(2026, 11, 5))
    for target in (full, bare):
        target.refresh_from_db()
        expected = _drf(TargetInForceSerializer, target)
        got = TargetInForceSerializer(target).data
        assert got == expected
        assert list(got) == list(expected)
        assert [type(value) for value in got.values()] == [type(value) for value in expected.values()]
    assert TargetInForceSerializer(bare).data["protein_g"] is None


@pytest.mark.parametrize("zone", ["UTC", "Asia/Kathmandu"])
def test_measurements_are_listed_as_the_measurement_serializer_shows_them(builtin_types, zone):
    from apps.measurements.api.serializers import MeasurementListSerializer, MeasurementSerializer
    from apps.measurements.models import Measurement
    from tests.measurements.factories import MeasurementFactory, MeasurementTypeFactory

    user = UserFactory()
    pounds = MeasurementFactory(
        user=user, value=Decimal("72.5748"), entered_value=Decimal("160"), entered_unit="lb", note="after a run",
        measured_at=dt.datetime(2026, 11, 21, 6, 15, 30, 250000, tzinfo=dt.UTC),
    )  # fmt: skip
    own = MeasurementFactory(user=user, type=MeasurementTypeFactory(user=user, unit="mm"), value=Decimal("12.3"))
    rows = {row["id"]: row for row in Measurement.objects.values(*MeasurementListSerializer.columns())}
    with timezone.override(zone):
        for measurement in Measurement.objects.filter(pk__in=[pounds.pk, own.pk]).select_related("type"):
            expected = MeasurementSerializer(measurement).data
            from_row = MeasurementListSerializer(rows[measurement.pk]).data
            from_instance = MeasurementListSerializer(measurement).data
            assert from_row == from_instance == expected
            assert list(from_row) == list(expected)
            assert [type(value) for value in from_row.values()] == [type(value) for value in expected.values()]
            assert orjson.dumps(from_row, default=float) == orjson.dumps(expected, default=float)
    assert rows[own.pk]["type__unit"] == "mm"


def test_a_field_across_more_than_one_relation_is_refused():
    class Dotted(FlatReadSerializer):
        owner_email = serializers.CharField(source="food.user.email")

        class Meta:
            model = DiaryEntry
            fields = ["id", "owner_email"]

    with pytest.raises(TypeError, match="model fields only"):
        Dotted.plan()


def test_a_dotted_field_must_follow_a_foreign_key():
    class NotARelation(FlatReadSerializer):
        year = serializers.IntegerField(source="created_at.year")

        class Meta:
            model = DiaryEntry
            fields = ["id", "year"]

    with pytest.raises(TypeError, match="not a foreign key"):
        NotARelation.plan()


@pytest.mark.parametrize("zone", ["UTC", "America/St_Johns"])
@pytest.mark.parametrize(
    "value",
    [
        dt.datetime(2026, 11, 21, 19, 30, tzinfo=dt.UTC),
        dt.datetime(2026, 3, 29, 1, 30, 0, 5, tzinfo=dt.timezone(dt.timedelta(hours=5, minutes=45))),
        dt.datetime(1, 1, 1, 0, 0, tzinfo=dt.UTC),  # out of range once moved west
        dt.datetime(2026, 11, 21, 19, 30),  # noqa: DTZ001 - naive, on purpose
    ],
)
def test_the_datetime_converter_agrees_with_the_field(zone, value):
    field = serializers.DateTimeField()
    with timezone.override(zone):
        try:
            expected = field.to_representation(value)
        except serializers.ValidationError:
            expected = serializers.ValidationError
        try:
            got = _datetime_converter(field)(value, _Zone(timezone.get_current_timezone()))
        except serializers.ValidationError:
            got = serializers.ValidationError
    assert got == expected
