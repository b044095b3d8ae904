"""The user-owned types of the sync feed, one entry per `type`, registered by their apps from
their AppConfig.ready() (fithub imports no app: docs/ARCHITECTURE.md, "Layers").

An entry names the model (its table's changes are logged under this type by the triggers
its migration installs: `fithub.db.change_log.TrackChanges`), the serializer of the
resource's own endpoint (the feed's `data`), the user's rows as that endpoint reads them
(with the joins and annotations the serializer needs), and an example of the
representation for the schema. `tests/fithub/test_sync_registry.py` fails when an owned
model has no entry, or an entry's table logs nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from django.db.models import Model, QuerySet
    from rest_framework.serializers import Serializer


@dataclass(frozen=True)
class SyncType:
    name: str  # the feed's `type`
    model: type[Model]
    serializer: type[Serializer]
    # rows(user): the user's rows of this type as the resource's endpoint shows them.
    rows: Callable[[Any], QuerySet]
    example: dict  # a representation, for the schema's example of the feed
    description: str = ""


_types: dict[str, SyncType] = {}


def register(
    name: str,
    *,
    model: type[Model],
    serializer: type[Serializer],
    rows: Callable[[Any], QuerySet],
    example: dict,
    description: str = "",
) -> None:
    """Serve the changes logged as `name` in the feed, each upsert as `serializer` shows the
    row `rows(user)` gives for its id."""
    existing = _types.get(name)
    if existing is not None and existing.model is not model:
        raise ValueError(f"The sync type {name!r} is already {existing.model.__name__}'s.")
    _types[name] = SyncType(name, model, serializer, rows, example, description)


def types() -> dict[str, SyncType]:
    """Every registered type by name, in the order they were registered (INSTALLED_APPS order)."""
    return dict(_types)


def type_of(model: type[Model]) -> SyncType | None:
    """The entry of a model (its concrete model, for a proxy), if it has one."""
    concrete = model._meta.concrete_model
    return next((entry for entry in _types.values() if entry.model is concrete), None)
