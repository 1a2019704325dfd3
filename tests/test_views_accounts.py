"""Accounts through the test client (django-allauth in our templates): sign-up, sign-in by
username or email, sign-out (POST only), password change, password reset by email, email
verification."""

from __future__ import annotations

import re

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.models import User
from django.core import mail
from django.test import Client
from django.urls import reverse

from tests.factories import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hashing")]

PASSWORD = "plum-Harbour-42-kite"
NEW_PASSWORD = "violet-Canyon-77-reef"


@pytest.fixture
def user_with_password():
    """alice, who signs in with PASSWORD (the shared `owner` has no password)."""
    return UserFactory(username="alice", email="alice@example.com", password=PASSWORD)


@pytest.fixture
def logged_in(client, user_with_password):
    sign_in(client, "alice", PASSWORD)
    return client


def signup_data(**overrides) -> dict[str, str]:
    return {
        "username": "newcomer",
        "email": "newcomer@example.com",
        "password1": PASSWORD,
        "password2": PASSWORD,
    } | overrides


def sign_in(client: Client, login: str, password: str, **extra):
    return client.post(reverse("account_login"), {"login": login, "password": password} | extra)


def is_logged_in(client: Client) -> bool:
    return SESSION_KEY in client.session


def link_in(message: mail.EmailMessage) -> str:
    """The path of the one link to this site in a mail."""
    (url,) = re.findall(r"https?://testserver(/\S+)", message.body)
    return url


# --- Sign-up -----------------------------------------------------------------------------


def test_signup_page_shows_the_form(client):
    response = client.get(reverse("account_signup"))
    assert response.status_code == 200
    content = response.content.decode()
    assert "Sign Up" in content
    for name in ("username", "email", "password1", "password2"):
        assert f'name="{name}"' in content
    assert "csrfmiddlewaretoken" in content
    assert reverse("account_login") in content


def test_a_password_shorter_than_12_characters_is_refused_and_12_are_enough(client):
    short = "plum-Harb-42"[:11]
    response = client.post(reverse("account_signup"), signup_data(password1=short, password2=short))

    assert response.status_code == 200
    assert "at least 12 characters" in response.content.decode()
    assert not User.objects.filter(username="newcomer").exists()

    twelve = "plum-Harb-42"
    response = client.post(
        reverse("account_signup"), signup_data(password1=twelve, password2=twelve)
    )
    assert response.status_code == 302
    assert User.objects.get(username="newcomer").check_password(twelve)


def test_signup_creates_the_user_signs_in_sends_a_verification_and_opens_a_new_project(client):
    response = client.post(reverse("account_signup"), signup_data())

    assert response.status_code == 302
    assert response.url == reverse("project_create")
    user = User.objects.get(username="newcomer")
    assert user.check_password(PASSWORD)
    assert client.session[SESSION_KEY] == str(user.pk)
    address = EmailAddress.objects.get(user=user)
    assert (address.email, address.primary, address.verified) == (
        "newcomer@example.com",
        True,
        False,
    )
    (verification,) = mail.outbox
    assert verification.to == ["newcomer@example.com"]
    assert "/accounts/confirm-email/" in verification.body
    follow = client.get(response.url)
    assert follow.status_code == 200
    assert "Welcome to Advisor" in follow.content.decode()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"password2": "a-different-Passw0rd"}, "password2"),
        ({"username": ""}, "username"),
        ({"email": ""}, "email"),
        ({"email": "not-an-address"}, "email"),
        ({"password1": "", "password2": ""}, "password1"),
        ({"password1": "password", "password2": "password"}, "password1"),  # common, short
        ({"username": "bad name!"}, "username"),
    ],
    ids=[
        "mismatch",
        "no-username",
        "no-email",
        "bad-email",
        "no-password",
        "weak-password",
        "invalid-username",
    ],
)
def test_bad_signup_shows_errors_and_creates_nothing(client, overrides, field):
    response = client.post(reverse("account_signup"), signup_data(**overrides))

    assert response.status_code == 200
    assert response.context["form"].errors[field]
    assert 'class="field-error"' in response.content.decode()
    assert not User.objects.exists()
    assert not is_logged_in(client)


def test_several_errors_on_one_field_share_one_described_element(client):
    """A short, common, all-digit password gets several messages: the input's
    aria-describedby must reach all of them, and no id may appear twice on the page."""
    response = client.post(
        reverse("account_signup"), signup_data(password1="12345678", password2="12345678")
    )
    page = response.content.decode()

    assert len(response.context["form"].errors["password1"]) > 1
    ids = re.findall(r'\bid="([^"]+)"', page)
    assert len(ids) == len(set(ids))
    errors = re.search(r'<div id="id_password1_error">(.*?)</div>', page, re.S)
    assert errors and errors[1].count('class="field-error"') > 1
    assert re.search(r'<input[^>]*aria-describedby="[^"]*id_password1_error', page)


@pytest.mark.parametrize("taken", ["alice", "ALICE"])
def test_signup_with_a_taken_username_shows_an_error_and_creates_nothing(
    client, user_with_password, taken
):
    response = client.post(reverse("account_signup"), signup_data(username=taken))

    assert response.status_code == 200
    assert response.context["form"].errors["username"]
    assert User.objects.count() == 1
    assert not is_logged_in(client)


def test_signup_with_a_taken_email_address_creates_nothing(client, user_with_password):
    """With optional verification allauth cannot hide at sign-up that an address is taken
    (only mandatory verification could); the sign-in and reset forms never tell."""
    response = client.post(reverse("account_signup"), signup_data(email="Alice@Example.com"))

    assert response.status_code == 200
    assert response.context["form"].errors["email"]
    assert not User.objects.filter(username="newcomer").exists()
    assert not is_logged_in(client)
    assert mail.outbox == []


def test_signup_when_already_logged_in_redirects_to_projects(logged_in):
    response = logged_in.get(reverse("account_signup"))
    assert response.status_code == 302
    assert response.url == reverse("project_list")


# --- Sign-in -----------------------------------------------------------------------------


def test_login_page_shows_the_form_with_signup_and_reset_links(client):
    response = client.get(reverse("account_login"))
    assert response.status_code == 200
    content = response.content.decode()
    assert 'name="login"' in content
    assert 'name="password"' in content
    assert "Username or email" in content
    assert reverse("account_signup") in content
    assert reverse("account_reset_password") in content


@pytest.mark.parametrize("login", ["alice", "ALICE", " alice ", "alice@example.com"])
def test_login_by_username_or_email_redirects_to_projects(client, user_with_password, login):
    response = sign_in(client, login, PASSWORD)

    assert response.status_code == 302
    assert response.url == reverse("project_list")
    assert client.session[SESSION_KEY] == str(user_with_password.pk)


def test_an_existing_account_keeps_its_shorter_password_and_needs_no_email(client):
    """The length rule applies when a password is set; accounts made before it keep theirs,
    and an account without an address signs in as before."""
    UserFactory(username="early", password="Kite-42-abc")  # 11 characters, set before
    response = sign_in(client, "early", "Kite-42-abc")

    assert response.status_code == 302
    assert is_logged_in(client)


def test_login_honours_a_safe_next_url(client, user_with_password):
    target = reverse("project_create")
    response = sign_in(client, "alice", PASSWORD, next=target)
    assert response.status_code == 302
    assert response.url == target


def test_login_ignores_an_offsite_next_url(client, user_with_password):
    response = sign_in(client, "alice", PASSWORD, next="https://evil.example/")
    assert response.status_code == 302
    assert response.url == reverse("project_list")


def test_login_with_a_wrong_password_shows_an_error_and_stays_logged_out(
    client, user_with_password
):
    response = sign_in(client, "alice", "wrong")

    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    assert 'class="form-errors"' in response.content.decode()
    assert not is_logged_in(client)


def test_a_wrong_password_and_an_unknown_username_read_the_same(client, user_with_password):
    wrong = sign_in(client, "alice", "wrong").context["form"].non_field_errors()
    unknown = sign_in(client, "nobody-here", "wrong").context["form"].non_field_errors()
    assert wrong == unknown


def test_protected_page_redirects_anonymous_users_to_login_with_next(client):
    response = client.get(reverse("project_list"))
    assert response.status_code == 302
    assert response.url == f"{reverse('account_login')}?next={reverse('project_list')}"


# --- Sign-out ----------------------------------------------------------------------------


def test_logout_by_get_only_asks_and_keeps_the_session(logged_in):
    response = logged_in.get(reverse("account_logout"))

    assert response.status_code == 200
    assert 'method="post"' in response.content.decode()
    assert is_logged_in(logged_in)
    assert logged_in.get(reverse("project_list")).status_code == 200


def test_logout_by_post_ends_the_session(logged_in):
    response = logged_in.post(reverse("account_logout"))

    assert response.status_code == 302
    assert response.url == reverse("home")
    assert not is_logged_in(logged_in)
    after = logged_in.get(reverse("project_list"))
    assert after.status_code == 302
    assert after.url.startswith(reverse("account_login"))


def test_logout_without_a_csrf_token_is_refused_and_keeps_the_session(user_with_password):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user_with_password)

    response = client.post(reverse("account_logout"))

    assert response.status_code == 403
    assert is_logged_in(client)


def test_pages_offer_logout_as_a_post_form_and_link_the_account_pages(logged_in):
    content = logged_in.get(reverse("home")).content.decode()
    assert f'<form method="post" action="{reverse("account_logout")}"' in content
    assert f'href="{reverse("account_logout")}"' not in content
    assert f'href="{reverse("account_email")}"' in content
    account = logged_in.get(reverse("account_email")).content.decode()
    for name in ("account_email", "account_change_password", "mfa_index", "usersessions_list"):
        assert f'href="{reverse(name)}"' in account, name


# --- Password change ---------------------------------------------------------------------


def test_password_change_requires_login(client):
    url = reverse("account_change_password")
    for response in (client.get(url), client.post(url, {})):
        assert response.status_code == 302
        assert response.url == f"{reverse('account_login')}?next={url}"


def test_password_change_page_shows_the_form(logged_in):
    response = logged_in.get(reverse("account_change_password"))
    assert response.status_code == 200
    content = response.content.decode()
    for name in ("oldpassword", "password1", "password2"):
        assert f'name="{name}"' in content
    assert "at least 12 characters" in content


def change_password(client: Client, old: str, new: str = NEW_PASSWORD):
    return client.post(
        reverse("account_change_password"),
        {"oldpassword": old, "password1": new, "password2": new},
    )


def test_password_change_sets_the_new_password_keeps_the_session_and_says_so(
    logged_in, user_with_password
):
    response = change_password(logged_in, PASSWORD)

    assert response.status_code == 302
    assert response.url == reverse("account_change_password")
    user_with_password.refresh_from_db()
    assert user_with_password.check_password(NEW_PASSWORD)
    assert not user_with_password.check_password(PASSWORD)
    done = logged_in.get(response.url)
    assert "Password successfully changed" in done.content.decode()
    assert logged_in.get(reverse("project_list")).status_code == 200
    (notice,) = [m for m in mail.outbox if "alice@example.com" in m.to]
    assert "password" in notice.subject.lower()


def test_password_change_with_the_wrong_old_password_changes_nothing(logged_in, user_with_password):
    response = change_password(logged_in, "wrong")

    assert response.status_code == 200
    assert response.context["form"].errors["oldpassword"] == ["That is not your current password."]
    user_with_password.refresh_from_db()
    assert user_with_password.check_password(PASSWORD)


def test_a_new_password_must_be_12_characters_too(logged_in, user_with_password):
    response = change_password(logged_in, PASSWORD, new="Kite-42-abc")

    assert response.status_code == 200
    assert "at least 12 characters" in response.content.decode()
    user_with_password.refresh_from_db()
    assert user_with_password.check_password(PASSWORD)


def test_the_new_password_signs_in_after_a_change_and_the_old_one_does_not(logged_in):
    change_password(logged_in, PASSWORD)
    logged_in.post(reverse("account_logout"))

    assert sign_in(logged_in, "alice", PASSWORD).status_code == 200
    assert sign_in(logged_in, "alice", NEW_PASSWORD).status_code == 302


def test_an_account_without_a_password_is_offered_to_set_one(client, owner):
    client.force_login(owner)  # the shared owner has no usable password
    response = client.get(reverse("account_change_password"))
    assert response.status_code == 302
    assert response.url == reverse("account_set_password")


# --- Password reset by email ----------------------------------------------------------------


def test_password_reset_by_email_from_request_to_signing_in(client, user_with_password):
    response = client.post(reverse("account_reset_password"), {"email": "ALICE@example.com"})
    assert response.status_code == 302
    assert response.url == reverse("account_reset_password_done")

    (message,) = mail.outbox
    assert message.to == ["alice@example.com"]
    assert "alice" in message.body  # the username, in case it was forgotten
    form_page = client.get(link_in(message), follow=True)
    assert form_page.status_code == 200
    assert 'name="password1"' in form_page.content.decode()
    key_url = form_page.redirect_chain[-1][0]  # the key moves into the session, off the URL

    done = client.post(key_url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert done.status_code == 302
    assert done.url == reverse("account_reset_password_from_key_done")
    assert not is_logged_in(client)
    assert sign_in(client, "alice", PASSWORD).status_code == 200
    assert sign_in(client, "alice", NEW_PASSWORD).status_code == 302
    # The link was used: it does not work twice.
    client.post(reverse("account_logout"))
    again = client.get(link_in(message), follow=True)
    assert "Bad Token" in again.content.decode()


def test_a_reset_for_an_unknown_address_looks_the_same(client, user_with_password):
    known = client.post(reverse("account_reset_password"), {"email": "alice@example.com"})
    unknown = client.post(reverse("account_reset_password"), {"email": "nobody@example.com"})

    assert (unknown.status_code, unknown.url) == (known.status_code, known.url)
    assert sorted(m.to[0] for m in mail.outbox) == ["alice@example.com", "nobody@example.com"]
    to_nobody = next(m for m in mail.outbox if m.to == ["nobody@example.com"])
    assert "/accounts/password/reset/key/" not in to_nobody.body


# --- Email addresses and verification --------------------------------------------------------


def test_following_the_verification_link_verifies_the_address(client):
    client.post(reverse("account_signup"), signup_data())
    (message,) = mail.outbox
    link = link_in(message)

    confirm = client.get(link)
    assert confirm.status_code == 200
    assert 'method="post"' in confirm.content.decode()  # a GET (a mail scanner) changes nothing
    assert not EmailAddress.objects.get(email="newcomer@example.com").verified

    response = client.post(link)
    assert response.status_code == 302
    assert EmailAddress.objects.get(email="newcomer@example.com").verified


def test_an_address_can_be_added_verified_and_made_primary(logged_in, user_with_password):
    response = logged_in.post(
        reverse("account_email"), {"action_add": "", "email": "alice@work.example"}
    )
    assert response.status_code == 302
    added = EmailAddress.objects.get(email="alice@work.example")
    assert (added.user, added.verified, added.primary) == (user_with_password, False, False)
    verification = next(m for m in mail.outbox if m.to == ["alice@work.example"])
    logged_in.post(link_in(verification))
    added.refresh_from_db()
    assert added.verified

    logged_in.post(reverse("account_email"), {"action_primary": "", "email": "alice@work.example"})
    added.refresh_from_db()
    assert added.primary
    user_with_password.refresh_from_db()
    assert user_with_password.email == "alice@work.example"
