"""Custom measurement types in use are archived, not deleted: `archived_at`, RESTRICT on
the measurements' foreign key, and names unique among a user's active types only. The new
(weaker) name constraint is made before the old one is dropped, so names stay unique
throughout; the index is on a small table."""

import django.db.models.deletion
import django.db.models.functions.text
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('measurements', '0002_seed_builtin_types'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='measurementtype',
            name='archived_at',
            field=models.DateTimeField(blank=True, help_text='When it was deleted while measurements or goals used it.', null=True),
        ),
        migrations.AlterField(
            model_name='measurement',
            name='type',
            field=models.ForeignKey(on_delete=django.db.models.deletion.RESTRICT, related_name='measurements', to='measurements.measurementtype'),
        ),
        migrations.AddConstraint(
            model_name='measurementtype',
            constraint=models.UniqueConstraint(models.F('user'), django.db.models.functions.text.Lower('name'), condition=models.Q(('archived_at__isnull', True)), name='measurementtype_user_active_name_unique', violation_error_code='unique', violation_error_message='You already have a measurement type with this name.'),
        ),
        migrations.RemoveConstraint(
            model_name='measurementtype',
            name='measurementtype_user_name_unique',
        ),
    ]
