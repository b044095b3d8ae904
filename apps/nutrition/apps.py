from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _ensure_recent_food_triggers(sender, using: str, **kwargs) -> None:
    from apps.nutrition import triggers

    triggers.ensure_installed(using=using)


class NutritionConfig(AppConfig):
    name = "apps.nutrition"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from apps.nutrition import account, sync

        account.register()
        sync.register()
        # Schema upkeep, not domain logic: a migration that rebuilt the diary table on SQLite
        # dropped the triggers that keep the recent foods (apps/nutrition/triggers.py).
        post_migrate.connect(_ensure_recent_food_triggers, sender=self, dispatch_uid="nutrition.recent_food_triggers")
