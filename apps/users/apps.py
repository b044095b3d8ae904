from django.apps import AppConfig


class UsersConfig(AppConfig):
    name = "apps.users"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from apps.users import signals

        signals.connect()
