"""Migrate: each portion's place in its food's list is its seq, as the list was ordered
before. Rows written meanwhile by the new code already have a position."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("nutrition", "0006_foodportion_position_expand")]

    operations = [
        migrations.RunSQL(
            "UPDATE nutrition_foodportion SET position = seq WHERE position IS NULL",
            reverse_sql=migrations.RunSQL.noop,
        ),
    ]
