# The model comes from the goals app (goals 0002 made its table, which keeps its name):
# it enters this app's migration state only, and keeps its content type.

import django.db.models.deletion
import fithub.models
from django.conf import settings
from django.db import migrations, models

from fithub.db.moves import CONTENT_TYPES_DEPENDENCY, move_content_type


class Migration(migrations.Migration):

    dependencies = [
        ('nutrition', '0003_food_search_name'),
        ('goals', '0003_nutrition_target_to_nutrition'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        CONTENT_TYPES_DEPENDENCY,
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='NutritionTarget',
                    fields=[
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('updated_at', models.DateTimeField(auto_now=True)),
                        ('id', models.UUIDField(default=fithub.models.new_id, editable=False, primary_key=True, serialize=False)),
                        ('energy_kcal', models.DecimalField(decimal_places=1, max_digits=7)),
                        ('protein_g', models.DecimalField(blank=True, decimal_places=1, max_digits=6, null=True)),
                        ('fat_g', models.DecimalField(blank=True, decimal_places=1, max_digits=6, null=True)),
                        ('carbohydrate_g', models.DecimalField(blank=True, decimal_places=1, max_digits=6, null=True)),
                        ('effective_from', models.DateField(help_text='The first local day this target applies to.')),
                        ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'db_table': 'goals_nutritiontarget',
                        'ordering': ['-effective_from'],
                        'constraints': [models.UniqueConstraint(fields=('user', 'effective_from'), name='nutritiontarget_one_per_user_per_date', violation_error_message='A target already takes effect on this date.'), models.CheckConstraint(condition=models.Q(('energy_kcal__gt', 0), ('energy_kcal__lte', 20000)), name='nutritiontarget_energy_range', violation_error_message='energy_kcal must be above 0 and at most 20000.'), models.CheckConstraint(condition=models.Q(models.Q(('protein_g__isnull', True), models.Q(('protein_g__gte', 0), ('protein_g__lte', 2000)), _connector='OR'), models.Q(('fat_g__isnull', True), models.Q(('fat_g__gte', 0), ('fat_g__lte', 2000)), _connector='OR'), models.Q(('carbohydrate_g__isnull', True), models.Q(('carbohydrate_g__gte', 0), ('carbohydrate_g__lte', 2000)), _connector='OR')), name='nutritiontarget_macro_range', violation_error_message='Macro targets must be between 0 and 2000 g.')],
                    },
                ),
            ],
        ),
        move_content_type('nutritiontarget', from_app='goals', to_app='nutrition'),
    ]
