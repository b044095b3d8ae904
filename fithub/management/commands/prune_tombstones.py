from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from fithub.db.change_log import prune_tombstones


class Command(BaseCommand):
    help = (
        "Delete the sync feed's tombstones older than SYNC_TOMBSTONE_DAYS (at least 90); a client whose "
        "cursor is older then gets 410 and syncs from scratch. Run it daily."
    )

    def handle(self, *args, **options) -> None:
        days = settings.SYNC_TOMBSTONE_DAYS
        pruned = prune_tombstones(before=timezone.now() - timedelta(days=days))
        self.stdout.write(f"{pruned} tombstones older than {days} days pruned")
