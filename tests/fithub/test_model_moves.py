"""Models whose state moved to another app keep their table, their rows and their content type.

Each test migrates back to before the move, writes rows with the models as they were then,
migrates forward again and reads the rows with today's models.
"""

import pytest
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from fithub.models import IdempotencyRecord

pytestmark = pytest.mark.django_db(transaction=True)


def _migrate(targets) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return MigrationExecutor(connection)  # a fresh loader sees what is applied now


def _latest():
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


def _user(old_apps):
    return old_apps.get_model("users", "User").objects.create(email="moved@example.com", password="x")


def test_idempotency_records_move_from_users_to_fithub_with_their_rows():
    moved = ContentType.objects.get_for_model(IdempotencyRecord)
    permissions = set(Permission.objects.filter(content_type=moved).values_list("pk", flat=True))
    before = [("users", "0003_token_user")]
    try:
        old_apps = _migrate(before).loader.project_state(before).apps
        user = _user(old_apps)
        old_apps.get_model("users", "IdempotencyRecord").objects.create(
            user=user, key="k-1", fingerprint="f" * 64, response_status=201, response_body={"id": 1}
        )
        assert old_apps.get_model("contenttypes", "ContentType").objects.get(pk=moved.pk).app_label == "users"
    finally:
        _migrate(_latest())
    record = IdempotencyRecord.objects.get()
    assert (record.user.email, record.key, record.response_status, record.response_body) == (
        "moved@example.com",
        "k-1",
        201,
        {"id": 1},
    )
    ContentType.objects.clear_cache()
    assert ContentType.objects.get(pk=moved.pk).app_label == "fithub"
    assert set(Permission.objects.filter(content_type=moved).values_list("pk", flat=True)) == permissions
