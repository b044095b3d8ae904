"""Goals' part of an account (`apps.users.registry`): its list in the export and the demo
weight goal."""

from apps.goals.demo import seed_demo_goal
from apps.goals.models import Goal
from apps.users import registry


def _seed_demo(*, user, days: int) -> str:
    return "a weight goal in place" if seed_demo_goal(user=user, days=days) else "no weight goal (no weights)"


def register() -> None:
    registry.add_export_section(
        "goals", lambda user: Goal.objects.filter(user=user).order_by("created_at"), position=90
    )
    registry.add_demo_seeder(_seed_demo)
