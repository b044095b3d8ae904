"""Every user-owned model joins the sync feed: a registry entry (fithub.sync.registry) and
the triggers of its migration (fithub.db.change_log) that log its rows under that type.

A new owned model (an OwnedModel subclass, or a row maker in test_isolation's OWNED_ROWS)
fails here until it has both, or is listed in NOT_SYNCED with the reason."""

import pytest
from django.apps import apps
from django.db import connection

from apps.users.models import User
from fithub.models import Change, OwnedModel
from fithub.sync import registry
from tests.fithub.test_isolation import NOT_SYNCED, OWNED_ROWS
from tests.users.factories import UserFactory

pytestmark = pytest.mark.django_db

OWNED = {model for model in apps.get_models() if issubclass(model, OwnedModel)} | set(OWNED_ROWS) | {User}
SYNCED = OWNED - set(NOT_SYNCED)


def test_every_owned_model_has_an_entry():
    registered = {entry.model for entry in registry.types().values()}
    missing = {model.__name__ for model in SYNCED if model not in registered}
    assert not missing, f"register these in their app's sync.py: {sorted(missing)}"
    assert registered <= OWNED
    assert {model: registry.type_of(model).model for model in SYNCED} == {model: model for model in SYNCED}


def test_every_entry_has_a_version_and_its_tables_triggers():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, t.tgname FROM pg_trigger AS t JOIN pg_class AS c ON c.oid = t.tgrelid "
            "WHERE NOT t.tgisinternal AND t.tgname LIKE 'fithub_changes_%%'"
        )
        triggers: dict[str, set[str]] = {}
        for table, name in cursor.fetchall():
            triggers.setdefault(table, set()).add(name)
    expected = {"fithub_changes_version", "fithub_changes_insert", "fithub_changes_update", "fithub_changes_delete"}
    for name, entry in registry.types().items():
        entry.model._meta.get_field("version")
        assert triggers.get(entry.model._meta.db_table) == expected, name


@pytest.mark.parametrize("model", sorted(SYNCED - {User}, key=lambda m: m.__name__), ids=lambda m: m.__name__)
def test_a_new_row_is_logged_under_its_type(model, builtin_types):
    user = UserFactory()
    row = OWNED_ROWS[model](user)
    logged = Change.objects.get(user_id=user.pk, object_id=row.pk)
    assert logged.type == registry.type_of(model).name
    assert logged.op == "upsert"
    assert logged.version == model.objects.get(pk=row.pk).version


def test_the_profile_is_logged_as_its_user():
    user = UserFactory()
    assert Change.objects.get(user_id=user.pk, object_id=user.pk).type == "profile"
