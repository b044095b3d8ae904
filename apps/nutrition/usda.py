"""Reading the USDA SR28 flat files, the project's compact copy of them, and storing both.

SR28 files: one record a line, CRLF line ends, fields separated by `^`, text fields wrapped
in `~`, an empty field means "no value" (not zero), Windows-1252 text. NUT_DATA is gzipped.
Every parse error names the file and the line, and nothing is written until every file has
been read: a malformed copy leaves the database as it was.
"""

from __future__ import annotations

import gzip
import json
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction

from apps.nutrition.models import NUTRIENT_FIELDS, Food, FoodPortion

COMPACT_PATH = Path(__file__).resolve().parent / "data" / "usda_sr28.json.gz"
COMPACT_VERSION = 1

# SR28 nutrient numbers (NUTR_DEF.txt) of the nutrients a food keeps.
NUTRIENT_NUMBERS = {
    "208": "energy_kcal",
    "203": "protein_g",
    "204": "fat_g",
    "205": "carbohydrate_g",
    "291": "fiber_g",
    "269": "sugars_g",
    "606": "saturated_fat_g",
    "307": "sodium_mg",
}


class SR28FormatError(ValueError):
    """A malformed SR28 file; the message names the file and line."""


@dataclass
class FoodRecord:
    source_id: str
    name: str
    brand: str
    food_group: str
    nutrients: dict[str, float] = field(default_factory=dict)
    portions: list[tuple[int, str, float]] = field(default_factory=list)


Progress = Callable[[str], None]


def _records(path: Path, expected_fields: int) -> Iterator[tuple[int, list[str]]]:
    opener = gzip.open if path.suffix == ".gz" else open
    name = path.name
    try:
        with opener(path, "rt", encoding="cp1252", newline="") as handle:
            data = handle.read()
    except FileNotFoundError as exc:
        raise SR28FormatError(f"{name}: file not found in {path.parent}") from exc
    except (OSError, EOFError, UnicodeDecodeError) as exc:
        raise SR28FormatError(f"{name}: cannot be read ({exc})") from exc
    lines = data.split("\r\n")
    if lines and lines[-1] == "":
        lines.pop()
    for number, line in enumerate(lines, start=1):
        raw = line.split("^")
        if len(raw) != expected_fields:
            raise SR28FormatError(f"{name} line {number}: expected {expected_fields} fields, found {len(raw)}")
        fields = []
        for value in raw:
            if value.startswith("~"):
                if len(value) < 2 or not value.endswith("~"):
                    raise SR28FormatError(f"{name} line {number}: unterminated text field {value!r}")
                value = value[1:-1]
            fields.append(value)
        yield number, fields


def _number(value: str, *, name: str, number: int, what: str) -> float | None:
    if value == "":
        return None
    try:
        result = float(value)
    except ValueError:
        raise SR28FormatError(f"{name} line {number}: {what} {value!r} is not a number") from None
    if not math.isfinite(result) or result < 0:
        raise SR28FormatError(f"{name} line {number}: {what} {value!r} is out of range")
    return result


def _ndb(value: str, *, name: str, number: int) -> str:
    if len(value) != 5 or not value.isdigit():
        raise SR28FormatError(f"{name} line {number}: NDB_No {value!r} is not a 5-digit number")
    return value


def read_sr28(directory: Path, progress: Progress | None = None) -> list[FoodRecord]:
    """Parse FD_GROUP, FOOD_DES, NUT_DATA.txt.gz and WEIGHT into food records (no database access)."""
    say = progress or (lambda message: None)
    directory = Path(directory)

    groups = {}
    for number, fields in _records(directory / "FD_GROUP.txt", 2):
        if len(fields[0]) != 4 or not fields[0].isdigit():
            raise SR28FormatError(f"FD_GROUP.txt line {number}: group code {fields[0]!r} is not 4 digits")
        groups[fields[0]] = fields[1]

    foods: dict[str, FoodRecord] = {}
    for number, fields in _records(directory / "FOOD_DES.txt", 14):
        ndb = _ndb(fields[0], name="FOOD_DES.txt", number=number)
        if fields[1] not in groups:
            raise SR28FormatError(f"FOOD_DES.txt line {number}: unknown food group {fields[1]!r}")
        if not fields[2]:
            raise SR28FormatError(f"FOOD_DES.txt line {number}: the description is empty")
        if ndb in foods:
            raise SR28FormatError(f"FOOD_DES.txt line {number}: NDB_No {ndb} appears twice")
        foods[ndb] = FoodRecord(
            source_id=ndb, name=fields[2][:200], brand=fields[5][:200], food_group=groups[fields[1]]
        )
    say(f"FOOD_DES.txt: {len(foods)} foods")

    values = 0
    for number, fields in _records(directory / "NUT_DATA.txt.gz", 18):
        if number % 200_000 == 0:
            say(f"NUT_DATA.txt.gz: {number} lines read")
        nutrient = NUTRIENT_NUMBERS.get(fields[1])
        ndb = _ndb(fields[0], name="NUT_DATA.txt.gz", number=number)
        if ndb not in foods:
            raise SR28FormatError(f"NUT_DATA.txt.gz line {number}: NDB_No {ndb} is not in FOOD_DES.txt")
        if nutrient is None:
            continue
        value = _number(fields[2], name="NUT_DATA.txt.gz", number=number, what="Nutr_Val")
        if value is not None:
            foods[ndb].nutrients[nutrient] = value
            values += 1
    say(f"NUT_DATA.txt.gz: {values} nutrient values kept")

    portions = 0
    for number, fields in _records(directory / "WEIGHT.txt", 7):
        ndb = _ndb(fields[0], name="WEIGHT.txt", number=number)
        if ndb not in foods:
            raise SR28FormatError(f"WEIGHT.txt line {number}: NDB_No {ndb} is not in FOOD_DES.txt")
        seq = _number(fields[1], name="WEIGHT.txt", number=number, what="Seq")
        amount = _number(fields[2], name="WEIGHT.txt", number=number, what="Amount")
        grams = _number(fields[4], name="WEIGHT.txt", number=number, what="Gm_Wgt")
        if seq is None or amount is None or not grams or not fields[3] or seq != int(seq):
            raise SR28FormatError(f"WEIGHT.txt line {number}: Seq, Amount, Msre_Desc and a positive Gm_Wgt needed")
        foods[ndb].portions.append((int(seq), f"{amount:g} {fields[3]}"[:120], grams))
        portions += 1
    say(f"WEIGHT.txt: {portions} portions")
    return list(foods.values())


def write_compact(records: list[FoodRecord], path: Path = COMPACT_PATH) -> None:
    """Write the compact copy `load_foods` reads: only what the project keeps, gzipped JSON."""
    rows = [
        [
            r.source_id,
            r.name,
            r.brand,
            r.food_group,
            [r.nutrients.get(name) for name in NUTRIENT_FIELDS],
            [list(portion) for portion in r.portions],
        ]
        for r in records
    ]
    document = {"version": COMPACT_VERSION, "source": "USDA SR28", "nutrients": list(NUTRIENT_FIELDS), "foods": rows}
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wt", encoding="utf-8", compresslevel=9) as handle:
        json.dump(document, handle, separators=(",", ":"), ensure_ascii=False)


def read_compact(path: Path = COMPACT_PATH) -> list[FoodRecord]:
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        document = json.load(handle)
    if document.get("version") != COMPACT_VERSION or document.get("nutrients") != list(NUTRIENT_FIELDS):
        raise SR28FormatError(f"{path.name}: not a version {COMPACT_VERSION} compact food file")
    return [
        FoodRecord(
            source_id=source_id,
            name=name,
            brand=brand,
            food_group=group,
            nutrients={key: value for key, value in zip(NUTRIENT_FIELDS, nutrients, strict=True) if value is not None},
            portions=[(seq, description, grams) for seq, description, grams in portions],
        )
        for source_id, name, brand, group, nutrients, portions in document["foods"]
    ]


@dataclass
class StoreResult:
    foods: int
    portions: int
    seconds: float


@transaction.atomic
def store_foods(records: list[FoodRecord], progress: Progress | None = None) -> StoreResult:
    """Upsert public USDA foods and their portions, keyed by NDB number and portion Seq.

    Running it twice leaves the same rows; a food's id never changes once created, so
    diary entries and meals keep pointing at it.
    """
    say = progress or (lambda message: None)
    started = time.monotonic()
    foods = [
        Food(
            user=None,
            source=Food.Source.USDA,
            source_id=r.source_id,
            name=r.name,
            brand=r.brand,
            food_group=r.food_group,
            **{name: r.nutrients.get(name) for name in NUTRIENT_FIELDS},
        )
        for r in records
    ]
    for start in range(0, len(foods), 2000):
        Food.objects.bulk_create(
            foods[start : start + 2000],
            update_conflicts=True,
            unique_fields=["source", "source_id"],
            update_fields=["name", "brand", "food_group", *NUTRIENT_FIELDS, "updated_at"],
        )
        say(f"foods: {min(start + 2000, len(foods))}/{len(foods)}")
    ids = dict(Food.objects.filter(source=Food.Source.USDA).values_list("source_id", "id"))
    portions = [
        FoodPortion(food_id=ids[r.source_id], seq=seq, position=seq, description=description, grams=grams)
        for r in records
        for seq, description, grams in r.portions
    ]
    for start in range(0, len(portions), 5000):
        FoodPortion.objects.bulk_create(
            portions[start : start + 5000],
            update_conflicts=True,
            unique_fields=["food", "seq"],
            update_fields=["description", "grams", "position"],
        )
        say(f"portions: {min(start + 5000, len(portions))}/{len(portions)}")
    return StoreResult(foods=len(foods), portions=len(portions), seconds=time.monotonic() - started)
