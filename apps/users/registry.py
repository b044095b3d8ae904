"""What the other apps contribute to an account, registered from their AppConfig.ready():
users imports no app (docs/ARCHITECTURE.md, "Layers").

- Export sections: the lists of `GET /users/me/export/`, each a key of the document and
  the user's rows under it.
- Demo seeders: what `manage.py seed_demo` fills the demo account with.
- Body metrics: the profile's `bmi`, `bmr_kcal` and `tdee_kcal` (they need the latest weight).
- Account deleters: what removes an app's rows of a deleted account, in bulk.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from django.db.models import Model, QuerySet

    from apps.users.models import User


@dataclass(frozen=True)
class ExportSection:
    name: str
    # The user's rows, in the order the export lists them.
    rows: Callable[[User], QuerySet]
    # Where the section stands in the document: the export's keys keep one order.
    position: int
    # The model of the rows: the section lists its concrete columns (the schema's item type).
    model: type[Model]


_export_sections: dict[str, ExportSection] = {}


def add_export_section(name: str, rows: Callable[[User], QuerySet], *, position: int, model: type[Model]) -> None:
    """List `rows(user)`, rows of `model`, under `name` in the account export (one query per section)."""
    _export_sections[name] = ExportSection(name=name, rows=rows, position=position, model=model)


def export_sections() -> list[ExportSection]:
    return sorted(_export_sections.values(), key=lambda section: section.position)


# seeder(user=, days=) fills the demo account's last `days` local days and says what it did.
DemoSeeder = Callable[..., str]

_demo_seeders: list[DemoSeeder] = []


def add_demo_seeder(seeder: DemoSeeder) -> None:
    """Run `seeder` for the demo account, after those registered before it: the apps' ready()
    run in INSTALLED_APPS order, which lists each app after the apps it depends on."""
    if seeder not in _demo_seeders:
        _demo_seeders.append(seeder)


def demo_seeders() -> list[DemoSeeder]:
    return list(_demo_seeders)


@dataclass(frozen=True)
class BodyMetrics:
    weight_kg: Decimal | None
    bmi: Decimal | None
    bmr_kcal: int | None
    tdee_kcal: int | None


NO_BODY_METRICS = BodyMetrics(weight_kg=None, bmi=None, bmr_kcal=None, tdee_kcal=None)

_body_metrics: Callable[..., BodyMetrics] | None = None


def provide_body_metrics(provider: Callable[..., BodyMetrics]) -> None:
    """`provider(user=)` computes the profile's body metrics (the measurements app's)."""
    global _body_metrics
    _body_metrics = provider


def body_metrics(*, user: User) -> BodyMetrics:
    """The user's body metrics; all None when no app provides them."""
    return NO_BODY_METRICS if _body_metrics is None else _body_metrics(user=user)


# deleter(user=) removes its app's rows of the user in a few set-based statements, inside the
# account deletion's transaction and before the user row goes (what is left then is little for
# Django's Collector, which walks rows one by one where RESTRICT foreign keys are involved).
AccountDeleter = Callable[..., None]

_account_deleters: list[AccountDeleter] = []


def add_account_deleter(deleter: AccountDeleter) -> None:
    """Run `deleter(user=)` when an account is deleted."""
    if deleter not in _account_deleters:
        _account_deleters.append(deleter)


def account_deleters() -> list[AccountDeleter]:
    """The deleters, the last registered first: an app registers after the apps it depends on
    (INSTALLED_APPS order), so its rows, which refer to theirs, go before theirs (goals before
    measurements)."""
    return list(reversed(_account_deleters))
