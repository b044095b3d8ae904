"""The SQLite backend of `make run` without DATABASE_URL: django-prometheus's, with a schema
editor that keeps the change log's triggers (fithub.db.change_log) through Django's table
remakes.

Django changes most columns of an SQLite table by creating a new table, copying the rows,
dropping the old one and renaming the new one. Dropping a table drops its triggers, and
the rename refuses to run while another table's trigger names the dropped one. So around a
remake the table's own triggers are read first and created again after it, exactly as they
were written, and the rename runs with `legacy_alter_table` on (it then leaves the other
triggers' text alone: they name the table, which exists again under that name).
"""

from django.db.backends.sqlite3.schema import DatabaseSchemaEditor as SQLiteSchemaEditor
from django_prometheus.db.backends.sqlite3 import base


class DatabaseSchemaEditor(SQLiteSchemaEditor):
    def _remake_table(self, model, create_field=None, delete_field=None, alter_fields=None):
        table = model._meta.db_table
        with self.connection.cursor() as cursor:
            cursor.execute("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s", [table])
            triggers = [row[0] for row in cursor.fetchall()]
            cursor.execute("PRAGMA legacy_alter_table = ON")
        try:
            super()._remake_table(
                model, create_field=create_field, delete_field=delete_field, alter_fields=alter_fields
            )
        finally:
            with self.connection.cursor() as cursor:
                cursor.execute("PRAGMA legacy_alter_table = OFF")
        for trigger in triggers:
            self.execute(trigger, params=None)


class DatabaseWrapper(base.DatabaseWrapper):
    SchemaEditorClass = DatabaseSchemaEditor
