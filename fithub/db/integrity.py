"""Turning a unique-constraint race into a validation error.

`full_clean()` checks unique constraints with a SELECT, so two simultaneous requests can
both pass it and the second INSERT then fails with an IntegrityError. `save_or_conflict`
saves in a savepoint and answers that case like the check would have (a 400 with the
constraint's message), instead of a 500.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction


def violated_constraint(exc: IntegrityError) -> str | None:
    """The name of the constraint an IntegrityError violated (PostgreSQL), else None."""
    diag = getattr(exc.__cause__, "diag", None)
    return getattr(diag, "constraint_name", None)


def save_or_conflict(instance: models.Model, *, constraints: dict[str, str], **save_kwargs) -> None:
    """Save `instance`; if the database refuses it for one of `constraints` (name ->
    message), raise a ValidationError (code `unique`, about no single field: attr null) instead. Other
    integrity errors (such as a concurrent create of the same client-chosen id) propagate."""
    try:
        with transaction.atomic():
            instance.save(**save_kwargs)
    except IntegrityError as exc:
        name = violated_constraint(exc)
        if name in constraints:
            raise ValidationError(constraints[name], code="unique") from exc
        raise
