from django.apps import AppConfig


class GoalsConfig(AppConfig):
    name = "apps.goals"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from apps.goals import account, services, sync
        from apps.measurements import registry as measurements

        measurements.on_recorded(services.achieve_reached_goals)
        account.register()
        sync.register()
