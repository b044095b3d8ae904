"""Reads on accounts."""

from typing import Any

from django.db.models import Field, Model, QuerySet
from django.db.models.functions import Now
from django.utils import timezone

from apps.users import registry
from apps.users.models import User
from fithub.models import Session

EXPORT_FORMAT_VERSION = 1


def export_columns(model: type[Model]) -> list[Field]:
    """The columns of `model` an export lists: the stored ones, without the owner and without
    derived (generated) columns. A foreign key is listed as its `_id` column."""
    return [field for field in model._meta.concrete_fields if field.attname != "user_id" and not field.generated]


def _rows(queryset) -> list[dict[str, Any]]:
    """The export's columns of each row."""
    return list(queryset.values(*(field.attname for field in export_columns(queryset.model))))


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


def live_sessions() -> QuerySet[Session]:
    """Sessions neither ended nor past their refresh token's expiry, the most recently used
    first (scoped to the caller by the viewset)."""
    return Session.objects.filter(ended_at__isnull=True, expires_at__gt=Now()).order_by("-last_used_at", "-id")
