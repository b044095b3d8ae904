"""Birth dates from 1900-01-01: the check constraint, after clearing the impossible ones.

A birth date before 1900-01-01 or after today (in UTC+14, where today begins first) was a
typo the API used to accept (0001-01-01 gave an age of 2025 and a negative BMR); it becomes
NULL, as if never given, so the profile asks for it again. Nothing else about the user
changes and no row is deleted. The upper bound moves with the calendar, so only the model's
validator holds it, not the constraint. Reversing drops the constraint; the cleared dates
stay cleared (they were not dates anyone was born on).
"""

import datetime

from django.db import migrations, models


def clear_impossible_birth_dates(apps, schema_editor):
    User = apps.get_model("users", "User")
    today = datetime.datetime.now(datetime.timezone(datetime.timedelta(hours=14))).date()
    impossible = models.Q(birth_date__lt=datetime.date(1900, 1, 1)) | models.Q(birth_date__gt=today)
    User.objects.using(schema_editor.connection.alias).filter(impossible).update(birth_date=None)


class Migration(migrations.Migration):
    dependencies = [
        ("users", "0006_birth_date_bounds"),
    ]

    operations = [
        migrations.RunPython(clear_impossible_birth_dates, migrations.RunPython.noop, elidable=True),
        migrations.AddConstraint(
            model_name="user",
            constraint=models.CheckConstraint(
                condition=models.Q(("birth_date__isnull", True), ("birth_date__gte", datetime.date(1900, 1, 1)), _connector="OR"),
                name="user_birth_date_from_1900",
                violation_error_message="The birth date is before 1900-01-01.",
            ),
        ),
    ]
