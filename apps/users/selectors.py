"""Reads on accounts."""

from typing import Any

from django.utils import timezone

from apps.users import registry
from apps.users.models import User

EXPORT_FORMAT_VERSION = 1


def _rows(queryset) -> list[dict[str, Any]]:
    """The stored columns of each row, without the owner and without derived (generated) columns."""
    columns = [
        field.attname
        for field in queryset.model._meta.concrete_fields
        if field.attname != "user_id" and not field.generated
    ]
    return list(queryset.values(*columns))


def export_user_data(*, user: User) -> dict[str, Any]:
    """Everything the user owns, one list per kind of row (the sections the apps register in
    `registry`): one query per table, whatever the amount of data. Quantities are metric,
    times UTC (ISO 8601)."""
    return {
        "format": "fithub-export",
        "version": EXPORT_FORMAT_VERSION,
        "exported_at": timezone.now(),
        **{section.name: _rows(section.rows(user)) for section in registry.export_sections()},
    }
