# Nutrition targets belong to the nutrition app now; the table (made by 0002) stays where it
# is, with its rows: the model leaves this app's migration state only.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('goals', '0002_nutrition_target'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(
                    name='NutritionTarget',
                ),
            ],
        ),
    ]
