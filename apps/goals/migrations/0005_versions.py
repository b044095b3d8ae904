# Versions for goals, and their changes in the change log (fithub.db.change_log).

from django.db import migrations, models

from fithub.db.change_log import BackfillChanges, TrackChanges


class Migration(migrations.Migration):

    dependencies = [
        ('goals', '0004_goal_type_restrict'),
        ('users', '0008_versions'),
        ('fithub', '0003_change_log'),
    ]

    operations = [
        migrations.AddField(
            model_name='goal',
            name='version',
            field=models.PositiveIntegerField(db_default=1, default=1, editable=False, help_text='1 when created, one more on every change.'),
        ),
        TrackChanges(table='goals_goal', type='goal'),
        BackfillChanges(table='goals_goal', type='goal'),
    ]
