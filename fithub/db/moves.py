"""Moving a model's state from one app to another without touching its table.

The model keeps its table (`Meta.db_table`); the old app's migration deletes it from the
migration state only and the new app's creates it there only (SeparateDatabaseAndState).
What the database does know by app label is its content type, and through it the
permissions granted on the model and the admin's history of it: `move_content_type`
renames that row instead of letting a new one be created beside it.
"""

from django.db import migrations

CONTENT_TYPES_DEPENDENCY = ("contenttypes", "0002_remove_content_type_name")


def move_content_type(model: str, *, from_app: str, to_app: str) -> migrations.RunPython:
    """A migration operation giving `from_app`'s content type of `model` (lowercase) to
    `to_app`, and back when unapplied. Nothing happens when there is none (a new database:
    content types are created after the migrations) or when the target already has one."""

    def rename(old: str, new: str):
        def run(apps, schema_editor) -> None:
            content_types = apps.get_model("contenttypes", "ContentType").objects.using(schema_editor.connection.alias)
            if not content_types.filter(app_label=new, model=model).exists():
                content_types.filter(app_label=old, model=model).update(app_label=new)

        return run

    return migrations.RunPython(rename(from_app, to_app), rename(to_app, from_app))
