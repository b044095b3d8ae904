"""manage.py load_foods: load the bundled compact copy of the USDA food database (no ../shared needed)."""

import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from apps.nutrition import usda
from apps.nutrition.models import Food, FoodPortion


class Command(BaseCommand):
    help = "Load the public food database from the project's compact copy. Skips the work when already loaded."

    def add_arguments(self, parser):
        parser.add_argument("--path", type=Path, default=usda.COMPACT_PATH, help="The compact file to read.")
        parser.add_argument("--force", action="store_true", help="Upsert every food even when counts match.")

    def handle(self, *args, path: Path, force: bool, **options):
        started = time.monotonic()
        try:
            records = usda.read_compact(path)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise CommandError(f"Cannot read {path}: {exc}") from exc
        portions = sum(len(record.portions) for record in records)
        loaded_foods = Food.objects.filter(source=Food.Source.USDA).count()
        loaded_portions = FoodPortion.objects.filter(food__source=Food.Source.USDA).count()
        if not force and (loaded_foods, loaded_portions) == (len(records), portions):
            self.stdout.write(
                f"The food database is already loaded ({loaded_foods} foods, {loaded_portions} portions)."
            )
            return
        result = usda.store_foods(records)
        self.stdout.write(
            self.style.SUCCESS(
                f"Loaded {result.foods} foods and {result.portions} portions in {time.monotonic() - started:.1f} s."
            )
        )
