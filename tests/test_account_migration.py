"""accounts/migrations/0003: accounts made before django-allauth keep their username and
password, and their email address becomes allauth's (primary, unverified)."""

from __future__ import annotations

import pytest
from django.contrib.auth.hashers import make_password
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse

# The models the migration reads and writes, at the state it runs in.
MODELS = [
    ("auth", "0012_alter_user_first_name_max_length"),
    ("account", "0009_emailaddress_unique_primary_email"),
]
BEFORE = [("accounts", "0002_cache_table"), *MODELS]
AFTER = [("accounts", "0003_email_addresses_of_existing_users"), *MODELS]
PASSWORD = "an-old-password"  # shorter than today's rule: kept all the same


def migrate(targets):
    """The historical apps once the database is at `targets`."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.fixture
def legacy_users(fast_password_hashing):
    """Users as they were before allauth: no EmailAddress rows."""
    apps = migrate(BEFORE)
    User = apps.get_model("auth", "User")
    EmailAddress = apps.get_model("account", "EmailAddress")
    hashed = make_password(PASSWORD, hasher="md5")
    users = {
        "with_email": User.objects.create(
            username="legacy", email=" Legacy@Example.COM ", password=hashed
        ),
        "without_email": User.objects.create(username="no-mail", email="", password=hashed),
        "already_listed": User.objects.create(
            username="listed", email="listed@example.com", password=hashed
        ),
    }
    EmailAddress.objects.create(
        user_id=users["already_listed"].pk,
        email="listed@example.com",
        primary=True,
        verified=True,
    )
    yield {name: (user.pk, user.password) for name, user in users.items()}
    migrate(executor_leaves())


def executor_leaves():
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


@pytest.mark.django_db(transaction=True)
def test_existing_users_get_their_address_as_allauths_and_keep_their_passwords(legacy_users):
    apps = migrate(AFTER)
    User = apps.get_model("auth", "User")
    EmailAddress = apps.get_model("account", "EmailAddress")

    with_email, password = legacy_users["with_email"]
    address = EmailAddress.objects.get(user_id=with_email)
    assert (address.email, address.primary, address.verified) == (
        "legacy@example.com",
        True,
        False,
    )
    assert not EmailAddress.objects.filter(user_id=legacy_users["without_email"][0]).exists()
    listed = EmailAddress.objects.get(user_id=legacy_users["already_listed"][0])
    assert listed.verified  # left alone
    for pk, hashed in legacy_users.values():
        assert User.objects.get(pk=pk).password == hashed


@pytest.mark.django_db(transaction=True)
def test_running_it_again_adds_nothing(legacy_users):
    apps = migrate(AFTER)
    migrate(BEFORE)
    apps = migrate(AFTER)
    assert apps.get_model("account", "EmailAddress").objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_existing_users_sign_in_as_before_by_username_and_now_by_email(client, legacy_users):
    migrate(AFTER)

    for login in ("legacy", "legacy@example.com", "no-mail"):
        response = client.post(reverse("account_login"), {"login": login, "password": PASSWORD})
        assert response.status_code == 302, login
        assert response.url == reverse("project_list")
        client.post(reverse("account_logout"))
