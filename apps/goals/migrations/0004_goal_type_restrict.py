"""Goals keep their measurement type: RESTRICT (archived when in use, never deleted from under them)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('goals', '0003_nutrition_target_to_nutrition'),
        ('measurements', '0003_archive_custom_types'),
    ]

    operations = [
        migrations.AlterField(
            model_name='goal',
            name='type',
            field=models.ForeignKey(on_delete=django.db.models.deletion.RESTRICT, related_name='goals', to='measurements.measurementtype'),
        ),
    ]
