"""Goals' part of an account (`apps.users.registry`): its list in the export, the demo
weight goal and the bulk deletion of its rows."""

from apps.goals.demo import seed_demo_goal
from apps.goals.models import Goal
from apps.users import registry
from fithub.db.deletion import delete_rows


def _seed_demo(*, user, days: int) -> str:
    return "a weight goal in place" if seed_demo_goal(user=user, days=days) else "no weight goal (no weights)"


def delete_account_rows(*, user) -> None:
    """The user's goals, before the measurement types they refer to."""
    delete_rows(Goal.objects.filter(user_id=user.pk))


def register() -> None:
    registry.add_export_section(
        "goals", lambda user: Goal.objects.filter(user=user).order_by("created_at"), position=90, model=Goal
    )
    registry.add_demo_seeder(_seed_demo)
    registry.add_account_deleter(delete_account_rows)
