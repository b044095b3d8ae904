"""manage.py flush_sessions deletes the sessions ended or expired before the retention period."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from fithub.api.tokens import pair_for
from fithub.models import Session
from tests.users.factories import SessionFactory

pytestmark = pytest.mark.django_db


def flush(*args) -> str:
    out = StringIO()
    call_command("flush_sessions", *args, stdout=out)
    return out.getvalue()


def ended(days_ago: float, **fields) -> Session:
    return SessionFactory(
        ended_at=timezone.now() - timedelta(days=days_ago), end_reason=Session.EndReason.LOGOUT, **fields
    )


def expired(days_ago: float) -> Session:
    at = timezone.now() - timedelta(days=days_ago)
    return SessionFactory(rotated_at=at - timedelta(days=14), expires_at=at, last_used_at=at - timedelta(days=14))


@pytest.fixture
def sessions():
    return {
        "live": SessionFactory(),
        "ended_lately": ended(29),
        "expired_lately": expired(29),
        "ended_long_ago": ended(31),
        "expired_long_ago": expired(31),
        "ended_long_ago_2": ended(45),
        "both_long_ago": ended(40, expires_at=timezone.now() - timedelta(days=35)),
    }


def test_it_deletes_what_ended_or_expired_before_the_retention_and_says_how_many(sessions):
    assert flush("--batch-size", "2") == "Deleted 4 session(s) ended or expired more than 30 day(s) ago.\n"
    kept = set(Session.objects.values_list("pk", flat=True))
    assert kept == {sessions[name].pk for name in ("live", "ended_lately", "expired_lately")}


def test_it_is_idempotent(sessions):
    flush()
    assert flush().startswith("Deleted 0 session(s)")
    assert Session.objects.count() == 3


def test_the_retention_is_an_option(sessions):
    assert flush("--days", "28").startswith("Deleted 6 ")
    assert list(Session.objects.values_list("pk", flat=True)) == [sessions["live"].pk]
    assert flush("--days", "0").startswith("Deleted 0 ")  # a live session is never deleted


def test_it_deletes_in_batches_of_the_size_given(sessions):
    with CaptureQueriesContext(connection) as queries:
        flush("--batch-size", "3")
    deletes = [query["sql"] for query in queries if query["sql"].startswith("DELETE")]
    assert len(deletes) == 2  # 3 + 1 rows, then a SELECT that finds none


def test_a_flushed_sessions_tokens_are_still_refused(api_client):
    session = ended(31)
    pair = pair_for(session)
    flush()
    assert not Session.objects.filter(pk=session.pk).exists()
    assert api_client.post(reverse("auth-token-refresh"), {"refresh": pair.refresh}).status_code == 401
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {pair.access}")
    assert api_client.get(reverse("users-me")).status_code == 401


@pytest.mark.parametrize("args", [("--days", "-1"), ("--batch-size", "0")])
def test_nonsense_options_are_refused(args):
    with pytest.raises(CommandError):
        flush(*args)
