"""Food search on a stored column: `search_name` (the normalised name, a generated column) with
its own trigram GIN index, replacing the expression index of 0002.

With the expression index, every candidate row ran unaccent again for the recheck, the
ranking CASEs and the similarity (7 times a row); a stored column is computed once per write.
The column's expression calls the schema-qualified public.fithub_unaccent, so pg_restore (empty
search_path) can recompute it. Other databases (SQLite) get `lower(name)` and no index."""

from django.db import migrations, models

import apps.nutrition.models

FORWARD = [
    "CREATE INDEX IF NOT EXISTS food_search_name_trgm_idx ON nutrition_food USING gin (search_name gin_trgm_ops)",
    "DROP INDEX IF EXISTS food_name_trgm_idx",
]
BACKWARD = [
    "CREATE INDEX IF NOT EXISTS food_name_trgm_idx ON nutrition_food "
    "USING gin (public.fithub_unaccent(lower(name)) gin_trgm_ops)",
    "DROP INDEX IF EXISTS food_search_name_trgm_idx",
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("nutrition", "0002_food_search")]

    operations = [
        migrations.AddField(
            model_name="food",
            name="search_name",
            field=models.GeneratedField(
                db_persist=True,
                expression=apps.nutrition.models.SearchName(),
                output_field=models.CharField(max_length=200),
            ),
        ),
        migrations.RunPython(_run(FORWARD), _run(BACKWARD), elidable=False),
    ]
