"""Every account page (django-allauth in accounts/templates) is one of ours: our header and
styles, and nothing our Content-Security-Policy refuses (no inline script or style), so each
works without JavaScript."""

from __future__ import annotations

import re

import pytest
from allauth.account.forms import default_token_generator
from allauth.account.models import EmailAddress, EmailConfirmationHMAC
from allauth.account.utils import user_pk_to_url_str
from django.test import Client
from django.urls import reverse

from tests.factories import UserFactory
from tests.test_two_factor_and_sessions import activate_totp, confirm_password

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hashing")]

PASSWORD = "plum-Harbour-42-kite"


def assert_ours_and_within_the_policy(response, what: str) -> None:
    assert response.status_code in (200, 429), (what, response.status_code)
    page = response.content.decode()
    assert 'class="site-header"' in page, what
    assert "style=" not in page, what  # no inline style attribute (nor element) at all
    assert "<style" not in page, what
    nonce = re.search(r"'nonce-([^']+)'", response["Content-Security-Policy"])[1]
    for tag in re.findall(r"<script\b[^>]*>", page):
        assert " src=" in tag and f'nonce="{nonce}"' in tag, (what, tag)


def anonymous_pages(client: Client) -> dict[str, object]:
    user = UserFactory(username="alice", email="alice@example.com", password=PASSWORD)
    address = EmailAddress.objects.create(user=user, email="alice@example.com", primary=True)
    reset = reverse(
        "account_reset_password_from_key",
        kwargs={
            "uidb36": user_pk_to_url_str(user),
            "key": default_token_generator.make_token(user),
        },
    )
    pages = {
        name: client.get(reverse(name))
        for name in (
            "account_login",
            "account_signup",
            "account_reset_password",
            "account_reset_password_done",
            "account_reset_password_from_key_done",
            "account_email_verification_sent",
            "account_inactive",
        )
    }
    pages["account_confirm_email"] = client.get(
        reverse("account_confirm_email", args=[EmailConfirmationHMAC(address).key])
    )
    pages["account_reset_password_from_key"] = client.get(reset, follow=True)
    pages["a form with errors"] = client.post(
        reverse("account_login"), {"login": "alice", "password": "wrong"}
    )
    return pages


def test_every_page_without_a_session_is_ours_and_within_the_policy(client):
    for name, response in anonymous_pages(client).items():
        assert_ours_and_within_the_policy(response, name)


def test_every_page_of_a_signed_in_account_is_ours_and_within_the_policy(client):
    user = UserFactory(username="alice", password=PASSWORD)
    client.post(reverse("account_login"), {"login": "alice", "password": PASSWORD})
    pages = {"mfa_index (nothing on)": client.get(reverse("mfa_index"))}
    confirm_password(client)
    pages["mfa_activate_totp"] = client.get(reverse("mfa_activate_totp"))
    activate_totp(client, password_confirmed=True)
    for name in (
        "account_email",
        "account_change_password",
        "account_logout",
        "account_reauthenticate",
        "mfa_index",
        "mfa_reauthenticate",
        "mfa_deactivate_totp",
        "mfa_view_recovery_codes",
        "mfa_generate_recovery_codes",
        "usersessions_list",
    ):
        pages[name] = client.get(reverse(name))
    no_password = Client()
    no_password.force_login(UserFactory(username="bob"))
    pages["account_set_password"] = no_password.get(reverse("account_set_password"))
    # The code step of signing in, in another browser.
    second = Client()
    second.post(reverse("account_login"), {"login": "alice", "password": PASSWORD})
    pages["mfa_authenticate"] = second.get(reverse("mfa_authenticate"))

    for name, response in pages.items():
        assert_ours_and_within_the_policy(response, name)
        assert response.status_code == 200, name
    assert user.authenticator_set.count() == 2  # the pages above were those of an active app


def test_the_lockout_page_is_ours_and_within_the_policy(client, settings):
    settings.LOGIN_FAILURE_LIMIT = 1
    UserFactory(username="alice", password=PASSWORD)
    response = client.post(reverse("account_login"), {"login": "alice", "password": "wrong"})
    assert response.status_code == 429
    assert_ours_and_within_the_policy(response, "lockout")
