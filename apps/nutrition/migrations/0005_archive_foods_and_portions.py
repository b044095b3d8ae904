"""Foods and portions in use are archived, not deleted: `archived_at`, and RESTRICT on the
foreign keys of diary entries and meal items (SET_NULL and CASCADE emptied them). The
database's own foreign keys were already NO ACTION: only Django's handling changes."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('nutrition', '0004_nutrition_target_from_goals'),
    ]

    operations = [
        migrations.AddField(
            model_name='food',
            name='archived_at',
            field=models.DateTimeField(blank=True, help_text='When it was deleted while diary entries or saved meals used it.', null=True),
        ),
        migrations.AddField(
            model_name='foodportion',
            name='archived_at',
            field=models.DateTimeField(blank=True, help_text='When it was removed from its food while diary entries used it.', null=True),
        ),
        migrations.AlterField(
            model_name='diaryentry',
            name='food',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.RESTRICT, related_name='+', to='nutrition.food'),
        ),
        migrations.AlterField(
            model_name='diaryentry',
            name='portion',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.RESTRICT, related_name='+', to='nutrition.foodportion'),
        ),
        migrations.AlterField(
            model_name='foodportion',
            name='seq',
            field=models.PositiveSmallIntegerField(default=1, help_text="The portion's number within its food; never reused."),
        ),
        migrations.AlterField(
            model_name='mealitem',
            name='food',
            field=models.ForeignKey(on_delete=django.db.models.deletion.RESTRICT, related_name='+', to='nutrition.food'),
        ),
    ]
