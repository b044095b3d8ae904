from django.apps import AppConfig


class UsersConfig(AppConfig):
    name = "apps.users"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Also registers fithub.api.authentication's TokenUser, a proxy of User in this app,
        # before anything (the migration autodetector) reads the models.
        from apps.users import signals

        signals.connect()
