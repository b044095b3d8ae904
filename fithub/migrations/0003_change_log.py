# The change log of the sync feed (fithub.db.change_log): the per-user counters, the log,
# and on PostgreSQL the functions every table's triggers share.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from fithub.db.change_log import RunForVendor

# Written out here rather than imported, so this migration keeps doing what it did.
PG_SHARED = [
    "CREATE TYPE fithub_change_row AS (user_id uuid, object_id uuid, version integer, op varchar(6))",
    """CREATE FUNCTION fithub_bump_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.version := OLD.version + 1;
    RETURN NEW;
END $$""",
    """CREATE FUNCTION fithub_record_changes(change_type text, changes fithub_change_row[])
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    last_seq bigint;
BEGIN
    IF changes IS NULL THEN
        RETURN;
    END IF;
    -- One row (most writes): two plain statements, half the time of the general form.
    IF cardinality(changes) = 1 THEN
        UPDATE fithub_changesequence SET seq = seq + 1 WHERE user_id = (changes[1]).user_id RETURNING seq INTO last_seq;
        IF FOUND THEN
            INSERT INTO fithub_change AS log (user_id, type, object_id, seq, op, version, changed_at)
            VALUES ((changes[1]).user_id, change_type, (changes[1]).object_id, last_seq, (changes[1]).op,
                    (changes[1]).version, now())
            ON CONFLICT (user_id, type, object_id) DO UPDATE
                SET seq = excluded.seq, op = excluded.op, version = excluded.version, changed_at = excluded.changed_at;
        END IF;
        RETURN;
    END IF;
    -- The rows come sorted by user: several users' counters are locked in one order.
    IF (changes[1]).user_id <> (changes[cardinality(changes)]).user_id THEN
        PERFORM 1 FROM fithub_changesequence
        WHERE user_id IN (SELECT c.user_id FROM unnest(changes) AS c)
        ORDER BY user_id FOR NO KEY UPDATE;
    END IF;
    WITH changed AS (
        SELECT c.user_id, c.object_id, c.version, c.op,
               row_number() OVER (PARTITION BY c.user_id ORDER BY c.n) AS k,
               count(*) OVER (PARTITION BY c.user_id) AS taken
        FROM unnest(changes) WITH ORDINALITY AS c(user_id, object_id, version, op, n)
    ), bumped AS (
        UPDATE fithub_changesequence AS s SET seq = s.seq + t.taken
        FROM (SELECT DISTINCT user_id, taken FROM changed) AS t
        WHERE s.user_id = t.user_id
        RETURNING s.user_id, s.seq - t.taken AS base
    )
    INSERT INTO fithub_change AS log (user_id, type, object_id, seq, op, version, changed_at)
    SELECT c.user_id, change_type, c.object_id, b.base + c.k, c.op, c.version, now()
    FROM changed AS c JOIN bumped AS b ON b.user_id = c.user_id
    ON CONFLICT (user_id, type, object_id) DO UPDATE
        SET seq = excluded.seq, op = excluded.op, version = excluded.version, changed_at = excluded.changed_at;
END $$""",
]
PG_SHARED_REVERSE = [
    "DROP FUNCTION IF EXISTS fithub_record_changes(text, fithub_change_row[])",
    "DROP FUNCTION IF EXISTS fithub_bump_version()",
    "DROP TYPE IF EXISTS fithub_change_row",
]


class Migration(migrations.Migration):

    dependencies = [
        ('fithub', '0002_session'),
        ('users', '0007_birth_date_from_1900'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='ChangeSequence',
            fields=[
                ('user', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='+', serialize=False, to=settings.AUTH_USER_MODEL)),
                ('seq', models.BigIntegerField(default=0)),
                ('pruned_through', models.BigIntegerField(default=0)),
            ],
        ),
        migrations.CreateModel(
            name='Change',
            fields=[
                ('pk', models.CompositePrimaryKey('user', 'type', 'object_id', blank=True, editable=False, primary_key=True, serialize=False)),
                ('type', models.CharField(max_length=32)),
                ('object_id', models.UUIDField()),
                ('seq', models.BigIntegerField()),
                ('op', models.CharField(choices=[('upsert', 'Upsert'), ('delete', 'Delete')], max_length=6)),
                ('version', models.PositiveIntegerField()),
                ('changed_at', models.DateTimeField(help_text='When the change was written (tombstones are pruned by it).')),
                ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'indexes': [models.Index(fields=['user', 'seq'], name='change_user_seq_idx'), models.Index(condition=models.Q(('op', 'delete')), fields=['changed_at'], name='change_tombstone_idx')],
            },
        ),
        RunForVendor('postgresql', PG_SHARED, PG_SHARED_REVERSE),
    ]
