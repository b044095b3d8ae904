from django.apps import AppConfig


class UsersConfig(AppConfig):
    name = "apps.users"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Registers fithub.api.authentication's TokenUser, a proxy of User in this app, before
        # anything (the migration autodetector) reads the models.
        import fithub.api.authentication  # noqa: F401
        from apps.users import sync

        sync.register()
