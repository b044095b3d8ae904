from django.apps import AppConfig


class MeasurementsConfig(AppConfig):
    name = "apps.measurements"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from apps.measurements import account, sync

        account.register()
        sync.register()
