from django.db import migrations


class Migration(migrations.Migration):
    """django_session gets the id of the account each session is signed in with, so that a signed-in request
    reads its account with its session, in one statement (marketplace.sessions). Not a column of Django's
    Session model: written and read by marketplace.sessions' own statements only."""

    dependencies = [
        ("marketplace", "0016_point_proposals"),
        ("sessions", "0001_initial"),
    ]

    operations = [
        migrations.RunSQL(
            "ALTER TABLE django_session ADD COLUMN user_id bigint",
            reverse_sql="ALTER TABLE django_session DROP COLUMN user_id",
        ),
    ]
