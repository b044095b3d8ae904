"""manage.py import_usda_sr28 <dir>: load the USDA SR28 flat files into the public food database."""

import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from apps.nutrition import usda


class Command(BaseCommand):
    help = (
        "Import the USDA SR28 foods, nutrients and portions from a directory of the official flat files "
        "(FD_GROUP.txt, FOOD_DES.txt, NUT_DATA.txt.gz, WEIGHT.txt). Idempotent, all or nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("directory", type=Path, help="The directory holding the SR28 files.")
        parser.add_argument(
            "--write-compact",
            nargs="?",
            const=usda.COMPACT_PATH,
            type=Path,
            metavar="PATH",
            help=f"Also write the compact copy that load_foods reads (default {usda.COMPACT_PATH.name}).",
        )
        parser.add_argument("--no-database", action="store_true", help="Only parse (and write the compact copy).")

    def handle(self, *args, directory: Path, write_compact: Path | None, no_database: bool, **options):
        started = time.monotonic()
        try:
            records = usda.read_sr28(directory, progress=self._say)
        except usda.SR28FormatError as exc:
            raise CommandError(f"Nothing was imported: {exc}") from exc
        self._say(f"parsed in {time.monotonic() - started:.1f} s")
        if write_compact is not None:
            usda.write_compact(records, write_compact)
            self._say(f"wrote {write_compact} ({write_compact.stat().st_size / 1e6:.1f} MB)")
        if no_database:
            return
        result = usda.store_foods(records, progress=self._say)
        self.stdout.write(
            self.style.SUCCESS(
                f"Imported {result.foods} foods and {result.portions} portions "
                f"in {time.monotonic() - started:.1f} s (database {result.seconds:.1f} s)."
            )
        )

    def _say(self, message: str) -> None:
        self.stdout.write(message)
        self.stdout.flush()
