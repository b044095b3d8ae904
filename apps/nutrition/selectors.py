"""Reads for nutrition: user-scoped querysets, food search, the diary's aggregates, the
nutrition target in force on a day and the adherence to targets."""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, NamedTuple

from django.contrib.postgres.aggregates import JSONBAgg
from django.contrib.postgres.search import TrigramSimilarity, TrigramWordSimilarity
from django.db import connection
from django.db.models import (
    BooleanField,
    Case,
    CharField,
    Count,
    DateField,
    Exists,
    F,
    FloatField,
    Func,
    IntegerField,
    Max,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    UUIDField,
    Value,
    When,
    Window,
)
from django.db.models.functions import Coalesce, Greatest, JSONObject, Left, Length, NullIf, Rank, Replace, StrIndex
from django.db.models.lookups import LessThanOrEqual
from django.utils import timezone

from apps.nutrition.models import (
    MACRO_FIELDS,
    NUTRIENT_FIELDS,
    PORTION_ORDER,
    WEEKDAYS,
    DiaryEntry,
    Food,
    FoodPortion,
    FoodPreference,
    Meal,
    MealItem,
    MealSlot,
    NutritionTarget,
    RecentFood,
    WaterEntry,
)
from apps.users.models import User
from fithub.api.pagination import TOTAL
from fithub.db.statements import CachedQuery, Param, Statement, fetch_together

MAX_SUMMARY_DAYS = 366


def normalize(text: str) -> str:
    """Lowercase without accents, the form names are compared in (PostgreSQL: fithub_unaccent(lower()))."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def _words(query: str) -> list[str]:
    return [word for word in re.split(r"[^\w%]+", normalize(query)) if word][:8]


_VOWELS = frozenset("aeiou")


def word_forms(word: str) -> tuple[str, ...]:
    """The singular and plural forms of a (normalised) query word, the word itself first, by the
    regular English rules (berry/berries, peach/peaches, tomato/tomatoes, egg/eggs): enough for
    food names, which are mostly regular plurals. Words under 3 letters are kept as they are."""
    if len(word) < 3 or not word.isalpha():
        return (word,)
    if len(word) > 4 and word.endswith("ies"):
        return (word, word[:-3] + "y")
    if len(word) > 4 and word.endswith(("oes", "ches", "shes", "sses", "xes", "zes")):
        return (word, word[:-2])
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return (word, word[:-1])
    if word.endswith("y") and word[-2] not in _VOWELS:
        return (word, word[:-1] + "ies")
    if word.endswith(("ch", "sh", "s", "x", "z")):
        return (word, word + "es")
    if word.endswith("o"):
        return (word, word + "s", word + "es")
    return (word, word + "s")


def _stem(forms: tuple[str, ...]) -> str:
    """What every form starts with: names containing it are the candidates (`LIKE '%stem%'`)."""
    stem = forms[0]
    for form in forms[1:]:
        while not form.startswith(stem):
            stem = stem[:-1]
    return stem


def foods_visible_to(user) -> QuerySet[Food]:
    """Public foods plus the user's own custom foods (only public ones for anonymous callers)."""
    return _visible_foods(_user_param(user))


def _visible_foods(user_id: Param | None) -> QuerySet[Food]:
    visible = Q(user__isnull=True)
    if user_id is not None:
        visible |= Q(user_id=user_id)
    return Food.objects.filter(visible)


def _signed_in(user) -> bool:
    return user is not None and user.is_authenticated


def _user_param(user) -> Param | None:
    """The signed-in caller's id as a Param (None for anonymous callers)."""
    return _user_id_param(user.pk) if _signed_in(user) else None


def _user_id_param(user_id) -> Param:
    return Param("user", user_id, output_field=UUIDField())


def with_portions(queryset: QuerySet[Food], *, archived: bool = True) -> QuerySet[Food]:
    """Each food's portions, in their order (archived ones last, or left out when `archived`
    is False: search offers only what can be logged). On PostgreSQL as `portion_rows` (a JSON
    list of {id, description, grams, archived_at} per food, from a subquery of the same
    query: no second query and no FoodPortion instances); elsewhere prefetched as `portions`."""
    portions = FoodPortion.objects.all() if archived else FoodPortion.objects.filter(archived_at__isnull=True)
    if connection.vendor != "postgresql":
        return queryset.prefetch_related(Prefetch("portions", queryset=portions.order_by(*PORTION_ORDER)))
    row = JSONObject(id="id", description="description", grams="grams", archived_at="archived_at")
    rows = (
        portions.filter(food=OuterRef("pk"))
        .order_by()
        .values("food")
        .annotate(rows=JSONBAgg(row, order_by=PORTION_ORDER))
        .values("rows")
    )
    return queryset.annotate(portion_rows=Subquery(rows))


def annotate_preferences(queryset: QuerySet[Food], user) -> QuerySet[Food]:
    """`is_favorite`, `is_disliked` and `is_allergen` for the caller, as subqueries (no query per row)."""
    return _with_preferences(queryset, _user_param(user))


def _with_preferences(queryset: QuerySet[Food], user_id: Param | None) -> QuerySet[Food]:
    if user_id is None:
        false = Value(False, output_field=BooleanField())
        return queryset.annotate(is_favorite=false, is_disliked=false, is_allergen=false)
    mine = FoodPreference.objects.filter(user_id=user_id, food=OuterRef("pk"))
    return queryset.annotate(
        is_favorite=Exists(mine.filter(favorite=True)),
        is_disliked=Exists(mine.filter(dislike=True)),
        is_allergen=Exists(mine.filter(allergy=True)),
    )


class _Search(NamedTuple):
    """What decides the search query's SQL, apart from its values (a CachedQuery's shape)."""

    long_words: tuple[bool, ...]  # per word: 3 letters or more (typo tolerance applies)
    signed_in: bool
    barcode: bool
    typos: bool
    reads: int | None


_FORMS = 3  # word_forms gives 1 to 3 forms; padded, so that the SQL depends on the word count only


def _padded_forms(word: str) -> tuple[str, ...]:
    forms = word_forms(word)
    return forms + (forms[-1],) * (_FORMS - len(forms))


def _search(*, user, query: str, barcode: str, typos: bool, reads: int | None) -> tuple[_Search, dict[str, Any]]:
    words = _words(query)
    values: dict[str, Any] = {}
    for index, word in enumerate(words):
        forms = word_forms(word)
        values[f"w{index}"] = _stem(forms)
        values[f"start{index}"] = " " + _stem(forms)
        if index < len(words) - 1:
            for number, form in enumerate(_padded_forms(word)):
                values[f"whole{index}_{number}"] = f" {form} "
    if words:
        values["phrase"] = " ".join(words)
        # The last word names the food ("peanut butter", "chicken breast"): best where it ends a
        # part of the name ("Chicken, broilers or fryers, breast, raw"), not where it modifies one.
        for number, form in enumerate(_padded_forms(words[-1])):
            values[f"noun{number}"] = f" {form} |"
            values[f"noun_end{number}"] = f" {form} "
    if barcode.strip():
        values["barcode"] = barcode.strip()
    if _signed_in(user):
        values["user"] = user.pk
    typos = typos and connection.vendor == "postgresql" and bool(words)
    long_words = tuple(len(values[f"w{index}"]) >= 3 for index in range(len(words)))
    if typos:  # the typo tolerance compares a long word as typed and in its other number
        for index, word in enumerate(words):
            if long_words[index]:
                values[f"typo{index}_0"], values[f"typo{index}_1"] = _padded_forms(word)[:2]
    return _Search(long_words, "user" in values, "barcode" in values, typos, reads), values


def search_foods(
    *, user, query: str = "", barcode: str = "", typos: bool | None = None, reads: int | None = None
) -> QuerySet[Food]:
    """Foods visible to the user, ranked for a search box (archived foods left out).

    Every word must be in the name (as the stem its singular and plural share: "berries" and
    "berry" look for "berr"; a word of one or two letters at the start of a word). When none
    is, PostgreSQL falls back to fuzzy matches (every word within trigram word similarity of
    the name, so typos match). Order: the user's favorites first and disliked foods after all
    the others; then the match (exact name, every word whole in singular or plural with the
    last one possibly half typed, every word at a word start, anywhere, fuzzy); processed
    foods after generic ones (`Food.search_processed`); the last word as the noun of a part of
    the name ("Chicken, broilers or fryers, breast, raw" for "chicken breast", not "Chicken
    breast tenders"); a name starting with a query word; raw and default forms before
    preserved ones (`Food.search_form`); then the closest and shortest names. See
    docs/ARCHITECTURE.md ("Ranking") and the labelled queries of tests/nutrition/data.

    `typos`: None decides with an EXISTS probe (plain matches if any, else fuzzy ones); False
    gives the plain matches only and True the fuzzy ones (PostgreSQL), for a caller that has
    already seen the plain matches come back empty (see `tolerates_typos`).

    `reads`: how many leading rows the caller will read (a page's offset plus its size). The
    trigram closeness, most of the query's time, is then computed only for the rows that can
    be among them: rows of a rank class (everything before closeness) that starts after row
    `reads` sort after it whatever their closeness. The order of the first `reads` rows is unchanged.

    Candidates come from the stored `search_name` column and its trigram index, for the plain
    match (`LIKE '%stem%'`) and the fuzzy one (`search_name %> word`) alike; whole words and
    word starts are LIKE patterns on the stored `search_words`.
    """
    search, values = _search(user=user, query=query, barcode=barcode, typos=bool(typos), reads=reads)
    if typos is None and tolerates_typos(query) and not _ranked_foods(search, values).exists():
        search = search._replace(typos=True)
    return _ranked_foods(search, values)


def search_page(*, user, query: str = "", barcode: str = "", typos: bool = False, offset: int, size: int) -> list[Food]:
    """Foods `offset` to `offset + size` of `search_foods(..., typos=typos)`, each annotated
    with how many match in all (`pagination_total`), in one query from the statement cache:
    its SQL depends on the shape of the search (word count, signed in, barcode, typos) and
    the page."""
    search, values = _search(user=user, query=query, barcode=barcode, typos=typos, reads=offset + size)
    return _SEARCH_PAGE.results((search, offset, size), values)


# The rank classes of a search, the match first; search_processed and search_form are stored
# with each food (models.SearchProcessed, models.SearchForm): they do not depend on the query.
# Within a class: part_rank, then the trigram closeness, both computed only for the classes
# a page can reach (_within_first).
_RANKS = ("-is_favorite", "is_disliked", "match_rank", "search_processed", "noun_rank", "head_rank", "search_form")


def _points(condition: Q, value: int) -> Case:
    return Case(When(condition, then=Value(value)), default=Value(0), output_field=IntegerField())


def _ranked_foods(search: _Search, values: dict[str, Any]) -> QuerySet[Food]:
    user_id = _user_id_param(values["user"]) if search.signed_in else None
    queryset = _with_preferences(_visible_foods(user_id).filter(archived_at__isnull=True), user_id)
    if search.barcode:
        queryset = queryset.filter(barcode=Param("barcode", values["barcode"]))
    count = len(search.long_words)
    if not count:
        return with_portions(queryset.order_by("-is_favorite", "is_disliked", "name", "id"), archived=False)

    stems = [Param(f"w{index}", values[f"w{index}"]) for index in range(count)]
    phrase = Param("phrase", values["phrase"])
    postgres = connection.vendor == "postgresql"

    def param(name: str) -> Param:
        return Param(name, values[name])

    # Whole words and word starts are LIKE patterns on `search_words` (models.search_words).
    all_words, whole_words, word_starts, head, noun = Q(), Q(), Q(), Q(), Q()
    plain: list[Q] = []
    parts = []
    for index, (stem, long) in enumerate(zip(stems, search.long_words, strict=True)):
        word_start = Q(search_words__contains=param(f"start{index}"))
        parts.append(_part_of(param(f"start{index}")))
        # A word of one or two letters ("a", "ch", typed first) names a word start, not any
        # letters inside a word, and would otherwise match most of the table.
        plain.append(Q(search_name__contains=stem) if long else word_start)
        all_words &= plain[-1]
        word_starts &= word_start
        head |= Q(search_name__startswith=stem)
        if index == count - 1:
            whole_words &= word_start  # the last word may be half typed; noun_rank wants it whole
            break
        whole = Q()
        for number in range(_FORMS):
            whole |= Q(search_words__contains=param(f"whole{index}_{number}"))
        whole_words &= whole
    for number in range(_FORMS):
        noun |= Q(search_words__contains=param(f"noun{number}"))
        noun |= Q(search_words__endswith=param(f"noun_end{number}"))
    closeness = TrigramSimilarity("search_name", phrase) if postgres else Value(0.0, output_field=FloatField())
    classes = [F(name[1:]).desc() if name.startswith("-") else F(name) for name in _RANKS]
    matches = all_words
    if search.typos:
        forms = [
            tuple(param(f"typo{index}_{n}") for n in range(2)) if long else ()
            for index, long in enumerate(search.long_words)
        ]
        matches, closeness = _fuzzy_matches(stems, forms, plain, closeness)
    return with_portions(
        queryset.filter(matches)
        .annotate(
            match_rank=Case(
                When(search_name=phrase, then=Value(0)),
                When(whole_words, then=Value(1)),
                When(word_starts, then=Value(2)),
                When(all_words, then=Value(3)),
                default=Value(4),
                output_field=IntegerField(),
            ),
            noun_rank=_points(~noun, 1),
            head_rank=_points(~head, 1),
            part_rank=_within_first(search.reads, Greatest(*parts) if count > 1 else parts[0], by=classes),
            closeness=_within_first(search.reads, closeness, by=classes),
        )
        .order_by(
            *_RANKS,
            "part_rank",
            "-closeness",
            Length("name"),
            "name",
            "id",
        ),
        archived=False,
    )


def _part_of(start: Param) -> Func:
    """Which part of the name (0 for the first) holds the first word starting as `start` does
    (" chick"): how many " |" come before it in `search_words`; 0 where no word starts so (a
    letter run inside a word, or a typo): 99."""
    before = Left("search_words", NullIf(StrIndex("search_words", start), Value(0)))
    return Coalesce(Length(before) - Length(Replace(before, Value("|"), Value(""))), Value(99))


def _within_first(reads: int | None, value, *, by: list):
    """`value` for rows ranked within the first `reads` by the `by` ordering (ties share a
    rank), 0 for the rest: PostgreSQL's CASE evaluates `value` only where the rank allows."""
    if reads is None or connection.vendor != "postgresql":
        return value
    rank = Window(Rank(), order_by=by)
    return Case(When(LessThanOrEqual(rank, reads), then=value), default=Value(0), output_field=value.output_field)


def _search_page(shape: tuple[_Search, int, int], values: dict[str, Any]) -> QuerySet[Food]:
    search, offset, size = shape
    return _ranked_foods(search, values).annotate(**{TOTAL: Window(Count("pk"))})[offset : offset + size]


SEARCH_PAGE_SIZE = 20  # the food list's default page (api.views.FoodPagination)
# Typed first pages, one per shape a search box sends most (the words only make the shape):
# one to three whole words, or a last word of one or two letters still being typed.
_COMMON_SEARCHES = ("apple", "peanut butter", "whole wheat bread", "chicken b")


class _Caller(NamedTuple):
    pk: uuid.UUID
    is_authenticated: bool = True


def _common_search_pages() -> Iterator[tuple[tuple[_Search, int, int], dict[str, Any]]]:
    """The first pages of `_COMMON_SEARCHES`, anonymous and signed in, as typed and typo-tolerant:
    compiled by each worker before it accepts (fithub.db.statements.warm_statements), since
    a shape costs 10-20 ms to compile and a typo search needs two."""
    for user in (None, _Caller(uuid.UUID(int=1))):
        for query in _COMMON_SEARCHES:
            for typos in (False, True):
                search, values = _search(user=user, query=query, barcode="", typos=typos, reads=SEARCH_PAGE_SIZE)
                if search.typos == typos:  # no typo shape where typos do not apply (SQLite)
                    yield (search, 0, SEARCH_PAGE_SIZE), values


_SEARCH_PAGE = CachedQuery(Food, _search_page, warm=_common_search_pages)


def tolerates_typos(query: str) -> bool:
    """Whether `search_foods(query=query, typos=True)` can find more than the plain matches."""
    return connection.vendor == "postgresql" and bool(_words(query))


def _fuzzy_matches(stems: list[Param], forms: list[tuple[Param, ...]], plain: list[Q], closeness):
    """Every word matched as typed (`plain`), or (3 letters or more) within trigram word
    similarity of the name, as typed or in its other number (`forms`: "avacado" and
    "avacados", as plain matching finds "berry" and "berries" alike; USDA names fruits in the
    plural, and "avacado" is within 0.45 of "Oil, avocado" but not of "Avocados, raw").

    `search_name %> word` is word_similarity(word, search_name) >= the session's
    pg_trgm.word_similarity_threshold, which the trigram index can answer (a scan of every
    name with the word_similarity() function costs ~50 times more). Every connection gets
    the threshold when it opens (settings.FOOD_SEARCH_TYPO_SIMILARITY, 0.45): no statement
    per search, and a read that moves to another server keeps it.

    Each word reaches `%>` as `(SELECT word)`, a value the planner does not see: pg_trgm
    estimates `search_name %> 'word'` by computing the word similarity of every name in the
    column's statistics, 0.75 ms of planning a word here (more than scanning the matches),
    and the plan it then chose was the one it chooses with its default estimate (the trigram
    index), row for row the same results. Seeing the words, it had also estimated so many
    rows for a second `%>` a word that it scanned the whole table (130 ms).
    """
    matches = Q()
    for word_matches, typed in zip(plain, forms, strict=True):
        for form in typed:
            unseen = Func(form, template="(SELECT %(expressions)s)", output_field=CharField())
            word_matches |= Q(search_name__trigram_word_similar=unseen)
        matches &= word_matches
    similarities = [TrigramWordSimilarity(stem, "search_name") for stem in stems]
    return matches, sum(similarities[1:], similarities[0]) + closeness


def foods_in_use(foods: list[Food]) -> set:
    """The ids of these foods that diary entries or saved meals use (two queries)."""
    ids = [food.pk for food in foods]
    entries = DiaryEntry.objects.filter(food_id__in=ids).values_list("food_id", flat=True).distinct()
    items = MealItem.objects.filter(food_id__in=ids).values_list("food_id", flat=True).distinct()
    return set(entries) | set(items)


def diary_entries(*, user) -> QuerySet[DiaryEntry]:
    return DiaryEntry.objects.filter(user=user)


def meals(*, user=None) -> QuerySet[Meal]:
    """Saved meals (the user's, when given) with their items and foods, and totals computed by the database."""
    items = MealItem.objects.select_related("food").order_by("position", "id")
    totals = {
        f"total_{name}": Coalesce(
            Sum(F("items__grams") * F(f"items__food__{name}") / 100.0, output_field=FloatField()),
            0.0,
            output_field=FloatField(),
        )
        for name in NUTRIENT_FIELDS
    }
    queryset = Meal.objects.all() if user is None else Meal.objects.filter(user=user)
    return (
        queryset.annotate(total_grams=Coalesce(Sum("items__grams"), 0.0, output_field=FloatField()), **totals)
        .prefetch_related(Prefetch("items", queryset=items))
        .order_by("name", "id")
    )


def planned_meals(*, user, day: date) -> QuerySet[Meal]:
    """The meals planned on `day`'s weekday, each with whether it was logged that local day."""
    bit = 1 << day.weekday()
    logged = DiaryEntry.objects.filter(user=user, saved_meal=OuterRef("pk"), local_date=day)
    return (
        meals(user=user)
        .annotate(weekday_bit=F("planned_weekdays").bitand(bit))
        .filter(weekday_bit=bit)
        .annotate(logged=Exists(logged))
        .order_by(
            Case(*[When(slot=slot, then=Value(index)) for index, slot in enumerate(MealSlot.values)]),
            "name",
            "id",
        )
    )


def _daily_sums(shape: None, values: dict) -> QuerySet:
    """Per local day and meal slot: the entry count and the sum of every nutrient."""
    return (
        DiaryEntry.objects.filter(
            user_id=_user_id_param(values["user"]),
            local_date__gte=Param("start", values["start"], output_field=DateField()),
            local_date__lte=Param("end", values["end"], output_field=DateField()),
        )
        .order_by()
        .values_list("local_date", "meal")
        .annotate(Count("id"), *(Sum(name) for name in NUTRIENT_FIELDS))
    )


_DAILY_SUMS = CachedQuery(DiaryEntry, _daily_sums)


def daily_summary(*, user, start: date, end: date) -> list[dict]:
    """One row per local day from start to end (inclusive), days with nothing logged included.

    The database sums every nutrient per local day and meal slot in one grouped query (nine
    aggregates: cheap to compile, at most four rows a day); Python adds the slots up into
    the day's totals and lays the days out on the calendar. Each row: `date`,
    `entry_count`, `totals` (every nutrient) and `by_meal` (energy and macros per meal
    slot). Rows are dicts so that more keys (such as the nutrition target in force) can be
    added beside them.
    """
    if end < start:
        raise ValueError("end is before start")
    (rows,) = fetch_together(daily_sums(user=user, start=start, end=end))
    return summarize_days(rows, start=start, end=end)


def daily_sums(*, user, start: date, end: date) -> Statement:
    """The summary's grouped query for the user's days, to fetch with others (fithub.db.statements)."""
    return _DAILY_SUMS.bind(None, {"user": user.pk, "start": start, "end": end})


def _daily_water(shape: None, values: dict) -> QuerySet:
    """Per local day: the water drunk, in ml."""
    return (
        WaterEntry.objects.filter(
            user_id=_user_id_param(values["user"]),
            local_date__gte=Param("start", values["start"], output_field=DateField()),
            local_date__lte=Param("end", values["end"], output_field=DateField()),
        )
        .order_by()
        .values_list("local_date")
        .annotate(Sum("ml"))
    )


_DAILY_WATER = CachedQuery(WaterEntry, _daily_water)


def daily_water(*, user, start: date, end: date) -> Statement:
    """The water drunk per local day of the user's (the (user, local_date) index), to fetch
    with others (fithub.db.statements)."""
    return _DAILY_WATER.bind(None, {"user": user.pk, "start": start, "end": end})


def water_by_day(rows: list[tuple]) -> dict[date, float]:
    """{day: ml} from the rows of `daily_water` (days with no water are absent: 0)."""
    return {day: round(float(ml), 2) for day, ml in rows}


def summarize_days(rows: list[tuple], *, start: date, end: date) -> list[dict]:
    """`daily_summary`'s rows from the rows of `daily_sums`."""
    by_day: dict[date, dict[str, tuple]] = {}
    for day, slot, count, *sums in rows:
        by_day.setdefault(day, {})[slot] = (count, sums)
    macro_indexes = [NUTRIENT_FIELDS.index(name) for name in MACRO_FIELDS]
    result = []
    for offset in range((end - start).days + 1):
        day = start + timedelta(days=offset)
        slots = by_day.get(day, {})
        totals = [sum(sums[i] or 0.0 for _, sums in slots.values()) for i in range(len(NUTRIENT_FIELDS))]
        result.append(
            {
                "date": day,
                "entry_count": sum(count for count, _ in slots.values()),
                "totals": {name: round(total, 2) for name, total in zip(NUTRIENT_FIELDS, totals, strict=True)},
                "by_meal": {
                    slot: {
                        name: round((slots[slot][1][i] or 0.0) if slot in slots else 0.0, 2)
                        for name, i in zip(MACRO_FIELDS, macro_indexes, strict=True)
                    }
                    for slot in MealSlot.values
                },
            }
        )
    return result


def daily_totals(*, user, start: date, end: date) -> dict[date, dict[str, float]]:
    """Per local day from start to end (inclusive), the nutrients eaten: {day: {"energy_kcal": ..., ...}}.

    Every day in the range is present (zeros when nothing was logged). One query.
    """
    (rows,) = fetch_together(daily_sums(user=user, start=start, end=end))
    return totals_by_day(rows, start=start, end=end)


def totals_by_day(rows: list[tuple], *, start: date, end: date) -> dict[date, dict[str, float]]:
    """`daily_totals` from the rows of `daily_sums` (the adherence fetches them with its
    targets)."""
    return {row["date"]: row["totals"] for row in summarize_days(rows, start=start, end=end)}


def weekday_name(day: date) -> str:
    return WEEKDAYS[day.weekday()]


def nutrition_targets_of(*, user: User) -> QuerySet[NutritionTarget]:
    return NutritionTarget.objects.filter(user=user)


def target_in_force(*, user: User, day: date) -> NutritionTarget | None:
    """The target that applies on a local day: the latest one effective on or before it."""
    return nutrition_targets_of(user=user).filter(effective_from__lte=day).order_by("-effective_from").first()


_TARGET_COLUMNS = [field.attname for field in NutritionTarget._meta.concrete_fields]


def _targets_for_range(shape: None, values: dict) -> QuerySet:
    """The targets that start within the range, and the one in force on `start`."""
    user_id = Param("user", values["user"], output_field=UUIDField())
    start = Param("start", values["start"], output_field=DateField())
    end = Param("end", values["end"], output_field=DateField())
    in_force_at_start = (
        NutritionTarget.objects.filter(user_id=user_id, effective_from__lte=start)
        .order_by("-effective_from")
        .values("effective_from")[:1]
    )
    return (
        NutritionTarget.objects.filter(
            user_id=user_id,
            effective_from__lte=end,
            effective_from__gte=Coalesce(Subquery(in_force_at_start), start),
        )
        .order_by("effective_from")
        .values_list(*_TARGET_COLUMNS)
    )


_TARGETS_FOR_RANGE = CachedQuery(NutritionTarget, _targets_for_range)


def targets_by_day(*, user: User, start: date, end: date) -> dict[date, NutritionTarget | None]:
    """The target in force on each day from start to end (inclusive), in one query, then one
    pass over the days."""
    if end < start:
        return {}
    (rows,) = fetch_together(targets_for_range(user=user, start=start, end=end))
    return targets_on_days(rows, start=start, end=end)


def targets_for_range(*, user: User, start: date, end: date) -> Statement:
    """The query of `targets_by_day`, to fetch with others (fithub.db.statements)."""
    return _TARGETS_FOR_RANGE.bind(None, {"user": user.pk, "start": start, "end": end})


def targets_on_days(rows: list[tuple], *, start: date, end: date) -> dict[date, NutritionTarget | None]:
    """`targets_by_day` from the rows of `targets_for_range`."""
    if end < start:
        return {}
    targets = [NutritionTarget.from_db(None, _TARGET_COLUMNS, row) for row in rows]
    result: dict[date, NutritionTarget | None] = {}
    current: NutritionTarget | None = None
    index = 0
    day = start
    while day <= end:
        while index < len(targets) and targets[index].effective_from <= day:
            current = targets[index]
            index += 1
        result[day] = current
        day += timedelta(days=1)
    return result


# A day is within target when the energy eaten is within this fraction of energy_kcal.
ADHERENCE_TOLERANCE = Decimal("0.10")
MAX_ADHERENCE_DAYS = 366


@dataclass(frozen=True)
class AdherenceDay:
    date: date
    target: NutritionTarget | None
    energy_kcal: float
    within_target: bool | None
    water_ml: float
    water_met: bool | None


@dataclass(frozen=True)
class Adherence:
    start: date
    end: date
    tolerance_percent: int
    days: list[AdherenceDay]
    streak: int


def adherence(*, user: User, start: date, end: date) -> Adherence:
    """Per local day from start to end: the target in force, the energy eaten and whether it
    is within ADHERENCE_TOLERANCE of the target's energy_kcal (null without a target, and
    for days after today: not eaten yet), and the water drunk and whether it reached the
    target's water_ml (null also when the target sets none). Three queries in one round
    trip: the targets, the daily totals and the daily water.

    `streak`: consecutive days within target, counted back from the latest day of the range
    (not after today) that has a target. Today still in progress does not break it: when
    today is not (yet) within target the count starts from yesterday."""
    today = user.local_today()
    target_rows, sums, water_rows = fetch_together(
        targets_for_range(user=user, start=start, end=end),
        daily_sums(user=user, start=start, end=end),
        daily_water(user=user, start=start, end=end),
    )  # one round trip
    targets = targets_on_days(target_rows, start=start, end=end)
    totals = totals_by_day(sums, start=start, end=end)
    water = water_by_day(water_rows)
    days = []
    for day, target in targets.items():
        eaten = totals.get(day, {}).get("energy_kcal", 0.0)
        drunk = water.get(day, 0.0)
        within = water_met = None
        if target is not None and day <= today:
            allowed = target.energy_kcal * ADHERENCE_TOLERANCE
            within = abs(Decimal(str(eaten)) - target.energy_kcal) <= allowed
            if target.water_ml is not None:
                water_met = Decimal(str(drunk)) >= target.water_ml
        days.append(
            AdherenceDay(
                date=day, target=target, energy_kcal=eaten, within_target=within, water_ml=drunk, water_met=water_met
            )
        )
    counted = [d for d in days if d.date <= today]
    while counted and counted[-1].target is None:
        counted.pop()
    if counted and counted[-1].date == today and not counted[-1].within_target:
        counted.pop()
    streak = 0
    for day in reversed(counted):
        if not day.within_target:
            break
        streak += 1
    return Adherence(
        start=start,
        end=end,
        tolerance_percent=int(ADHERENCE_TOLERANCE * 100),
        days=days,
        streak=streak,
    )


# --- Recent and frequent foods -----------------------------------------------------------

FREQUENT_FOODS_DAYS = 90


def _last_amount(path: str) -> dict[str, Any]:
    """The amount of the entry at `path`: grams, and its portion and quantity while the portion
    is still offered (an archived portion cannot be logged again: grams only)."""

    def usable(field: str, output_field) -> Case:
        return Case(
            When(**{f"{path}portion__archived_at__isnull": True}, then=F(f"{path}{field}")),
            default=None,
            output_field=output_field,
        )

    return {
        "last_grams": F(f"{path}grams"),
        "last_portion": usable("portion_id", IntegerField()),
        "last_quantity": usable("quantity", FloatField()),
    }


def _recent_foods(shape: tuple[int, int], values: dict[str, Any]) -> QuerySet[Food]:
    """A page of the user's `RecentFood` rows, newest first, with their foods and the amounts
    of the entries they point at. The page's food ids come from a walk down the (user,
    last_logged_at DESC, entry DESC) index that skips archived foods (their partial index) and
    stops at the page's end: an index-only scan of offset + size rows, whatever the history.
    Only those foods are then read, with their entries, portions and preference flags; the
    total counts the user's rows (an index-only scan) less the archived foods'.

    Only foods the user can see are shown: an entry of someone else's custom food (only the
    admin links those) is counted but left out of its page, which is then one food short."""
    offset, size = shape
    user_id = _user_id_param(values["user"])
    archived = Food.objects.filter(archived_at__isnull=False, pk=OuterRef("food_id"))
    rows = RecentFood.objects.filter(~Exists(archived), user_id=user_id)
    page_ids = rows.order_by("-last_logged_at", "-entry_id").values("food_id")[offset : offset + size]
    total = rows.order_by().values("user_id").annotate(foods=Count("*")).values("foods")
    foods = (
        _visible_foods(user_id)
        .filter(pk__in=Subquery(page_ids), recent_uses__user_id=user_id)
        .annotate(
            last_logged_at=F("recent_uses__last_logged_at"),
            **_last_amount("recent_uses__entry__"),
            **{TOTAL: Coalesce(Subquery(total, output_field=IntegerField()), 0)},
        )
        .order_by("-last_logged_at", "-recent_uses__entry_id")
    )
    return with_portions(_with_preferences(foods, user_id), archived=False)


_RECENT_FOODS = CachedQuery(Food, _recent_foods)


def _frequent_foods(shape: tuple[int, int], values: dict[str, Any]) -> QuerySet[Food]:
    """A page of the foods the user logged since `since`, the most entries first, as one
    statement: the page's food ids come from one grouped pass over the user's entries of those
    days (an index-only scan of the (user, food, consumed_at) index, no join), then each of
    those foods gets its latest entry's time and amount, its count and the number of foods in
    all from subqueries the page's rows alone evaluate. Archived foods (which nothing new may
    use) are left out.

    Only foods the user can see are shown: an entry of someone else's custom food (only the
    admin links those) is left out of the page, which is then one food short."""
    offset, size = shape
    user_id = _user_id_param(values["user"])
    entries = _frequent_entries(user_id, values)
    groups = entries.order_by().values("food_id").annotate(last=Max("consumed_at"), entries=Count("food_id"))
    page_ids = groups.order_by("-entries", "-last", "-food_id").values("food_id")[offset : offset + size]
    # The number of groups, read off the first one (a COUNT(DISTINCT) sorts every entry again).
    total = groups.annotate(foods=Window(Count("*"))).order_by().values("foods")[:1]

    # The page's foods are the user's loggable ones already: their entries need no join.
    of_food = DiaryEntry.objects.filter(
        user_id=user_id, food_id=OuterRef("pk"), consumed_at__gte=Param("since", values["since"])
    )
    latest = of_food.order_by("-consumed_at", "-id")
    count = of_food.order_by().values("food_id").annotate(n=Count("id")).values("n")
    foods = _with_preferences(_visible_foods(user_id).filter(pk__in=Subquery(page_ids)), user_id).annotate(
        last_logged_at=Subquery(latest.values("consumed_at")[:1]),
        **{name: Subquery(latest.values(amount=amount)[:1]) for name, amount in _last_amount("").items()},
        logged_count=Subquery(count, output_field=IntegerField()),
        **{TOTAL: Subquery(total, output_field=IntegerField())},
    )
    return with_portions(foods.order_by("-logged_count", "-last_logged_at", "-id"), archived=False)


_FREQUENT_FOODS = CachedQuery(Food, _frequent_foods)


def _frequent_entries(user_id: Param, values: dict[str, Any]) -> QuerySet[DiaryEntry]:
    """The user's entries since `since` of foods that are not archived. The archived foods are
    a short list (their partial index) that each entry's food id is looked up in: joining every
    entry to its food cost more than the rest of the query."""
    archived = Food.objects.filter(archived_at__isnull=False, pk=OuterRef("food_id"))
    return DiaryEntry.objects.filter(
        ~Exists(archived), user_id=user_id, food__isnull=False, consumed_at__gte=Param("since", values["since"])
    )


def _since(now: datetime | None) -> datetime:
    return (now or timezone.now()) - timedelta(days=FREQUENT_FOODS_DAYS)


def logged_foods_count(*, user: User, kind: str, now: datetime | None = None) -> int:
    """How many foods `recent_foods` (kind `recent`) or `frequent_foods` (`frequent`) list in
    all (for `page=last`)."""
    user_id = _user_id_param(user.pk)
    if kind == "recent":
        archived = Food.objects.filter(archived_at__isnull=False, pk=OuterRef("food_id"))
        return RecentFood.objects.filter(~Exists(archived), user_id=user_id).count()
    entries = _frequent_entries(user_id, {"since": _since(now)})
    return entries.values("food_id").distinct().count()


def recent_foods(*, user: User, offset: int, size: int) -> list[Food]:
    """Foods `offset` to `offset + size` of those the user logged, the latest logged first:
    each with `last_logged_at` and the amount of that latest entry (`last_grams`, and
    `last_portion` + `last_quantity` when it was a portion still offered), and the number of
    such foods (`pagination_total`). One query, off the `RecentFood` rows the diary's
    triggers keep (apps/nutrition/triggers.py): its cost is the page's, not the history's."""
    return _RECENT_FOODS.results((offset, size), {"user": user.pk})


def frequent_foods(*, user: User, offset: int, size: int, now: datetime | None = None) -> list[Food]:
    """Foods `offset` to `offset + size` of those the user logged in the last
    FREQUENT_FOODS_DAYS days, the most logged first (then the latest logged): each with
    `logged_count` (entries in those days) and what `recent_foods` gives. One query."""
    return _FREQUENT_FOODS.results((offset, size), {"user": user.pk, "since": _since(now)})
