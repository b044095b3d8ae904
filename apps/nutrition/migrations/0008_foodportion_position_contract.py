"""Contract: every portion has a position (0007), so it is required from now on."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('nutrition', '0007_foodportion_position_migrate'),
    ]

    operations = [
        migrations.AlterField(
            model_name='foodportion',
            name='position',
            field=models.PositiveSmallIntegerField(default=1, help_text="Order among the food's portions."),
        ),
    ]
