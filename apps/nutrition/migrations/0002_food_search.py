"""Typo-tolerant food search on PostgreSQL: pg_trgm, unaccent and a trigram index on the
normalised name. Other databases (SQLite for `make run`) skip this and search plainly."""

from django.db import migrations

FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public",
    "CREATE EXTENSION IF NOT EXISTS unaccent WITH SCHEMA public",
    # unaccent() is only STABLE; an index needs an IMMUTABLE function with a fixed dictionary.
    # Schema-qualified: pg_restore rebuilds the index with an empty search_path.
    """CREATE OR REPLACE FUNCTION public.fithub_unaccent(text) RETURNS text
       LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
       AS $$ SELECT public.unaccent('public.unaccent'::regdictionary, $1) $$""",
    "CREATE INDEX IF NOT EXISTS food_name_trgm_idx ON nutrition_food USING gin (fithub_unaccent(lower(name)) gin_trgm_ops)",
]
BACKWARD = [
    "DROP INDEX IF EXISTS food_name_trgm_idx",
    "DROP FUNCTION IF EXISTS fithub_unaccent(text)",
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("nutrition", "0001_initial")]

    operations = [migrations.RunPython(_run(FORWARD), _run(BACKWARD), elidable=False)]
