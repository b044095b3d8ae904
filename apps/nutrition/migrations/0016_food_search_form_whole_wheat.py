"""`Food.search_form` again, now that "whole wheat" and "whole grain" spelled with a space no
longer count as SR28's "whole" default entry (models.DEFAULT_FORM_WORDS): 62 names such as
"Bread, naan, whole wheat" ranked as the generic form of their food. A generated column's
expression cannot be altered in place: the column is dropped and added again, which rewrites
the food table once (8,789 rows: well under a second). The field's state is unchanged (its
expression is the class `SearchForm`), so makemigrations would not see this."""

import apps.nutrition.models
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("nutrition", "0015_nutrition_target_water"),
    ]

    operations = [
        migrations.RemoveField(model_name="food", name="search_form"),
        migrations.AddField(
            model_name="food",
            name="search_form",
            field=models.GeneratedField(
                db_persist=True, expression=apps.nutrition.models.SearchForm(), output_field=models.SmallIntegerField()
            ),
        ),
    ]
