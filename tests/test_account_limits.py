"""The account quotas (accounts/forms.py, counted in the database): sign-ups per client
address, and wrong current passwords per user on the password change form. A refused
request gets 429 with the real wait in Retry-After, and nothing done."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "right-password-123"
NEW_PASSWORD = "a-New-pass-9876"


@pytest.fixture(autouse=True)
def limits(settings, fast_password_hashing):
    settings.SIGNUP_LIMIT = 2
    settings.LOGIN_FAILURE_LIMIT = 2
    settings.AUTH_LOCKOUT_WINDOW = 900


def sign_up(client: Client, username: str, password: str = NEW_PASSWORD):
    return client.post(
        reverse("account_signup"),
        {
            "username": username,
            "email": f"{username}@example.com",
            "password1": password,
            "password2": password,
        },
    )


def test_signups_from_one_address_are_limited_for_the_window_they_say(client):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        assert sign_up(client, "new0", "x").status_code == 200  # refused ones count too
        assert sign_up(Client(), "new1").status_code == 302  # (another browser, same address)

        refused = sign_up(Client(), "new9")

        assert refused.status_code == 429
        assert refused["Retry-After"] == "900"
        assert "Too many sign-ups" in refused.content.decode()
        assert not User.objects.filter(username="new9").exists()

    with time_machine.travel(start + timedelta(seconds=600), tick=False):
        assert sign_up(Client(), "new9")["Retry-After"] == "300"
    with time_machine.travel(start + timedelta(seconds=900), tick=False):
        assert sign_up(Client(), "new9").status_code == 302
    assert User.objects.filter(username="new9").exists()


def test_signups_from_another_address_are_counted_apart(client):
    sign_up(client, "new0")
    sign_up(Client(), "new1")
    assert sign_up(Client(REMOTE_ADDR="198.51.100.20"), "new2").status_code == 302


def change_password(client: Client, old: str):
    return client.post(
        reverse("account_change_password"),
        {"oldpassword": old, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )


def test_guessing_the_current_password_with_a_stolen_session_is_limited(client):
    user = UserFactory(username="erin", password=PASSWORD)
    client.force_login(user)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        assert [change_password(client, "guess").status_code for _ in range(2)] == [200, 200]

        refused = change_password(client, PASSWORD)

        assert refused.status_code == 429
        assert refused["Retry-After"] == "900"
        assert "Too many wrong current passwords" in refused.content.decode()
        user.refresh_from_db()
        assert user.check_password(PASSWORD)
        # The same user in another session (the thief's second browser) is refused too.
        other = Client(REMOTE_ADDR="198.51.100.20")
        other.force_login(user)
        assert change_password(other, PASSWORD).status_code == 429

    with time_machine.travel(start + timedelta(seconds=900), tick=False):
        assert change_password(client, PASSWORD).status_code == 302
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)


def test_a_right_current_password_is_not_counted(client):
    user = UserFactory(username="erin", password=PASSWORD)
    client.force_login(user)
    for old, new in ((PASSWORD, NEW_PASSWORD), (NEW_PASSWORD, PASSWORD), (PASSWORD, NEW_PASSWORD)):
        response = client.post(
            reverse("account_change_password"),
            {"oldpassword": old, "password1": new, "password2": new},
        )
        assert response.status_code == 302
