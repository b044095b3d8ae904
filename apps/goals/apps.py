from django.apps import AppConfig


class GoalsConfig(AppConfig):
    name = "apps.goals"
    default_auto_field = "django.db.models.BigAutoField"
