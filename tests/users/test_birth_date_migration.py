"""Migration users 0007: impossible birth dates become NULL, the user and every other birth
date stay, then the database refuses a birth date before 1900."""

import datetime as dt

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

from apps.users.models import User

pytestmark = pytest.mark.django_db(transaction=True)
BEFORE = [("users", "0006_birth_date_bounds")]


def _migrate(targets) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return MigrationExecutor(connection)


def test_impossible_birth_dates_are_cleared_and_then_refused():
    born = {"year1@example.com": dt.date(1, 1, 1), "future@example.com": dt.date(9999, 12, 31),
            "real@example.com": dt.date(1990, 4, 12), "oldest@example.com": dt.date(1900, 1, 1),
            "none@example.com": None}  # fmt: skip
    try:
        old_apps = _migrate(BEFORE).loader.project_state(BEFORE).apps
        old_user = old_apps.get_model("users", "User")
        for email, birth_date in born.items():
            old_user.objects.create(email=email, password="x", birth_date=birth_date)
    finally:
        _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
    kept = dict(User.objects.filter(email__in=born).values_list("email", "birth_date"))
    assert kept == {**born, "year1@example.com": None, "future@example.com": None}
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.filter(email="real@example.com").update(birth_date=dt.date(1899, 12, 31))
