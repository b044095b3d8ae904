import math
from collections.abc import Mapping
from decimal import Decimal

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail

from apps.nutrition.models import (
    NUTRIENT_FIELDS,
    WATER_DIGITS,
    WATER_PLACES,
    WATER_UNITS,
    WEEKDAYS,
    DiaryEntry,
    Food,
    FoodPortion,
    FoodPreference,
    Meal,
    MealItem,
    MealSlot,
    NutritionTarget,
    WaterEntry,
)
from apps.nutrition.selectors import MAX_ADHERENCE_DAYS, MAX_SUMMARY_DAYS
from fithub import bounds
from fithub.api.fields import DayField, OwnedPrimaryKeyRelatedField, RecordedTimeField, RoundedDecimalField
from fithub.api.serializers import FastRepresentation, OwnedModelSerializer, StrictJSONTypes

MAX_NUTRIENT = 100_000.0
MAX_GRAMS = 100_000.0
MAX_SERVINGS = 1000.0


class FiniteFloatField(serializers.FloatField):
    """A float that refuses NaN and infinities (JSON strings such as "NaN" would get through float())."""

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if not math.isfinite(value):
            self.fail("invalid")
        return value


class WholeItemsListSerializer(serializers.ListSerializer):
    """A list of nested objects that a write replaces whole. Its item errors answer with the
    item's index (`items.1.food`, `items.1` for the item itself: fithub.api.handlers)."""

    def run_child_validation(self, data):
        """An item is whole even in a PATCH (the list sent replaces the old one): DRF skips
        the fields a partial update leaves out, so a field the item lacks is `required` here."""
        missing = {}
        if getattr(self.root, "partial", False) and isinstance(data, Mapping):
            missing = {
                name: [ErrorDetail(str(field.error_messages["required"]), code="required")]
                for name, field in self.child.fields.items()
                if field.required and not field.read_only and field.field_name not in data
            }
        try:
            value = super().run_child_validation(data)
        except serializers.ValidationError as exc:
            if not missing or not isinstance(exc.detail, dict):
                raise
            detail = {**exc.detail, **missing}
            ordered = {name: detail.pop(name) for name in self.child.fields if name in detail}
            raise serializers.ValidationError({**ordered, **detail}) from exc
        if missing:
            raise serializers.ValidationError(missing)
        return value


def _nutrient_field(**kwargs) -> FiniteFloatField:
    return FiniteFloatField(min_value=0, max_value=MAX_NUTRIENT, **kwargs)


class DayRangeQuerySerializer(serializers.Serializer):
    """Local days from `start` to `end`, inclusive: at most `max_days` of them."""

    max_days: int
    start = DayField(help_text="First local day (YYYY-MM-DD).")
    end = DayField(help_text="Last local day, inclusive; at most 366 days after start.")

    def validate(self, attrs):
        span = (attrs["end"] - attrs["start"]).days + 1
        if span < 1:
            raise serializers.ValidationError({"end": "end must not be before start."}, code="invalid")
        if span > self.max_days:
            message = f"The range is {span} days; at most {self.max_days} are allowed."
            raise serializers.ValidationError({"end": message}, code="range_too_long")
        return attrs


# --- Foods ------------------------------------------------------------------------------


class FoodPortionSerializer(FastRepresentation, serializers.ModelSerializer):
    """A household measure and its weight in grams. An archived one (`archived_at`) was removed
    from its food while diary entries used it: they keep it, nothing new can."""

    grams = serializers.FloatField()
    archived_at = serializers.DateTimeField(allow_null=True)

    class Meta:
        model = FoodPortion
        fields = ["id", "description", "grams", "archived_at"]
        read_only_fields = fields


class FoodPortionWriteSerializer(StrictJSONTypes):
    """A portion of a custom food: with the `id` of one of its portions, that portion edited
    in place (diary entries keep it); without, a new one."""

    id = serializers.IntegerField(
        required=False, min_value=1, help_text="One of this food's portions, to keep and edit; none for a new one."
    )
    description = serializers.CharField(max_length=120)
    grams = FiniteFloatField(min_value=0.01, max_value=MAX_GRAMS)

    class Meta:
        list_serializer_class = WholeItemsListSerializer


class FoodSerializer(FastRepresentation, serializers.ModelSerializer):
    """A food: nutrients per 100 g (null = unknown), portions, and the caller's preference flags.
    An archived food (`archived_at`) was deleted while diary entries or saved meals used it:
    they keep it and it is readable by id, but search leaves it out and nothing new can use it.
    Its `portions` list the archived ones last (search lists only the others)."""

    is_public = serializers.BooleanField(read_only=True, help_text="Public (USDA) foods are read-only.")
    portions = FoodPortionSerializer(source="portion_list", many=True, read_only=True)
    is_favorite = serializers.SerializerMethodField(help_text="The caller marked this food a favorite.")
    is_disliked = serializers.SerializerMethodField(
        help_text="The caller dislikes this food: search ranks it below every food not disliked."
    )
    is_allergen = serializers.SerializerMethodField(help_text="The caller marked this food an allergy.")

    class Meta:
        model = Food
        fields = [
            "id",
            "name",
            "brand",
            "barcode",
            "food_group",
            "source",
            "source_id",
            "is_public",
            *NUTRIENT_FIELDS,
            "portions",
            "archived_at",
            "is_favorite",
            "is_disliked",
            "is_allergen",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_is_favorite(self, food) -> bool:
        return bool(getattr(food, "is_favorite", False))

    def get_is_disliked(self, food) -> bool:
        return bool(getattr(food, "is_disliked", False))

    def get_is_allergen(self, food) -> bool:
        return bool(getattr(food, "is_allergen", False))


class RecentFoodSerializer(FoodSerializer):
    """A food you logged, with your latest entry of it: when (`last_logged_at`) and how much
    (`grams`; `portion` and `quantity` too when it was a portion the food still offers), so
    that logging it again takes one tap."""

    last_logged_at = serializers.DateTimeField(read_only=True, help_text="When your latest entry of it was eaten.")
    grams = serializers.FloatField(source="last_grams", read_only=True, help_text="The latest entry's amount in grams.")
    portion = serializers.IntegerField(
        source="last_portion",
        read_only=True,
        allow_null=True,
        help_text="The latest entry's portion (one of `portions`); null when it was logged in grams.",
    )
    quantity = serializers.FloatField(
        source="last_quantity",
        read_only=True,
        allow_null=True,
        help_text="How many of `portion` the latest entry was; null when it was logged in grams.",
    )

    class Meta(FoodSerializer.Meta):
        fields = [*FoodSerializer.Meta.fields, "last_logged_at", "grams", "portion", "quantity"]
        read_only_fields = fields


class FrequentFoodSerializer(RecentFoodSerializer):
    """A food you logged in the last 90 days, with how many times (`count`) and your latest
    entry of it."""

    count = serializers.IntegerField(
        source="logged_count", read_only=True, help_text="Your diary entries of it in the last 90 days."
    )

    class Meta(RecentFoodSerializer.Meta):
        fields = [*RecentFoodSerializer.Meta.fields, "count"]
        read_only_fields = fields


class FoodSearchQuerySerializer(serializers.Serializer):
    search = serializers.CharField(
        required=False, allow_blank=True, max_length=200, help_text="Words to look for, e.g. `chicken breast`."
    )
    barcode = serializers.CharField(required=False, allow_blank=True, max_length=64, help_text="Exact barcode.")


class FoodWriteSerializer(OwnedModelSerializer):
    """A custom food of the caller's. `portions`, when sent, is the food's new list in order:
    an item with the `id` of one of its portions edits that portion in place, one without is
    added, and a portion left out is removed (archived if diary entries use it)."""

    portions = FoodPortionWriteSerializer(many=True, required=False)
    energy_kcal = _nutrient_field(required=False, allow_null=True)
    protein_g = _nutrient_field(required=False, allow_null=True)
    fat_g = _nutrient_field(required=False, allow_null=True)
    carbohydrate_g = _nutrient_field(required=False, allow_null=True)
    fiber_g = _nutrient_field(required=False, allow_null=True)
    sugars_g = _nutrient_field(required=False, allow_null=True)
    saturated_fat_g = _nutrient_field(required=False, allow_null=True)
    sodium_mg = _nutrient_field(required=False, allow_null=True)

    class Meta:
        model = Food
        fields = ["id", "name", "brand", "barcode", "food_group", *NUTRIENT_FIELDS, "portions"]

    def validate_barcode(self, value: str) -> str:
        value = value.strip()
        if value and not value.isdigit():
            raise serializers.ValidationError("A barcode is digits only.")
        return value

    def to_representation(self, instance):
        return FoodSerializer(instance, context=self.context).data


# --- Preferences ------------------------------------------------------------------------


class FoodPreferenceSerializer(OwnedModelSerializer):
    """The caller's feelings about one food. Posting for a food that already has one updates it."""

    food = OwnedPrimaryKeyRelatedField(queryset=Food.objects.all(), include_public=True)
    food_name = serializers.CharField(source="food.name", read_only=True)

    class Meta:
        model = FoodPreference
        fields = ["id", "food", "food_name", "favorite", "dislike", "allergy", "version", "created_at", "updated_at"]
        read_only_fields = ["version", "created_at", "updated_at"]
        # One per (user, food): the service upserts, so the unique validator would only get in the way.
        validators: list = []

    def validate(self, attrs):
        favorite = attrs.get("favorite", getattr(self.instance, "favorite", False))
        dislike = attrs.get("dislike", getattr(self.instance, "dislike", False))
        if favorite and dislike:
            raise serializers.ValidationError({"favorite": "A food cannot be both a favorite and disliked."})
        return attrs


# --- Saved meals ------------------------------------------------------------------------


class MacroTotalsSerializer(FastRepresentation, serializers.Serializer):
    energy_kcal = serializers.FloatField()
    protein_g = serializers.FloatField()
    fat_g = serializers.FloatField()
    carbohydrate_g = serializers.FloatField()


class NutrientTotalsSerializer(MacroTotalsSerializer):
    """Nutrients summed over the items (or entries): kcal, grams and milligrams."""

    fiber_g = serializers.FloatField()
    sugars_g = serializers.FloatField()
    saturated_fat_g = serializers.FloatField()
    sodium_mg = serializers.FloatField()


class MealItemSerializer(serializers.ModelSerializer):
    food_name = serializers.CharField(source="food.name", read_only=True)

    class Meta:
        model = MealItem
        fields = ["id", "food", "food_name", "grams"]
        read_only_fields = fields


class MealItemWriteSerializer(StrictJSONTypes):
    food = OwnedPrimaryKeyRelatedField(queryset=Food.objects.all(), include_public=True)
    grams = FiniteFloatField(min_value=0.01, max_value=MAX_GRAMS)

    class Meta:
        list_serializer_class = WholeItemsListSerializer


class MealSerializer(FastRepresentation, serializers.ModelSerializer):
    """A saved meal with its items and totals (computed by the database)."""

    items = MealItemSerializer(many=True, read_only=True)
    weekdays = serializers.ListField(
        source="weekday_names",
        child=serializers.ChoiceField(choices=list(WEEKDAYS)),
        read_only=True,
        help_text="The weekdays this meal is planned on.",
    )
    total_grams = serializers.FloatField(read_only=True, help_text="The raw items' grams, summed.")
    totals = serializers.SerializerMethodField(help_text="The whole recipe's nutrients.")
    per_serving = serializers.SerializerMethodField(help_text="The totals divided by `servings`.")

    class Meta:
        model = Meal
        fields = [
            "id",
            "name",
            "slot",
            "weekdays",
            "servings",
            "cooked_weight_g",
            "items",
            "total_grams",
            "totals",
            "per_serving",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(NutrientTotalsSerializer)
    def get_totals(self, meal) -> dict:
        return {name: round(getattr(meal, f"total_{name}", 0.0) or 0.0, 2) for name in NUTRIENT_FIELDS}

    @extend_schema_field(NutrientTotalsSerializer)
    def get_per_serving(self, meal) -> dict:
        return {
            name: round((getattr(meal, f"total_{name}", 0.0) or 0.0) / meal.servings, 2) for name in NUTRIENT_FIELDS
        }


class MealWriteSerializer(OwnedModelSerializer):
    """A saved meal. Sending `items` replaces them all; `weekdays` plans it on those days."""

    items = MealItemWriteSerializer(many=True, required=False, max_length=100)
    weekdays = serializers.ListField(
        child=serializers.ChoiceField(choices=list(WEEKDAYS)), required=False, max_length=7
    )

    servings = FiniteFloatField(
        min_value=0.01, max_value=MAX_SERVINGS, required=False, help_text="How many servings it makes. Default: 1."
    )
    cooked_weight_g = FiniteFloatField(
        min_value=0.01,
        max_value=MAX_GRAMS,
        required=False,
        allow_null=True,
        help_text="What the cooked dish weighs (g), to log it by the gram. Default: null.",
    )

    class Meta:
        model = Meal
        fields = ["id", "name", "slot", "weekdays", "servings", "cooked_weight_g", "items"]

    def to_representation(self, instance):
        return MealSerializer(instance, context=self.context).data

    def sent_for_comparison(self) -> dict:
        sent = super().sent_for_comparison()
        if sent.get("weekdays") is not None:  # a set of days, shown Monday first
            sent["weekdays"] = [day for day in WEEKDAYS if day in sent["weekdays"]]
        return sent


class MealLogSerializer(StrictJSONTypes):
    """When and in which diary meal to log a saved meal, and how much of it: `servings`, or
    `grams` of the cooked dish, or `scale` (a factor on every item; kept for older clients),
    at most one of them. Default: the whole recipe."""

    AMOUNTS = ("servings", "grams", "scale")

    consumed_at = RecordedTimeField(required=False, help_text="Default: now.")
    meal = serializers.ChoiceField(choices=MealSlot.choices, required=False, help_text="Default: the meal's slot.")
    servings = FiniteFloatField(
        min_value=0.01, max_value=MAX_SERVINGS, required=False, help_text="Servings eaten, e.g. 1.5."
    )
    grams = FiniteFloatField(
        min_value=0.01,
        max_value=MAX_GRAMS,
        required=False,
        help_text="Grams of the cooked dish eaten: needs the meal's `cooked_weight_g`.",
    )
    scale = FiniteFloatField(
        min_value=0.01, max_value=100, required=False, help_text="A factor on every item. Default: 1."
    )

    def validate(self, attrs):
        sent = [name for name in self.AMOUNTS if name in attrs]
        if len(sent) > 1:
            message = "Give one of servings, grams or scale, not " + " and ".join(sent) + "."
            raise serializers.ValidationError({sent[1]: ErrorDetail(message, code="invalid")})
        return attrs


class DiaryCopySerializer(StrictJSONTypes):
    """Which entries to copy (a local day, or one meal of it) and where to."""

    from_date = DayField(help_text="The local day to copy from (YYYY-MM-DD).")
    to_date = DayField(help_text="The local day the copies go to (YYYY-MM-DD).")
    meal = serializers.ChoiceField(
        choices=MealSlot.choices, required=False, help_text="Copy only this meal's entries. Default: the whole day."
    )
    to_meal = serializers.ChoiceField(
        choices=MealSlot.choices, required=False, help_text="The meal the copies go into. Default: each entry's own."
    )


class PlannedMealSerializer(MealSerializer):
    logged = serializers.BooleanField(read_only=True, help_text="Logged from this saved meal on that day.")

    class Meta(MealSerializer.Meta):
        fields = [*MealSerializer.Meta.fields, "logged"]
        read_only_fields = fields


class PlannedDaySerializer(serializers.Serializer):
    date = serializers.DateField()
    weekday = serializers.ChoiceField(choices=list(WEEKDAYS))
    meals = PlannedMealSerializer(many=True)


class PlannedDayQuerySerializer(serializers.Serializer):
    date = DayField(help_text="The local day (YYYY-MM-DD).")


# --- Targets ----------------------------------------------------------------------------


def _macro_grams() -> serializers.DecimalField:
    """An optional daily macro target in grams."""
    return RoundedDecimalField(
        max_digits=6, decimal_places=1, min_value=0, max_value=2000, required=False, allow_null=True
    )


class NutritionTargetSerializer(OwnedModelSerializer):
    """Daily targets from `effective_from` on (a local day), until the next target's date."""

    energy_kcal = RoundedDecimalField(max_digits=7, decimal_places=1, min_value=1, max_value=20000)
    protein_g = _macro_grams()
    fat_g = _macro_grams()
    carbohydrate_g = _macro_grams()
    water_ml = RoundedDecimalField(
        max_digits=7,
        decimal_places=1,
        min_value=bounds.WATER_TARGET_ML[0],
        max_value=bounds.WATER_TARGET_ML[1],
        required=False,
        allow_null=True,
        help_text="Water to drink a day, in ml; none by default.",
    )

    class Meta:
        model = NutritionTarget
        fields = [
            "id",
            "energy_kcal",
            "protein_g",
            "fat_g",
            "carbohydrate_g",
            "water_ml",
            "effective_from",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["version", "created_at", "updated_at"]


class TargetInForceSerializer(FastRepresentation, serializers.ModelSerializer):
    """The nutrition target that applies on a day (the latest one effective on or before it)."""

    energy_kcal = serializers.DecimalField(max_digits=7, decimal_places=1, coerce_to_string=False)
    protein_g = serializers.DecimalField(max_digits=6, decimal_places=1, coerce_to_string=False, allow_null=True)
    fat_g = serializers.DecimalField(max_digits=6, decimal_places=1, coerce_to_string=False, allow_null=True)
    carbohydrate_g = serializers.DecimalField(max_digits=6, decimal_places=1, coerce_to_string=False, allow_null=True)
    water_ml = serializers.DecimalField(max_digits=7, decimal_places=1, coerce_to_string=False, allow_null=True)

    class Meta:
        model = NutritionTarget
        fields = ["id", "energy_kcal", "protein_g", "fat_g", "carbohydrate_g", "water_ml", "effective_from"]
        read_only_fields = fields


class AdherenceQuerySerializer(DayRangeQuerySerializer):
    max_days = MAX_ADHERENCE_DAYS


class AdherenceDaySerializer(serializers.Serializer):
    date = serializers.DateField(help_text="The local day.")
    target = TargetInForceSerializer(allow_null=True, help_text="The target in force that day; null if none.")
    energy_kcal = serializers.FloatField(help_text="Energy eaten that day (diary entries).")
    within_target = serializers.BooleanField(
        allow_null=True,
        help_text="Energy within the tolerance of the target's energy_kcal; null without a target or after today.",
    )
    water_ml = serializers.FloatField(help_text="Water drunk that day, in ml (water entries).")
    water_met = serializers.BooleanField(
        allow_null=True,
        help_text="At least the target's water_ml drunk; null without a target, when it sets no water, or after today.",
    )


class AdherenceSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()
    tolerance_percent = serializers.IntegerField(help_text="A day is within target at energy_kcal +- this percent.")
    streak = serializers.IntegerField(
        help_text="Consecutive days within target up to the latest day with a target (today in progress "
        "does not break it)."
    )
    days = AdherenceDaySerializer(many=True)


# --- Diary ------------------------------------------------------------------------------


class WarningSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="`allergy`")
    food = serializers.UUIDField()
    detail = serializers.CharField()


class DiaryEntrySerializer(FastRepresentation, serializers.ModelSerializer):
    """A diary entry with the nutrients it contributed (kept as logged). `warnings` lists the
    allergies the logged food is marked with (only on the response to a write)."""

    warnings = serializers.SerializerMethodField()
    methods_take_rows = True  # a .values() row has no warnings: only the response to a write does

    class Meta:
        model = DiaryEntry
        fields = [
            "id",
            "food",
            "portion",
            "quantity",
            "grams",
            "label",
            "meal",
            "consumed_at",
            "local_date",
            "saved_meal",
            *NUTRIENT_FIELDS,
            "warnings",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(WarningSerializer(many=True))
    def get_warnings(self, entry) -> list:
        return getattr(entry, "warnings", [])


class DiaryEntryWriteSerializer(OwnedModelSerializer):
    """Log a food (with `grams`, or a `portion` of it and a `quantity`, default 1), or a quick-add
    entry: no food, a `label` and `energy_kcal` (plus any macros)."""

    food = OwnedPrimaryKeyRelatedField(
        queryset=Food.objects.all(), include_public=True, required=False, allow_null=True
    )
    portion = OwnedPrimaryKeyRelatedField(
        queryset=FoodPortion.objects.all(),
        owner_field="food__user",
        include_public=True,
        required=False,
        allow_null=True,
    )
    quantity = FiniteFloatField(min_value=0.01, max_value=1000, required=False, allow_null=True)
    grams = FiniteFloatField(min_value=0.01, max_value=MAX_GRAMS, required=False, allow_null=True)
    label = serializers.CharField(max_length=200, required=False, allow_blank=True)
    consumed_at = RecordedTimeField(help_text="When it was eaten.")
    energy_kcal = _nutrient_field(required=False, allow_null=True)
    protein_g = _nutrient_field(required=False, allow_null=True)
    fat_g = _nutrient_field(required=False, allow_null=True)
    carbohydrate_g = _nutrient_field(required=False, allow_null=True)
    fiber_g = _nutrient_field(required=False, allow_null=True)
    sugars_g = _nutrient_field(required=False, allow_null=True)
    saturated_fat_g = _nutrient_field(required=False, allow_null=True)
    sodium_mg = _nutrient_field(required=False, allow_null=True)

    class Meta:
        model = DiaryEntry
        fields = ["id", "food", "portion", "quantity", "grams", "label", "meal", "consumed_at", *NUTRIENT_FIELDS]

    def to_representation(self, instance):
        return DiaryEntrySerializer(instance, context=self.context).data

    def sent_for_comparison(self) -> dict:
        """As the entry is written: a food entry is labelled with the food's name, and a
        portion without a quantity is one portion."""
        sent = super().sent_for_comparison()
        if sent.get("food") is not None:
            sent.pop("label", None)
        if sent.get("portion") is not None:
            if sent.get("grams") is None:
                sent.pop("grams", None)
            if sent.get("quantity") is None:
                sent["quantity"] = 1.0
        return sent


class DiarySummaryQuerySerializer(DayRangeQuerySerializer):
    max_days = MAX_SUMMARY_DAYS


class MealSplitSerializer(FastRepresentation, serializers.Serializer):
    breakfast = MacroTotalsSerializer()
    lunch = MacroTotalsSerializer()
    dinner = MacroTotalsSerializer()
    snack = MacroTotalsSerializer()


class DailySummarySerializer(FastRepresentation, serializers.Serializer):
    """One local day: every nutrient summed, and energy and macros per meal. Days with
    nothing logged are present with zeros."""

    date = serializers.DateField()
    entry_count = serializers.IntegerField()
    totals = NutrientTotalsSerializer()
    by_meal = MealSplitSerializer()
    water_ml = serializers.FloatField(help_text="Water drunk that day, in ml (water entries).")
    target = TargetInForceSerializer(allow_null=True, help_text="The nutrition target in force that day; null if none.")


class DiarySummarySerializer(FastRepresentation, serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()
    days = DailySummarySerializer(many=True)


# --- Water ------------------------------------------------------------------------------


def _water_field(**kwargs) -> RoundedDecimalField:
    return RoundedDecimalField(max_digits=WATER_DIGITS, decimal_places=WATER_PLACES, **kwargs)


class WaterEntrySerializer(OwnedModelSerializer):
    """A drink of water. Send `ml`, or `value` with `unit` (`ml` or `fl_oz`, a US fluid ounce
    of 29.5735 ml); it is stored in `ml`, and `entered_value` and `entered_unit` keep what was
    sent (8 fl_oz) so it can be shown back unchanged. `local_date` is the day of
    `consumed_at` in your profile's time zone when it was written."""

    ml = _water_field(
        required=False,
        min_value=bounds.WATER_ML[0],
        max_value=bounds.WATER_ML[1],
        help_text=f"On input: the amount in ml (or send value and unit). On output: the amount in ml, "
        f"{bounds.WATER_ML[0]} to {bounds.WATER_ML[1]}.",
    )
    value = _water_field(
        required=False,
        write_only=True,
        min_value=Decimal("0.01"),
        max_value=bounds.WATER_ML[1],
        help_text="The amount in `unit`, instead of `ml`; in ml it must fall within ml's range.",
    )
    unit = serializers.ChoiceField(
        choices=list(WATER_UNITS),
        required=False,
        write_only=True,
        help_text="The unit of `value`: `ml` (the default) or `fl_oz` (US, 29.5735 ml).",
    )
    entered_value = _water_field(read_only=True, help_text="The amount as it was sent, in `entered_unit`.")
    entered_unit = serializers.CharField(read_only=True, help_text="`ml` or `fl_oz`: the unit it was sent in.")
    consumed_at = RecordedTimeField(help_text="When it was drunk.")

    class Meta:
        model = WaterEntry
        fields = [
            "id",
            "ml",
            "value",
            "unit",
            "entered_value",
            "entered_unit",
            "consumed_at",
            "local_date",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["local_date", "version", "created_at", "updated_at"]

    def sent_for_comparison(self) -> dict:
        """The amount as entered: `ml` is a value in ml, `value` is in `unit` (ml by default)."""
        sent = super().sent_for_comparison()
        if "ml" in sent and "value" not in sent and not sent.get("unit"):
            sent["value"], sent["unit"] = sent.pop("ml"), "ml"
        elif "value" in sent or "unit" in sent:
            sent["unit"] = sent.get("unit") or "ml"
        return sent

    def shown_for_comparison(self, instance) -> dict:
        shown = super().shown_for_comparison(instance)
        return {**shown, "value": shown["entered_value"], "unit": shown["entered_unit"]}
