from django.apps import AppConfig


class NutritionConfig(AppConfig):
    name = "apps.nutrition"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from apps.nutrition import account

        account.register()
