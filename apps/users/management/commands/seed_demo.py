"""manage.py seed_demo: a demo account with a month of diary and measurements (idempotent).

The data comes from the seeders the apps register (`apps.users.registry`)."""

import datetime

from django.conf import settings
from django.core.management.base import BaseCommand

from apps.users import registry
from apps.users.models import User

DEMO_EMAIL = "demo@fithub.example"
DEMO_PASSWORD = "fithub-demo-password"  # noqa: S105 (documented in README.md: a public demo login)


class Command(BaseCommand):
    help = f"Create the demo account ({DEMO_EMAIL}) if missing and fill its diary. Safe to run again."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=30, help="How many recent days of diary to fill.")
        parser.add_argument("--force", action="store_true", help="Seed even when DEBUG is off.")

    def handle(self, *args, days: int, force: bool, **options):
        if not settings.DEBUG and not force:
            # A known password must not appear on a real deployment by accident.
            self.stdout.write("DEBUG is off: not creating the demo account (use --force to create it anyway).")
            return
        user = User.objects.filter(email=DEMO_EMAIL).first()
        if user is None:
            user = User.objects.create_user(
                email=DEMO_EMAIL,
                password=DEMO_PASSWORD,
                display_name="Demo",
                timezone="Europe/London",
                sex=User.Sex.FEMALE,
                birth_date=datetime.date(1990, 4, 12),
                height_cm=168,
                activity_level=User.ActivityLevel.MODERATE,
            )
            self.stdout.write(f"Created the demo account {DEMO_EMAIL}.")
        days = max(0, min(days, 366))
        done = [seed(user=user, days=days) for seed in registry.demo_seeders()]
        self.stdout.write(
            self.style.SUCCESS(f"Demo data: {'; '.join(done)}. Log in as {DEMO_EMAIL} / {DEMO_PASSWORD}.")
        )
