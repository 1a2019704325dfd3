"""Accounts made before django-allauth keep working: each user with an email address gets it
as allauth's primary EmailAddress, so they can sign in with it and reset their password.

Unverified: nothing ever proved those addresses. allauth sends the verification mail when
asked (the email page), and a password reset by mail proves the address too. Users keep
their usernames and password hashes untouched; a user whose address is already there (run
twice, or added since) is left alone.
"""

from django.conf import settings
from django.db import migrations

BATCH = 500


def add_email_addresses(apps, schema_editor) -> None:
    User = apps.get_model(*settings.AUTH_USER_MODEL.split("."))
    EmailAddress = apps.get_model("account", "EmailAddress")
    users = (
        User.objects.exclude(email="")
        .exclude(emailaddress__isnull=False)
        .only("pk", "email")
        .order_by("pk")
    )
    new = [
        EmailAddress(user_id=user.pk, email=user.email.strip().lower(), primary=True)
        for user in users.iterator(chunk_size=BATCH)
        if user.email.strip()
    ]
    EmailAddress.objects.bulk_create(new, batch_size=BATCH)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_cache_table"),
        ("account", "0009_emailaddress_unique_primary_email"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    # Reversing keeps the addresses: they may have been verified or used since.
    operations = [
        migrations.RunPython(add_email_addresses, migrations.RunPython.noop, elidable=False)
    ]
