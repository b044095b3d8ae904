"""Models whose state moved to another app keep their table, their rows and their content type.

Each test migrates back to before the move, writes rows with the models as they were then,
migrates forward again and reads the rows with today's models.
"""

import pytest
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from apps.nutrition.models import NutritionTarget
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


def test_nutrition_targets_move_from_goals_to_nutrition_with_their_rows():
    moved = ContentType.objects.get_for_model(NutritionTarget)
    permissions = set(Permission.objects.filter(content_type=moved).values_list("pk", flat=True))
    assert permissions  # add, change, delete, view: what staff may have been granted
    before = [("goals", "0002_nutrition_target")]
    try:
        old_apps = _migrate(before).loader.project_state(before).apps
        user = _user(old_apps)
        old = old_apps.get_model("goals", "NutritionTarget")
        old.objects.create(user=user, energy_kcal=2100, protein_g=140, effective_from="2026-11-01")
        old.objects.create(user=user, energy_kcal=1900, effective_from="2026-11-15")
        assert old_apps.get_model("contenttypes", "ContentType").objects.get(pk=moved.pk).app_label == "goals"
    finally:
        _migrate(_latest())
    rows = NutritionTarget.objects.filter(user__email="moved@example.com").order_by("effective_from")
    assert [(str(t.effective_from), t.energy_kcal, t.protein_g) for t in rows] == [
        ("2026-11-01", 2100, 140),
        ("2026-11-15", 1900, None),
    ]
    ContentType.objects.clear_cache()
    assert ContentType.objects.get(pk=moved.pk).app_label == "nutrition"
    assert set(Permission.objects.filter(content_type=moved).values_list("pk", flat=True)) == permissions


def test_the_moves_change_no_table():
    """State-only migrations: they send no SQL (RunPython aside, which renames the content type)."""
    loader = MigrationExecutor(connection).loader
    for app, name in [
        ("users", "0004_idempotency_record_to_fithub"),
        ("fithub", "0001_idempotency_record_from_users"),
        ("goals", "0003_nutrition_target_to_nutrition"),
        ("nutrition", "0004_nutrition_target_from_goals"),
    ]:
        for backwards in (False, True):
            statements = loader.collect_sql([(loader.get_migration(app, name), backwards)])
            assert [sql for sql in statements if not sql.startswith("--")] == [], (app, name, backwards)


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
