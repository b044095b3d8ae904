import re
import shutil
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from apps.nutrition import usda
from apps.nutrition.models import Food, FoodPortion

SR28 = Path(settings.BASE_DIR).parent / "shared" / "data" / "usda-sr28"


def _file_lines(name: str) -> int:
    text = (SR28 / name).read_bytes().decode("cp1252")
    return len([line for line in text.split("\r\n") if line])


@pytest.fixture(scope="module")
def sr28_records():
    return usda.read_sr28(SR28)


def test_parser_reads_every_food_and_portion_of_the_files(sr28_records):
    assert len(sr28_records) == _file_lines("FOOD_DES.txt")
    assert sum(len(record.portions) for record in sr28_records) == _file_lines("WEIGHT.txt") == 15438
    butter = next(record for record in sr28_records if record.source_id == "01001")
    assert butter.name == "Butter, salted"
    assert butter.food_group == "Dairy and Egg Products"
    assert butter.nutrients["energy_kcal"] == 717
    assert butter.nutrients["fat_g"] == 81.11
    assert (2, "1 tbsp", 14.2) in butter.portions


def test_parser_decodes_cp1252(sr28_records):
    descriptions = {description for record in sr28_records for _, description, _ in record.portions}
    assert any("é" in description for description in descriptions)


@pytest.mark.django_db
def test_import_is_complete_and_idempotent(tmp_path):
    call_command("import_usda_sr28", str(SR28), stdout=(out := _Buffer()))
    foods, portions = _file_lines("FOOD_DES.txt"), _file_lines("WEIGHT.txt")
    assert Food.objects.filter(source="usda", user__isnull=True).count() == foods
    assert FoodPortion.objects.count() == portions
    assert "NUT_DATA.txt.gz" in out.text  # progress is shown
    ids = dict(Food.objects.values_list("source_id", "id"))

    call_command("import_usda_sr28", str(SR28), stdout=_Buffer())
    assert Food.objects.count() == foods
    assert FoodPortion.objects.count() == portions
    assert dict(Food.objects.values_list("source_id", "id")) == ids  # ids are stable
    chicken = Food.objects.get(source_id="05062")
    assert chicken.name == "Chicken, broiler or fryers, breast, skinless, boneless, meat only, raw"
    assert chicken.protein_g == pytest.approx(22.5)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "line", "corrupt"),
    [
        ("WEIGHT.txt", 7, lambda line: line.replace("^", "^abc^", 1)),
        ("FOOD_DES.txt", 100, lambda line: line.replace("~", "", 1)),
        ("WEIGHT.txt", 15000, lambda line: line.rsplit("^", 3)[0] + "^x^^"),
    ],
)
def test_a_corrupted_copy_changes_nothing_and_names_the_line(tmp_path, name, line, corrupt):
    copy = tmp_path / "sr28"
    shutil.copytree(SR28, copy)
    (copy / name).chmod(0o644)
    lines = (copy / name).read_bytes().decode("cp1252").split("\r\n")
    lines[line - 1] = corrupt(lines[line - 1])
    (copy / name).write_bytes("\r\n".join(lines).encode("cp1252"))
    before = Food.objects.count()
    with pytest.raises(CommandError, match=rf"{re.escape(name)} line {line}"):
        call_command("import_usda_sr28", str(copy), stdout=_Buffer())
    assert Food.objects.count() == before == 0
    assert FoodPortion.objects.count() == 0


@pytest.mark.django_db
def test_a_database_error_rolls_back_everything(monkeypatch):
    records = usda.read_compact()
    records[-1].portions.append((1, "duplicate seq", 10.0))
    records[-1].portions.append((1, "duplicate seq again", 10.0))
    with pytest.raises(Exception):  # noqa: B017, PT011 (the database refuses the second row)
        usda.store_foods(records)
    assert Food.objects.count() == 0


def test_gzip_damage_is_reported(tmp_path):
    copy = tmp_path / "sr28"
    shutil.copytree(SR28, copy)
    (copy / "NUT_DATA.txt.gz").chmod(0o644)
    data = (copy / "NUT_DATA.txt.gz").read_bytes()
    (copy / "NUT_DATA.txt.gz").write_bytes(data[: len(data) // 2])
    with pytest.raises(usda.SR28FormatError, match=r"NUT_DATA\.txt\.gz"):
        usda.read_sr28(copy)


def test_the_compact_copy_matches_the_official_files(sr28_records):
    compact = usda.read_compact()
    assert [(r.source_id, r.name, r.nutrients, r.portions) for r in compact] == [
        (r.source_id, r.name, r.nutrients, r.portions) for r in sr28_records
    ]
    assert usda.COMPACT_PATH.stat().st_size < 2_000_000


@pytest.mark.django_db
def test_load_foods_loads_the_compact_copy_once():
    call_command("load_foods", stdout=(first := _Buffer()))
    assert "Loaded" in first.text
    count = Food.objects.count()
    assert count == len(usda.read_compact())
    call_command("load_foods", stdout=(second := _Buffer()))
    assert "already loaded" in second.text
    assert Food.objects.count() == count


class _Buffer:
    def __init__(self):
        self.text = ""

    def write(self, text):
        self.text += text

    def flush(self):
        pass
