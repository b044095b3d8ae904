# The model comes from the users app (users 0002 made its table, which keeps its name):
# it enters this app's migration state only, and keeps its content type.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from fithub.db.moves import CONTENT_TYPES_DEPENDENCY, move_content_type


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ('users', '0004_idempotency_record_to_fithub'),
        CONTENT_TYPES_DEPENDENCY,
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='IdempotencyRecord',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('key', models.CharField(max_length=255)),
                        ('fingerprint', models.CharField(max_length=64)),
                        ('response_status', models.PositiveSmallIntegerField(null=True)),
                        ('response_body', models.JSONField(null=True)),
                        ('created_at', models.DateTimeField(auto_now_add=True, db_index=True)),
                        ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'db_table': 'users_idempotencyrecord',
                        'constraints': [models.UniqueConstraint(fields=('user', 'key'), name='idempotency_user_key_unique')],
                    },
                ),
            ],
        ),
        move_content_type('idempotencyrecord', from_app='users', to_app='fithub'),
    ]
