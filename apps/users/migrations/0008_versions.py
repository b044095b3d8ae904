# The profile (the user row) gets a version and joins the change log as `profile`; every
# user gets a change counter (fithub.db.change_log).

from django.db import migrations, models

from fithub.db.change_log import BackfillChanges, TrackChanges


class Migration(migrations.Migration):

    dependencies = [
        ('users', '0007_birth_date_from_1900'),
        ('fithub', '0003_change_log'),
    ]

    operations = [
        migrations.AddField(
            model_name='user',
            name='version',
            field=models.PositiveIntegerField(db_default=1, default=1, editable=False, help_text='1 when created, one more on every change.'),
        ),
        TrackChanges(table='users_user', type='profile', user_column='id', id_column='id', creates_sequences=True),
        BackfillChanges(table='users_user', type='profile', user_column='id', id_column='id', creates_sequences=True),
    ]
