"""Nutrition: foods (the public USDA database and users' own), the diary, saved meals, preferences
and daily targets."""

from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Func, Q, Value
from django.db.models.functions import Concat, Lower, Replace
from django.db.models.lookups import Contains, EndsWith, Regex

from fithub import bounds
from fithub.models import OwnedModel, TimeStampedModel, VersionedModel, new_id

# The nutrients kept per food (per 100 g) and on each diary entry (for the amount eaten).
NUTRIENT_FIELDS = (
    "energy_kcal",
    "protein_g",
    "fat_g",
    "carbohydrate_g",
    "fiber_g",
    "sugars_g",
    "saturated_fat_g",
    "sodium_mg",
)
# The ones every summary row carries, split by meal.
MACRO_FIELDS = ("energy_kcal", "protein_g", "fat_g", "carbohydrate_g")


def _nutrient(help_text: str) -> models.FloatField:
    return models.FloatField(null=True, blank=True, help_text=help_text)


class SearchName(Func):
    """A food name as search compares it: `public.fithub_unaccent(lower(name))` on PostgreSQL
    (the IMMUTABLE wrapper of unaccent from migration 0002, schema-qualified so that pg_restore
    can recompute it), `lower(name)` elsewhere."""

    output_field = models.CharField(max_length=200)

    def __init__(self):
        super().__init__(Lower("name"))

    def as_sql(self, compiler, connection, **extra_context):
        return compiler.compile(self.source_expressions[0])

    def as_postgresql(self, compiler, connection, **extra_context):
        return super().as_sql(compiler, connection, function="public.fithub_unaccent", **extra_context)


def search_words() -> Concat:
    """A name as search matches its words: the normalised name (SearchName) with punctuation
    turned into single spaces, each part of the name (before a comma or an opening parenthesis)
    ending in " |", and a space at each end. Whole words, word starts and part ends are then
    plain LIKE patterns (" egg ", " chick", " breast |"), on PostgreSQL and SQLite alike:
    "Chicken, broilers or fryers, breast (raw)" -> " chicken | broilers or fryers | breast | raw "."""
    words = SearchName()
    for mark in ",(;":
        words = Replace(words, Value(mark), Value(" | "))
    for mark in ")-/":
        words = Replace(words, Value(mark), Value(" "))
    for _ in range(3):
        words = Replace(words, Value("  "), Value(" "))
    return Concat(Value(" "), words, Value(" "), output_field=models.TextField())


# Food groups of prepared dishes, brands' menus and regional foods: a bare name seldom means them.
PREPARED_GROUPS = (
    "Baby Foods",
    "Fast Foods",
    "Restaurant Foods",
    "Meals, Entrees, and Side Dishes",
    "American Indian/Alaska Native Foods",
)
# Words of a name that mark a processed form, a preserved one, or the generic entry SR28 gives
# as its default (besides "raw"). A hyphen after a word joins it to the next ("whole-wheat"),
# and so does a space for whole wheat and whole grain: a flour, not the whole food ("Milk,
# whole"), however SR28 spells it ("Bread, whole-wheat", "Bread, naan, whole wheat").
_WORD = "(^|[^a-z0-9]){}([^a-z0-9-]|$)"
PROCESSED_WORDS = _WORD.format("(breaded|batter|imitation|substitute|meatless|babyfood|flavou?r|flavored|mix)")
PRESERVED_WORDS = _WORD.format("(canned|frozen|dried|dry|dehydrated|powder|powdered|concentrate|instant)")
DEFAULT_FORM_WORDS = _WORD.format(
    "(whole(?! (wheat|grain))|plain|all commercial varieties|all types|all varieties|all classes|all areas"
    "|mixed species|year round average)"
)


def _points(condition: Q, value: int) -> models.Case:
    return models.Case(models.When(condition, then=models.Value(value)), default=models.Value(0))


class SearchProcessed(models.Case):
    """1 for a prepared dish, a brand's product (a brand, or capitals in the name: "SILK",
    "KELLOGG'S") or a processed form (breaded, imitation, a mix); else 0. Search ranks these
    after the others that match as well."""

    def __init__(self):
        processed = (
            Q(food_group__in=PREPARED_GROUPS)
            | ~Q(brand="")
            | Q(name__regex="[A-Z]{2}")
            | Regex(Lower("name"), PROCESSED_WORDS)
        )
        super().__init__(models.When(processed, then=models.Value(1)), default=models.Value(0))


class SearchForm(models.Func):
    """How generic a name reads, lower first: -1 for raw, -1 for SR28's default entries (whole,
    plain, all varieties, mixed species), +1 for preserved forms (canned, frozen, dried)."""

    template = "(%(expressions)s)"
    arg_joiner = " + "

    def __init__(self):
        name = Lower("name")
        raw = Q(EndsWith(name, ", raw")) | Q(Contains(name, ", raw,")) | Q(Contains(name, ", raw "))
        super().__init__(
            _points(raw, -1),
            _points(Q(Regex(name, DEFAULT_FORM_WORDS)), -1),
            _points(Q(Regex(name, PRESERVED_WORDS)), 1),
            output_field=models.SmallIntegerField(),
        )


class MealSlot(models.TextChoices):
    BREAKFAST = "breakfast", "Breakfast"
    LUNCH = "lunch", "Lunch"
    DINNER = "dinner", "Dinner"
    SNACK = "snack", "Snack"


class Food(VersionedModel, TimeStampedModel):
    """A food with its nutrients per 100 g.

    Public foods (no owner) come from the USDA SR28 database and are read-only through the
    API; a user's custom foods (source `user`) belong to them alone. A nutrient left empty
    is unknown, not zero (SR28 leaves many blank).

    A food deleted while diary entries or saved meals use it is archived instead
    (`archived_at`): gone from search, still readable by id and shown where it is used; those
    entries and meals keep working, but nothing new may refer to it. The foreign keys to it
    are RESTRICT, so it cannot be deleted from under them (deleting an account still
    removes its foods with the entries and meals that use them). A custom food whose owner
    deleted their account while another account used it (an admin's link) stays archived
    without an owner: read-only, like a public food.
    """

    class Source(models.TextChoices):
        USDA = "usda", "USDA SR28"
        USER = "user", "User"

    id = models.UUIDField(primary_key=True, default=new_id, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="foods",
        help_text="The owner of a custom food; empty for public foods.",
    )
    name = models.CharField(max_length=200)
    brand = models.CharField(max_length=200, blank=True)
    barcode = models.CharField(max_length=32, blank=True, help_text="GTIN/EAN/UPC digits, if any.")
    food_group = models.CharField(max_length=100, blank=True)
    source = models.CharField(max_length=8, choices=Source.choices, default=Source.USER)
    # NULL for custom foods: NULLs never collide in the (source, source_id) unique constraint.
    source_id = models.CharField(  # noqa: DJ001
        max_length=32, null=True, blank=True, help_text="The id in the source database (USDA NDB number)."
    )
    energy_kcal = _nutrient("kcal per 100 g")
    protein_g = _nutrient("g per 100 g")
    fat_g = _nutrient("Total fat, g per 100 g")
    carbohydrate_g = _nutrient("Carbohydrate by difference, g per 100 g")
    fiber_g = _nutrient("Total dietary fiber, g per 100 g")
    sugars_g = _nutrient("Total sugars, g per 100 g")
    saturated_fat_g = _nutrient("Saturated fatty acids, g per 100 g")
    sodium_mg = _nutrient("mg per 100 g")
    # Stored, so that search filters, ranks and counts on a plain column (with a trigram GIN
    # index, migration 0003) instead of running unaccent on every row several times a query.
    search_name = models.GeneratedField(
        expression=SearchName(), output_field=models.CharField(max_length=200), db_persist=True
    )
    search_words = models.GeneratedField(expression=search_words(), output_field=models.TextField(), db_persist=True)
    # What search ranks by that does not depend on the query, stored with the row (migration 0012)
    # so that a search does not run these patterns on every candidate.
    search_processed = models.GeneratedField(
        expression=SearchProcessed(), output_field=models.SmallIntegerField(), db_persist=True
    )
    search_form = models.GeneratedField(
        expression=SearchForm(), output_field=models.SmallIntegerField(), db_persist=True
    )
    archived_at = models.DateTimeField(
        null=True, blank=True, help_text="When it was deleted while diary entries or saved meals used it."
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["source", "source_id"], name="food_unique_source_id"),
            models.CheckConstraint(
                condition=Q(source="user", user__isnull=False)
                | Q(source="user", user__isnull=True, archived_at__isnull=False)
                | Q(user__isnull=True) & ~Q(source="user"),
                name="food_public_iff_not_user_source",
            ),
            *[
                models.CheckConstraint(
                    condition=Q(**{f"{field}__isnull": True}) | Q(**{f"{field}__gte": 0}),
                    name=f"food_{field}_not_negative",
                )
                for field in NUTRIENT_FIELDS
            ],
        ]
        indexes = [
            models.Index(fields=["barcode"], name="food_barcode_idx", condition=~Q(barcode="")),
            models.Index(fields=["user", "name"], name="food_user_name_idx"),
            # The few archived foods, which recent and frequent foods leave out.
            models.Index(fields=["id"], name="food_archived_idx", condition=Q(archived_at__isnull=False)),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_public(self) -> bool:
        return self.user_id is None

    @property
    def portion_list(self) -> list:
        """The food's portions in order (archived ones last): the JSON rows read with it where
        the query selected them (`selectors.with_portions` on PostgreSQL), else the portions
        themselves."""
        rows = getattr(self, "portion_rows", None)
        if rows is not None or hasattr(self, "portion_rows"):
            for row in rows or []:
                if isinstance(row.get("archived_at"), str):  # JSON has no times: PostgreSQL's ISO text
                    row["archived_at"] = datetime.fromisoformat(row["archived_at"])
            return rows or []
        return list(self.portions.all())


# The order of a food's portions: its active ones by position, then the archived ones.
PORTION_ORDER = (F("archived_at").asc(nulls_first=True), "position", "id")


class FoodPortion(models.Model):
    """A household measure of a food ("1 cup", "1 large") and what it weighs in grams.

    `seq` names the portion within its food and never changes (USDA's Seq for public
    foods, which the import upserts by; the next free number for a custom food's new
    portion); `position` is its place in the food's list, rewritten when the list is edited.
    Portions are edited in place, so diary entries keep pointing at theirs; one removed
    while entries use it is archived (`archived_at`) instead of deleted.
    """

    food = models.ForeignKey(Food, on_delete=models.CASCADE, related_name="portions")
    seq = models.PositiveSmallIntegerField(default=1, help_text="The portion's number within its food; never reused.")
    position = models.PositiveSmallIntegerField(default=1, help_text="Order among the food's portions.")
    description = models.CharField(max_length=120)
    grams = models.FloatField()
    archived_at = models.DateTimeField(
        null=True, blank=True, help_text="When it was removed from its food while diary entries used it."
    )

    class Meta:
        ordering = ["food", *PORTION_ORDER]
        constraints = [
            models.UniqueConstraint(fields=["food", "seq"], name="food_portion_unique_seq"),
            models.CheckConstraint(condition=Q(grams__gt=0), name="food_portion_grams_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.description} ({self.grams:g} g)"


class FoodPreference(OwnedModel):
    """How a user feels about a food: a favorite (ranked first in search), disliked, or an allergy
    (flagged in search; logging it still works but answers with a warning)."""

    food = models.ForeignKey(Food, on_delete=models.CASCADE, related_name="preferences")
    favorite = models.BooleanField(default=False)
    dislike = models.BooleanField(default=False)
    allergy = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["user", "food"], name="food_preference_unique_user_food"),
            models.CheckConstraint(condition=~Q(favorite=True, dislike=True), name="food_preference_not_both"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} / {self.food_id}"


WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class Meal(OwnedModel):
    """A saved meal (recipe): foods and amounts a user eats together, logged in one request.

    `planned_weekdays` is a bit mask (bit 0 = Monday) of the weekdays it is planned on;
    `slot` is the diary meal it goes to when logged or planned. As a recipe it makes
    `servings` servings and, cooked, may weigh `cooked_weight_g`: it is logged by servings
    or by grams of the cooked dish, each item in proportion.
    """

    name = models.CharField(max_length=200)
    slot = models.CharField(max_length=9, choices=MealSlot.choices, default=MealSlot.LUNCH)
    planned_weekdays = models.PositiveSmallIntegerField(default=0)
    servings = models.FloatField(default=1.0, help_text="How many servings the recipe makes.")
    cooked_weight_g = models.FloatField(
        null=True, blank=True, help_text="What the cooked dish weighs, to log it by the gram."
    )

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(planned_weekdays__lt=128), name="meal_planned_weekdays_mask"),
            models.CheckConstraint(condition=Q(servings__gt=0), name="meal_servings_positive"),
            models.CheckConstraint(
                condition=Q(cooked_weight_g__isnull=True) | Q(cooked_weight_g__gt=0),
                name="meal_cooked_weight_positive",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def weekday_names(self) -> list[str]:
        return [name for index, name in enumerate(WEEKDAYS) if self.planned_weekdays & (1 << index)]


class MealItem(models.Model):
    """One food and its amount in grams inside a saved meal."""

    meal = models.ForeignKey(Meal, on_delete=models.CASCADE, related_name="items")
    # A food in use is archived, never deleted from under a meal.
    food = models.ForeignKey(Food, on_delete=models.RESTRICT, related_name="+")
    grams = models.FloatField()
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["meal", "position", "id"]
        constraints = [models.CheckConstraint(condition=Q(grams__gt=0), name="meal_item_grams_positive")]

    def __str__(self) -> str:
        return f"{self.grams:g} g of {self.food_id}"


class DiaryEntry(OwnedModel):
    """One thing eaten: a food with an amount, or a quick-add (a label with energy and macros).

    The nutrients it contributed are written on the entry when it is saved, so editing or
    deleting a custom food later does not rewrite history; they change only when the entry's
    food or amount does. `local_date` is the day of
    `consumed_at` in the user's time zone at the time of writing: the diary's days are local.
    """

    # Foods and portions in use are archived, never deleted from under an entry.
    food = models.ForeignKey(Food, on_delete=models.RESTRICT, null=True, blank=True, related_name="+")
    portion = models.ForeignKey(FoodPortion, on_delete=models.RESTRICT, null=True, blank=True, related_name="+")
    quantity = models.FloatField(null=True, blank=True, help_text="Number of portions, when a portion is given.")
    grams = models.FloatField(null=True, blank=True, help_text="Amount eaten; empty for quick-add entries.")
    label = models.CharField(max_length=200, help_text="The food's name when logged, or the quick-add label.")
    meal = models.CharField(max_length=9, choices=MealSlot.choices)
    consumed_at = models.DateTimeField(validators=[bounds.validate_recorded_time])
    local_date = models.DateField()
    saved_meal = models.ForeignKey(Meal, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    energy_kcal = models.FloatField(default=0)
    protein_g = models.FloatField(default=0)
    fat_g = models.FloatField(default=0)
    carbohydrate_g = models.FloatField(default=0)
    fiber_g = models.FloatField(default=0)
    sugars_g = models.FloatField(default=0)
    saturated_fat_g = models.FloatField(default=0)
    sodium_mg = models.FloatField(default=0)

    class Meta:
        ordering = ["-consumed_at", "-id"]
        verbose_name_plural = "diary entries"
        constraints = [
            models.CheckConstraint(condition=Q(grams__isnull=True) | Q(grams__gt=0), name="diary_grams_positive"),
            models.CheckConstraint(
                condition=Q(quantity__isnull=True) | Q(quantity__gt=0), name="diary_quantity_positive"
            ),
            *[
                models.CheckConstraint(condition=Q(**{f"{field}__gte": 0}), name=f"diary_{field}_not_negative")
                for field in NUTRIENT_FIELDS
            ],
        ]
        indexes = [
            models.Index(fields=["user", "local_date", "meal"], name="diary_user_day_meal_idx"),
            models.Index(fields=["user", "-consumed_at"], name="diary_user_consumed_idx"),
            # Recent and frequent foods: a user's entries of each food, newest first.
            models.Index(
                fields=["user", "food", "-consumed_at"],
                name="diary_user_food_time_idx",
                condition=Q(food__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.local_date} {self.meal}: {self.label}"


class RecentFood(models.Model):
    """A user's latest diary entry of one food: what `GET /foods/recent/` lists, one row a food,
    read newest first off the (user, last_logged_at, entry) index so that a page costs its
    size rather than the whole history (foods whose latest entries share a time: the later
    entry's, by its time-ordered id, first).

    Derived from the diary entries and kept by database triggers on them (migration 0017,
    named `nutrition_recent_food_*`), so every path that writes entries keeps it (services,
    the admin, `QuerySet.update`/`delete`, `bulk_create`, raw SQL): after a change to an
    entry's user, food or time, each (user, food) it touched points again at its latest
    entry (`consumed_at`, then `id`), or loses its row when none is left. Quick-adds (no
    food) have none. The amount shown is read from the entry itself, so amount changes need
    no upkeep. Not an API resource and not in the export: a cache of the diary.
    """

    pk = models.CompositePrimaryKey("user", "food")
    # The primary key's index leads with the user: no index of its own.
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False)
    # The triggers keep these in step with the entries (a deleted entry's row moves on or
    # goes in the same statement); Django's deletion has nothing to do for them.
    food = models.ForeignKey(Food, on_delete=models.DO_NOTHING, related_name="recent_uses")
    entry = models.OneToOneField("DiaryEntry", on_delete=models.DO_NOTHING, related_name="+")
    last_logged_at = models.DateTimeField(help_text="The latest entry's consumed_at.")

    class Meta:
        # The recent list's order, the food in it for an index-only walk to a page's ids.
        indexes = [
            models.Index(
                fields=["user", "-last_logged_at", "-entry"], include=["food"], name="recent_food_user_time_idx"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user_id} / {self.food_id} at {self.last_logged_at}"


# The units water may be entered in, with the factor to ml (a US fluid ounce).
WATER_UNITS: dict[str, Decimal] = {"ml": Decimal(1), "fl_oz": Decimal("29.5735")}
WATER_UNIT_NAMES = tuple(WATER_UNITS)  # one enum in the schema (WaterUnitEnum)
WATER_DIGITS = 8
WATER_PLACES = 2


class WaterEntry(OwnedModel):
    """A drink of water. `ml` is what was drunk in millilitres; `entered_value` and
    `entered_unit` keep what the client sent (8 fl_oz) so it can show it back unchanged.
    `local_date` is the day of `consumed_at` in the user's time zone at the time of writing,
    as for diary entries."""

    ml = models.DecimalField(max_digits=WATER_DIGITS, decimal_places=WATER_PLACES)
    entered_value = models.DecimalField(max_digits=WATER_DIGITS, decimal_places=WATER_PLACES)
    entered_unit = models.CharField(max_length=8, choices=[(unit, unit) for unit in WATER_UNIT_NAMES])
    consumed_at = models.DateTimeField(validators=[bounds.validate_recorded_time])
    local_date = models.DateField()

    class Meta:
        ordering = ["-consumed_at", "-id"]
        verbose_name_plural = "water entries"
        constraints = [
            models.CheckConstraint(
                condition=Q(ml__gte=bounds.WATER_ML[0], ml__lte=bounds.WATER_ML[1]), name="water_ml_range"
            ),
            models.CheckConstraint(condition=Q(entered_value__gt=0), name="water_entered_value_positive"),
            models.CheckConstraint(condition=Q(entered_unit__in=list(WATER_UNITS)), name="water_entered_unit_known"),
        ]
        indexes = [
            models.Index(fields=["user", "-consumed_at"], name="water_user_consumed_idx"),
            models.Index(fields=["user", "local_date"], name="water_user_day_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.local_date}: {self.ml} ml"


class NutritionTarget(OwnedModel):
    """Daily energy and macro targets (and optionally water) from `effective_from` on, until the next target's
    date. History is kept: a change is a new row, so past days keep the target that was in
    force then. One target per user per date."""

    energy_kcal = models.DecimalField(max_digits=7, decimal_places=1)
    protein_g = models.DecimalField(max_digits=6, decimal_places=1, null=True, blank=True)
    fat_g = models.DecimalField(max_digits=6, decimal_places=1, null=True, blank=True)
    carbohydrate_g = models.DecimalField(max_digits=6, decimal_places=1, null=True, blank=True)
    water_ml = models.DecimalField(
        max_digits=7, decimal_places=1, null=True, blank=True, help_text="Water to drink a day, in ml (optional)."
    )
    effective_from = models.DateField(help_text="The first local day this target applies to.")

    class Meta:
        # The table it had in the goals app, where the model was first.
        db_table = "goals_nutritiontarget"
        ordering = ["-effective_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "effective_from"],
                name="nutritiontarget_one_per_user_per_date",
                violation_error_message="A target already takes effect on this date.",
            ),
            models.CheckConstraint(
                condition=models.Q(energy_kcal__gt=0, energy_kcal__lte=20000),
                name="nutritiontarget_energy_range",
                violation_error_message="energy_kcal must be above 0 and at most 20000.",
            ),
            models.CheckConstraint(
                condition=(models.Q(protein_g__isnull=True) | models.Q(protein_g__gte=0, protein_g__lte=2000))
                & (models.Q(fat_g__isnull=True) | models.Q(fat_g__gte=0, fat_g__lte=2000))
                & (models.Q(carbohydrate_g__isnull=True) | models.Q(carbohydrate_g__gte=0, carbohydrate_g__lte=2000)),
                name="nutritiontarget_macro_range",
                violation_error_message="Macro targets must be between 0 and 2000 g.",
            ),
            models.CheckConstraint(
                condition=models.Q(water_ml__isnull=True)
                | models.Q(water_ml__gte=bounds.WATER_TARGET_ML[0], water_ml__lte=bounds.WATER_TARGET_ML[1]),
                name="nutritiontarget_water_range",
                violation_error_message="water_ml must be between 1 and 20000 ml.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.energy_kcal} kcal from {self.effective_from}"
