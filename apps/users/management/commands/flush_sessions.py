"""manage.py flush_sessions: delete the rows of sessions that ended, or whose refresh token
expired, more than the retention period ago (SESSION_RETENTION_DAYS, 30 by default).

Nothing a client holds changes: a session's tokens are refused once it has ended or expired,
and a missing row refuses them as an ended one does (`fithub.models.Session`). The audit
trail is `SecurityEvent`, which this leaves alone. Run it daily; it is idempotent."""

from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q
from django.utils import timezone

from fithub.models import Session


def flush_sessions(*, retention: timedelta, batch_size: int = 1000) -> int:
    """Delete the sessions ended or expired before now - `retention`, `batch_size` rows a
    statement (each its own transaction: short locks, a replica that keeps up). The number."""
    cutoff = timezone.now() - retention
    stale = Session.objects.filter(Q(ended_at__lt=cutoff) | Q(expires_at__lt=cutoff))
    deleted = 0
    while True:
        batch = list(stale.order_by().values_list("pk", flat=True)[:batch_size])
        if not batch:
            return deleted
        deleted += Session.objects.filter(pk__in=batch).delete()[0]


class Command(BaseCommand):
    help = "Delete the sessions that ended or expired longer ago than the retention period."

    def add_arguments(self, parser):
        parser.add_argument(
            "--days",
            type=int,
            default=settings.SESSION_RETENTION_DAYS,
            help="Keep sessions ended or expired within this many days (default SESSION_RETENTION_DAYS, %(default)s).",
        )
        parser.add_argument("--batch-size", type=int, default=1000, help="Rows deleted a statement (%(default)s).")

    def handle(self, *args, days: int, batch_size: int, **options):
        if days < 0:
            raise CommandError("--days cannot be negative.")
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        deleted = flush_sessions(retention=timedelta(days=days), batch_size=batch_size)
        self.stdout.write(f"Deleted {deleted} session(s) ended or expired more than {days} day(s) ago.")
