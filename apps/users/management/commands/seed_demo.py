"""manage.py seed_demo: a demo account with a month of diary, for trying the API (idempotent)."""

from django.core.management.base import BaseCommand

from apps.nutrition.demo import seed_demo_diary
from apps.users.models import User

DEMO_EMAIL = "demo@fithub.example"
DEMO_PASSWORD = "fithub-demo-password"  # noqa: S105 (documented in README.md: a public demo login)


class Command(BaseCommand):
    help = f"Create the demo account ({DEMO_EMAIL}) if missing and fill its diary. Safe to run again."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=30, help="How many recent days of diary to fill.")

    def handle(self, *args, days: int, **options):
        user = User.objects.filter(email=DEMO_EMAIL).first()
        if user is None:
            user = User.objects.create_user(
                email=DEMO_EMAIL, password=DEMO_PASSWORD, display_name="Demo", timezone="Europe/London"
            )
            self.stdout.write(f"Created the demo account {DEMO_EMAIL}.")
        created = seed_demo_diary(user=user, days=max(0, min(days, 366)))
        self.stdout.write(
            self.style.SUCCESS(f"Demo diary: {created} entries added. Log in as {DEMO_EMAIL} / {DEMO_PASSWORD}.")
        )
