# The Idempotency-Key records belong to fithub's API plumbing (fithub.models); the table
# stays where it is: the model leaves this app's migration state only.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('users', '0003_token_user'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(
                    name='IdempotencyRecord',
                ),
            ],
        ),
    ]
