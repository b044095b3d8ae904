"""Expand: a place in the food's list for each portion, apart from its seq (which the USDA
import upserts by and which never changes). Nullable until every row has one (0007);
0008 then makes it required."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('nutrition', '0005_archive_foods_and_portions'),
    ]

    operations = [
        migrations.AlterModelOptions(
            name='foodportion',
            options={'ordering': ['food', models.OrderBy(models.F('archived_at'), nulls_first=True), 'position', 'id']},
        ),
        migrations.AddField(
            model_name='foodportion',
            name='position',
            field=models.PositiveSmallIntegerField(help_text="Order among the food's portions.", null=True),
        ),
    ]
