"""Writes for nutrition. Each function is one transaction and validates with full_clean."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from apps.nutrition import selectors
from apps.nutrition.models import (
    NUTRIENT_FIELDS,
    WATER_PLACES,
    WATER_UNITS,
    WEEKDAYS,
    DiaryEntry,
    Food,
    FoodPortion,
    FoodPreference,
    Meal,
    MealItem,
    NutritionTarget,
    WaterEntry,
)
from apps.users.models import User
from fithub import bounds
from fithub.db.integrity import save_or_conflict
from fithub.ops.metrics import record_diary_entries_logged

FOOD_FIELDS = ("name", "brand", "barcode", "food_group", *NUTRIENT_FIELDS)
MAX_GRAMS = 100_000.0
ONE_TARGET_PER_DATE = {"nutritiontarget_one_per_user_per_date": "A target already takes effect on this date."}


@dataclass
class LogResult:
    """Entries written and the warnings the client should show (allergies)."""

    entries: list[DiaryEntry]
    warnings: list[dict] = field(default_factory=list)


def _count_logged(count: int) -> None:
    """Count the entries once the transaction that writes them commits (a rollback counts
    nothing). `robust`: a failure of the metric is logged, never reported as a failed write."""
    transaction.on_commit(lambda: record_diary_entries_logged(count=count), robust=True)


def local_date_for(*, user, moment: datetime) -> date:
    """The day `moment` falls on in the user's time zone (as it is now, at writing time)."""
    try:
        return moment.astimezone(user.zone).date()
    except OverflowError:
        # e.g. 0001-01-01T00:00:00+01:00: before year 1 in UTC or the user's zone.
        raise ValidationError({"consumed_at": ["This time is out of range."]}, code="invalid") from None


def allergy_warnings(*, user, foods: list[Food]) -> list[dict]:
    ids = {food.pk for food in foods}
    allergic = set(
        FoodPreference.objects.filter(user=user, allergy=True, food_id__in=ids).values_list("food_id", flat=True)
    )
    return [
        {"code": "allergy", "food": food.pk, "detail": f"You marked {food.name!r} as an allergy."}
        for food in {food.pk: food for food in foods}.values()
        if food.pk in allergic
    ]


# --- Custom foods -----------------------------------------------------------------------


@transaction.atomic
def create_food(*, user, portions: list[dict] | None = None, **data) -> Food:
    food = Food(user=user, source=Food.Source.USER, **{key: data[key] for key in FOOD_FIELDS if key in data})
    if "id" in data and data["id"] is not None:
        food.id = data["id"]
    food.full_clean()
    food.save(force_insert=True)
    _edit_portions(food=food, portions=portions or [])
    if portions:
        _reload_version(food)
    return food


@transaction.atomic
def update_food(*, food: Food, portions: list[dict] | None = None, **data) -> Food:
    """Change a custom food. Past diary entries keep the nutrients they were logged with.
    `portions`, when given, is the food's new list (see `_edit_portions`)."""
    if food.user_id is None:
        raise ValidationError("Public foods cannot be changed.", code="read_only")
    for key in FOOD_FIELDS:
        if key in data:
            setattr(food, key, data[key])
    food.full_clean()
    food.save()
    if portions is not None:
        _edit_portions(food=food, portions=portions)
        _reload_version(food)
    return food


def _reload_version(food: Food) -> None:
    """Each statement on a food's portions bumped its version (fithub.db.change_log): the
    instance takes the one the database has."""
    food.version = Food.objects.filter(pk=food.pk).values_list("version", flat=True).get()


@transaction.atomic
def delete_food(*, food: Food) -> bool:
    """Delete a food, or archive it when diary entries or saved meals use it (they keep
    working and showing it; it leaves search). Deleting an archived food again deletes it
    once nothing uses it any more. Returns whether it was archived. Public foods too (the
    admin): the API only lets users delete their own."""
    food = Food.objects.select_for_update().get(pk=food.pk)
    if selectors.foods_in_use([food]):
        if food.archived_at is None:
            food.archived_at = timezone.now()
            food.save(update_fields=["archived_at", "updated_at"])
        return True
    food.delete()
    return False


def _item_error(field: str, index: int, attr: str, message: str, code: str) -> ValidationError:
    return ValidationError({f"{field}.{index}.{attr}": ValidationError(message, code=code)})


def _edit_portions(*, food: Food, portions: list[dict]) -> None:
    """Make `portions` the food's list, in that order. One with an `id` is that portion of
    the food, edited in place (its id stays, so diary entries keep it); one without is new;
    an active portion left out is removed: archived when diary entries use it, else
    deleted. A new portion takes the next `seq` never used by the food."""
    current = {portion.pk: portion for portion in FoodPortion.objects.select_for_update().filter(food=food)}
    kept: set[int] = set()
    for index, item in enumerate(portions):
        pk = item.get("id")
        if pk is None:
            continue
        portion = current.get(pk)
        if portion is None:
            raise _item_error("portions", index, "id", "This food has no portion with this id.", "does_not_exist")
        if portion.archived_at is not None:
            message = "This portion was removed from the food; send it without an id to add it again."
            raise _item_error("portions", index, "id", message, "archived")
        if pk in kept:
            raise _item_error("portions", index, "id", "This portion is listed twice.", "unique")
        kept.add(pk)
    removed = [pk for pk, portion in current.items() if portion.archived_at is None and pk not in kept]
    if removed:
        used = set(DiaryEntry.objects.filter(portion_id__in=removed).values_list("portion_id", flat=True))
        FoodPortion.objects.filter(pk__in=used).update(archived_at=timezone.now())
        unused = [pk for pk in removed if pk not in used]
        FoodPortion.objects.filter(pk__in=unused).delete()
        for pk in unused:
            del current[pk]
    next_seq = max((portion.seq for portion in current.values()), default=0) + 1
    edited, added = [], []
    for position, item in enumerate(portions, start=1):
        if item.get("id") is not None:
            portion = current[item["id"]]
            edited.append(portion)
        else:
            portion = FoodPortion(food=food, seq=next_seq)
            next_seq += 1
            added.append(portion)
        portion.description, portion.grams, portion.position = item["description"], item["grams"], position
        portion.full_clean(exclude=["food"], validate_unique=False, validate_constraints=False)
    if edited:
        FoodPortion.objects.bulk_update(edited, ["description", "grams", "position"])
    FoodPortion.objects.bulk_create(added)


def refuse_archived(row, *, field: str) -> None:
    """A new reference to an archived food or portion is refused: nothing new may use it."""
    if row is not None and row.archived_at is not None:
        what = "food" if isinstance(row, Food) else "portion"
        message = f"This {what} was deleted: what already uses it keeps it, but nothing new can."
        raise ValidationError({field: ValidationError(message, code="archived")})


# --- Diary ------------------------------------------------------------------------------


def _grams(*, food: Food | None, grams: float | None, portion: FoodPortion | None, quantity: float | None) -> float:
    if portion is not None and grams is not None:
        raise ValidationError({"grams": ["Give grams, or a portion and a quantity, not both."]}, code="invalid")
    if portion is not None:
        if food is None or portion.food_id != food.pk:
            raise ValidationError({"portion": ["This portion belongs to another food."]}, code="invalid")
        amount = portion.grams * (1.0 if quantity is None else quantity)
    elif grams is not None:
        if quantity is not None:
            raise ValidationError({"quantity": ["A quantity counts portions: give a portion with it."]}, code="invalid")
        amount = grams
    else:
        raise ValidationError({"grams": ["Give grams, or a portion and a quantity."]}, code="required")
    if not 0 < amount <= MAX_GRAMS:
        raise ValidationError({"grams": [f"The amount must be above 0 and at most {MAX_GRAMS:g} g."]}, code="invalid")
    return amount


def _apply_food(entry: DiaryEntry, food: Food, grams: float) -> None:
    entry.food = food
    entry.grams = grams
    entry.label = food.name[:200]
    for name in NUTRIENT_FIELDS:
        per_100 = getattr(food, name)
        setattr(entry, name, round((per_100 or 0.0) * grams / 100.0, 4))


def _validate_entry(entry: DiaryEntry) -> None:
    """The entry's own fields (lengths, choices, ranges). Not per-row queries: the foreign
    keys were resolved by the caller (the user; foods, portions and meals the API found
    visible), the id is new or checked by the viewset, and the check constraints (amounts
    above 0, nutrients not negative) hold by construction from validated inputs; Django
    checks each of those with one query in a savepoint, 30 statements an entry, and the
    database enforces them anyway."""
    entry.full_clean(
        exclude=["user", "food", "portion", "saved_meal"], validate_unique=False, validate_constraints=False
    )


# No savepoint inside a caller's transaction (the API's create): an error here fails the
# whole request anyway, and a savepoint costs two round trips.
@transaction.atomic(savepoint=False)
def log_food(
    *,
    user,
    meal: str,
    consumed_at: datetime,
    food: Food | None = None,
    grams: float | None = None,
    portion: FoodPortion | None = None,
    quantity: float | None = None,
    label: str = "",
    nutrients: dict | None = None,
    saved_meal: Meal | None = None,
    id=None,
) -> LogResult:
    """Write one diary entry: a food with grams or a portion and quantity, or a quick-add
    (no food: a label and the nutrients eaten). The entry keeps the nutrients it contributed."""
    entry = DiaryEntry(user=user, meal=meal, consumed_at=consumed_at, saved_meal=saved_meal)
    if id is not None:
        entry.id = id
    entry.local_date = local_date_for(user=user, moment=consumed_at)
    refuse_archived(food, field="food")
    refuse_archived(portion, field="portion")
    if food is not None:
        if nutrients:
            raise ValidationError({"food": ["Give a food or quick-add nutrients, not both."]}, code="invalid")
        amount = _grams(food=food, grams=grams, portion=portion, quantity=quantity)
        entry.portion, entry.quantity = portion, (quantity if portion is not None else None)
        if portion is not None and quantity is None:
            entry.quantity = 1.0
        _apply_food(entry, food, amount)
    else:
        _quick_add(entry, label=label, nutrients=nutrients, grams=grams, portion=portion, quantity=quantity)
    _validate_entry(entry)
    entry.save(force_insert=True)
    _count_logged(1)
    return LogResult(entries=[entry], warnings=allergy_warnings(user=user, foods=[food]) if food else [])


def _quick_add(entry: DiaryEntry, *, label: str, nutrients: dict | None, grams, portion, quantity) -> None:
    if portion is not None or quantity is not None:
        raise ValidationError({"portion": ["A portion needs a food."]}, code="invalid")
    if not label or not label.strip():
        raise ValidationError({"food": ["Give a food, or a label and energy for a quick-add entry."]}, code="required")
    nutrients = nutrients or {}
    if nutrients.get("energy_kcal") is None:
        raise ValidationError({"energy_kcal": ["A quick-add entry needs its energy."]}, code="required")
    entry.food, entry.portion, entry.quantity, entry.grams = None, None, None, grams
    entry.label = label.strip()[:200]
    for name in NUTRIENT_FIELDS:
        setattr(entry, name, nutrients.get(name) or 0.0)


# What was eaten: only a change of these recomputes an entry's nutrients.
AMOUNT_FIELDS = ("food", "grams", "portion", "quantity")


@transaction.atomic
def update_entry(*, entry: DiaryEntry, data: dict) -> LogResult:
    """Change an entry. Its nutrients (and label) are recomputed from the food as it is now
    only when what was eaten changes (food, grams, portion or quantity); moving it to another
    meal or time keeps them. A quick-add entry takes the label and nutrients sent. Its local
    day follows consumed_at, in the user's zone."""
    user = entry.user
    for key in ("meal", "consumed_at"):
        if key in data:
            setattr(entry, key, data[key])
    if "consumed_at" in data:
        entry.local_date = local_date_for(user=user, moment=entry.consumed_at)
    food = data.get("food", entry.food)
    warnings: list[dict] = []
    if food is not None:
        if data.get("grams") is not None:
            grams, portion, quantity = data["grams"], None, None
        elif "portion" in data or "quantity" in data:
            grams = None
            portion = data.get("portion", entry.portion)
            quantity = data.get("quantity") or entry.quantity or 1.0
        elif entry.portion is not None:
            grams, portion, quantity = None, entry.portion, entry.quantity or 1.0
        else:
            grams, portion, quantity = entry.grams, None, None
        if portion is None:
            quantity = None
        if food.pk != entry.food_id:
            refuse_archived(food, field="food")
        if portion is not None and portion.pk != entry.portion_id:
            refuse_archived(portion, field="portion")
        if _amount_changed(entry, food=food, grams=grams, portion=portion, quantity=quantity):
            amount = _grams(food=food, grams=grams, portion=portion, quantity=quantity)
            entry.portion, entry.quantity = portion, quantity
            _apply_food(entry, food, amount)
        warnings = allergy_warnings(user=user, foods=[food])
    else:
        nutrients = {name: data.get(name, getattr(entry, name)) for name in NUTRIENT_FIELDS}
        _quick_add(
            entry,
            label=data.get("label", entry.label),
            nutrients=nutrients,
            grams=data.get("grams", entry.grams),
            portion=data.get("portion"),
            quantity=data.get("quantity"),
        )
    _validate_entry(entry)
    entry.save()
    return LogResult(entries=[entry], warnings=warnings)


def _amount_changed(entry: DiaryEntry, *, food: Food, grams, portion: FoodPortion | None, quantity) -> bool:
    """Whether the amount an edit asks for differs from the entry's (sending the same food
    and grams again is no change)."""
    if food.pk != entry.food_id:
        return True
    if portion is not None:
        return portion.pk != entry.portion_id or quantity != entry.quantity
    return entry.portion_id is not None or grams != entry.grams


# --- Saved meals ------------------------------------------------------------------------


def weekdays_mask(names: list[str]) -> int:
    mask = 0
    for name in names:
        mask |= 1 << WEEKDAYS.index(name)
    return mask


@transaction.atomic
def save_meal(
    *, user, meal: Meal | None = None, items: list[dict] | None = None, weekdays: list[str] | None = None, **data
) -> Meal:
    """Create or update a saved meal; `items` (food, grams), when given, replace the old ones.
    An archived food may stay in a meal that has it, not come into one."""
    if meal is None:
        meal = Meal(user=user)
        if data.get("id") is not None:
            meal.id = data["id"]
        creating = True
    else:
        creating = False
    for key in ("name", "slot", "servings", "cooked_weight_g"):
        if key in data:
            setattr(meal, key, data[key])
    if weekdays is not None:
        meal.planned_weekdays = weekdays_mask(weekdays)
    meal.full_clean()
    meal.save(force_insert=creating)
    if items is not None:
        had = set() if creating else set(meal.items.values_list("food_id", flat=True))
        for index, item in enumerate(items):
            if item["food"].archived_at is not None and item["food"].pk not in had:
                message = "This food was deleted: the meals that have it keep it, but it cannot be added."
                raise _item_error("items", index, "food", message, "archived")
        meal.items.all().delete()
        rows = [
            MealItem(meal=meal, food=item["food"], grams=item["grams"], position=index)
            for index, item in enumerate(items)
        ]
        for row in rows:
            row.full_clean(exclude=["meal", "food"])
        MealItem.objects.bulk_create(rows)
    return meal


def meal_factor(
    *, meal: Meal, servings: float | None = None, grams: float | None = None, scale: float | None = None
) -> tuple[float, str]:
    """What share of the recipe is eaten, from at most one of: `servings` (of the meal's
    `servings`), `grams` of the cooked dish (of its `cooked_weight_g`) or `scale`; and the
    name of the amount given (for errors). Default: the whole recipe."""
    if servings is not None:
        return servings / meal.servings, "servings"
    if grams is not None:
        if not meal.cooked_weight_g:
            message = "This meal has no cooked_weight_g: log it by servings, or set its cooked weight."
            raise ValidationError({"grams": ValidationError(message, code="no_cooked_weight")})
        return grams / meal.cooked_weight_g, "grams"
    return (1.0 if scale is None else scale), "scale"


@transaction.atomic
def log_meal(
    *,
    user,
    meal: Meal,
    consumed_at: datetime,
    slot: str | None = None,
    scale: float | None = None,
    servings: float | None = None,
    grams: float | None = None,
) -> LogResult:
    """Log every item of a saved meal into the diary, all or nothing, each item in the
    proportion eaten (see meal_factor). Each entry keeps the nutrients it contributed."""
    items = list(meal.items.select_related("food").order_by("position", "id"))
    if not items:
        raise ValidationError("This meal has no items to log.", code="invalid")
    factor, amount = meal_factor(meal=meal, servings=servings, grams=grams, scale=scale)
    if any(not 0 < item.grams * factor <= MAX_GRAMS for item in items):
        message = f"That much would put more than {MAX_GRAMS:g} g of an item (or none) in the diary."
        raise ValidationError({amount: ValidationError(message, code="invalid")})
    local_date = local_date_for(user=user, moment=consumed_at)
    entries = []
    for item in items:
        entry = DiaryEntry(
            user=user,
            meal=slot or meal.slot,
            consumed_at=consumed_at,
            local_date=local_date,
            saved_meal=meal,
        )
        _apply_food(entry, item.food, _grams(food=item.food, grams=item.grams * factor, portion=None, quantity=None))
        _validate_entry(entry)
        entries.append(entry)
    DiaryEntry.objects.bulk_create(entries)
    _count_logged(len(entries))
    return LogResult(entries=entries, warnings=allergy_warnings(user=user, foods=[item.food for item in items]))


# --- Copying a day or a meal ---------------------------------------------------------

MAX_COPIED_ENTRIES = 500


def moved_to_day(moment: datetime, *, zone, day: date) -> datetime:
    """`moment`'s wall-clock time in `zone`, on `day`, in `zone`. A time that does not exist
    there (a spring-forward gap) or exists twice (fall-back) is taken with fold=0: the offset
    in force before the change."""
    local = moment.astimezone(zone)
    return datetime.combine(day, local.time().replace(tzinfo=None, fold=0)).replace(tzinfo=zone, fold=0)


def copy_entries(
    *, user, from_date: date, to_date: date, meal: str | None = None, to_meal: str | None = None
) -> LogResult:
    """Copy the entries of the local day `from_date` (of one `meal`, when given) to `to_date`
    (into `to_meal`, when given, else each into its own meal), all or nothing. The copies are
    new entries: new ids, the same wall-clock times on the target day in the user's zone as
    it is now, nutrients from each food as it is now (the same amount: grams, or portion and
    quantity); a quick-add is copied as it was. A food deleted since (archived) cannot be
    logged again: the copy is refused, naming it. A portion deleted since is copied as its
    grams.

    Everything is checked before the one write: a single bulk insert (atomic by itself), so
    no transaction of its own is needed (a caller's, Idempotency-Key's, may hold it)."""
    rows = DiaryEntry.objects.filter(user=user, local_date=from_date)
    if meal:
        rows = rows.filter(meal=meal)
    # One query: the entries with their foods and portions, oldest first (the copies' order).
    entries = list(rows.select_related("food", "portion").order_by("consumed_at", "id")[: MAX_COPIED_ENTRIES + 1])
    if not entries:
        what = f"no {meal} entries" if meal else "no entries"
        raise ValidationError({"from_date": ValidationError(f"This day has {what} to copy.", code="empty")})
    if len(entries) > MAX_COPIED_ENTRIES:
        message = f"At most {MAX_COPIED_ENTRIES} entries are copied at once: copy one meal at a time."
        raise ValidationError({"from_date": ValidationError(message, code="too_many")})
    archived = sorted({entry.food.name for entry in entries if entry.food and entry.food.archived_at is not None})
    if archived:
        names = ", ".join(repr(name) for name in archived)
        message = f"Deleted foods cannot be logged again: {names}. Copy the other meals, or log a replacement."
        raise ValidationError({"from_date": ValidationError(message, code="archived")})
    zone = user.zone
    copies = []
    for entry in entries:
        consumed_at = moved_to_day(entry.consumed_at, zone=zone, day=to_date)
        error = bounds.time_error(consumed_at)
        if error is not None:
            raise ValidationError({"to_date": ValidationError(error.message, code=error.code)})
        copy = DiaryEntry(
            user=user,
            meal=to_meal or entry.meal,
            consumed_at=consumed_at,
            local_date=local_date_for(user=user, moment=consumed_at),
            saved_meal_id=entry.saved_meal_id,
        )
        if entry.food is None:
            copy.label, copy.grams = entry.label, entry.grams
            for name in NUTRIENT_FIELDS:
                setattr(copy, name, getattr(entry, name))
        else:
            portion = entry.portion if entry.portion is not None and entry.portion.archived_at is None else None
            copy.portion, copy.quantity = portion, (entry.quantity if portion is not None else None)
            grams = portion.grams * (entry.quantity or 1.0) if portion is not None else entry.grams
            _apply_food(copy, entry.food, _grams(food=entry.food, grams=grams, portion=None, quantity=None))
        _validate_entry(copy)
        copies.append(copy)
    DiaryEntry.objects.bulk_create(copies)
    _count_logged(len(copies))
    foods = [entry.food for entry in entries if entry.food is not None]
    return LogResult(entries=copies, warnings=allergy_warnings(user=user, foods=foods) if foods else [])


# --- Preferences ------------------------------------------------------------------------


@transaction.atomic
def set_preference(*, user, food: Food, id=None, **flags) -> tuple[FoodPreference, bool]:
    """Create or update the user's preference for a food (one per food). Returns (row, created)."""
    preference = FoodPreference.objects.select_for_update().filter(user=user, food=food).first()
    created = preference is None
    if created:
        refuse_archived(food, field="food")
        preference = FoodPreference(user=user, food=food)
        if id is not None:
            preference.id = id
    for key in ("favorite", "dislike", "allergy"):
        if key in flags:
            setattr(preference, key, flags[key])
    if preference.favorite and preference.dislike:
        raise ValidationError({"favorite": ["A food cannot be both a favorite and disliked."]}, code="invalid")
    preference.full_clean(validate_constraints=False)
    preference.save()
    return preference, created


@transaction.atomic
def set_nutrition_target(
    *,
    user: User,
    energy_kcal: Decimal,
    effective_from: date,
    protein_g: Decimal | None = None,
    fat_g: Decimal | None = None,
    carbohydrate_g: Decimal | None = None,
    water_ml: Decimal | None = None,
    id: uuid.UUID | None = None,
) -> NutritionTarget:
    """A new target from `effective_from` on; earlier targets stay as history."""
    target = NutritionTarget(
        user=user,
        energy_kcal=energy_kcal,
        protein_g=protein_g,
        fat_g=fat_g,
        carbohydrate_g=carbohydrate_g,
        water_ml=water_ml,
        effective_from=effective_from,
    )
    if id is not None:
        target.id = id
    target.full_clean()
    save_or_conflict(target, constraints=ONE_TARGET_PER_DATE, force_insert=True)
    return target


# --- Water ------------------------------------------------------------------------------


def water_in_ml(value: Decimal, unit: str) -> Decimal:
    """`value` entered in `unit` (ml or fl_oz, a US fluid ounce) in ml, rounded half-even
    to the stored places."""
    if unit not in WATER_UNITS:
        message = f"Water is entered in {' or '.join(WATER_UNITS)}, not {unit!r}."
        raise ValidationError({"unit": ValidationError(message, code="invalid_choice")})
    return (value * WATER_UNITS[unit]).quantize(Decimal(1).scaleb(-WATER_PLACES), rounding=ROUND_HALF_EVEN)


def _set_water_amount(entry: WaterEntry, *, ml: Decimal | None, value: Decimal | None, unit: str | None) -> None:
    """`ml`, or `value` in `unit` (ml by default): stored in ml, the entered value and unit
    kept. The amount must be a drink (fithub.bounds.WATER_ML), checked in ml and named by the
    field it was sent in."""
    if ml is not None and (value is not None or unit):
        message = "Give ml, or value and unit, not both."
        raise ValidationError({"ml": ValidationError(message, code="invalid")})
    if ml is not None:
        value, unit, field_name = ml, "ml", "ml"
    else:
        unit, field_name = unit or "ml", "value"
    amount = water_in_ml(value, unit)
    low, high = bounds.WATER_ML
    if not low <= amount <= high:
        message = f"A drink is {low} to {high} ml ({amount.normalize():f} ml given)."
        raise ValidationError({field_name: ValidationError(message, code="out_of_range")})
    entry.ml, entry.entered_value, entry.entered_unit = amount, value, unit


def _set_water_time(entry: WaterEntry, *, user: User, consumed_at: datetime) -> None:
    error = bounds.time_error(consumed_at)
    if error is not None:
        raise ValidationError({"consumed_at": error})
    entry.consumed_at = consumed_at
    entry.local_date = local_date_for(user=user, moment=consumed_at)


@transaction.atomic(savepoint=False)
def log_water(
    *,
    user: User,
    consumed_at: datetime,
    ml: Decimal | None = None,
    value: Decimal | None = None,
    unit: str | None = None,
    id: uuid.UUID | None = None,
) -> WaterEntry:
    """Record a drink of water: `ml`, or `value` in `unit`. Its local day is that of
    `consumed_at` in the user's time zone, as for diary entries."""
    if ml is None and value is None:
        raise ValidationError({"ml": ValidationError("Give ml, or value and unit.", code="required")})
    entry = WaterEntry(user=user)
    if id is not None:
        entry.id = id
    _set_water_amount(entry, ml=ml, value=value, unit=unit)
    _set_water_time(entry, user=user, consumed_at=consumed_at)
    entry.save(force_insert=True)
    return entry


@transaction.atomic
def update_water(*, entry: WaterEntry, data: dict) -> WaterEntry:
    """Change the amount (`ml`, or `value` and/or `unit`: a unit alone says the entered value
    was in that unit) or the time (the local day follows it)."""
    if "ml" in data or "value" in data or "unit" in data:
        ml, value, unit = data.get("ml"), data.get("value"), data.get("unit")
        if ml is None:
            value = value if value is not None else entry.entered_value
            unit = unit or entry.entered_unit
        _set_water_amount(entry, ml=ml, value=value, unit=unit)
    if "consumed_at" in data:
        _set_water_time(entry, user=entry.user, consumed_at=data["consumed_at"])
    entry.save()
    return entry
