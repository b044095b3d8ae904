from django.db import migrations

from apps.measurements.builtins import sync_builtin_types


def seed(apps, schema_editor):
    sync_builtin_types(apps.get_model("measurements", "MeasurementType"))


class Migration(migrations.Migration):
    dependencies = [("measurements", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
