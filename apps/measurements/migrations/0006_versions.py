# Versions for the user's measurement types (built-in ones have no owner) and measurements,
# and their changes in the change log (fithub.db.change_log). A weight changes the profile
# (bmi, bmr_kcal and tdee_kcal come from the latest one).

from django.db import migrations, models

from fithub.db.change_log import BackfillChanges, BumpOnChange, TrackChanges

TRACKED = [('measurements_measurementtype', 'measurement_type'), ('measurements_measurement', 'measurement')]
WEIGHT = "{row}.type_id IN (SELECT id FROM measurements_measurementtype WHERE key = 'weight' AND user_id IS NULL)"


class Migration(migrations.Migration):

    dependencies = [
        ('measurements', '0005_measured_at_bounds'),
        ('users', '0008_versions'),
        ('fithub', '0003_change_log'),
    ]

    operations = [
        migrations.AddField(
            model_name='measurement',
            name='version',
            field=models.PositiveIntegerField(db_default=1, default=1, editable=False, help_text='1 when created, one more on every change.'),
        ),
        migrations.AddField(
            model_name='measurementtype',
            name='version',
            field=models.PositiveIntegerField(db_default=1, default=1, editable=False, help_text='1 when created, one more on every change.'),
        ),
        *[TrackChanges(table=table, type=type) for table, type in TRACKED],
        BumpOnChange(
            name='weight_profile',
            table='measurements_measurement',
            target='users_user',
            column='user_id',
            columns=['value', 'measured_at', 'type_id', 'user_id'],
            when=WEIGHT,
        ),
        *[BackfillChanges(table=table, type=type) for table, type in TRACKED],
    ]
