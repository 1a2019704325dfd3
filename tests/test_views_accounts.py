"""Accounts through the test client: sign-up, log in, log out (POST only), password change."""

import pytest
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "plum-Harbour-42-kite"
NEW_PASSWORD = "violet-Canyon-77-reef"


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Real hashing is deliberately slow; these tests check the flow, not the hasher."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def user_with_password():
    """alice, who signs in with PASSWORD (the shared `owner` has no password)."""
    return UserFactory(username="alice", password=PASSWORD)


@pytest.fixture
def logged_in(client, user_with_password):
    client.force_login(user_with_password)
    return client


def signup_data(**overrides):
    return {"username": "newcomer", "password1": PASSWORD, "password2": PASSWORD} | overrides


def is_logged_in(client) -> bool:
    return SESSION_KEY in client.session


# --- Sign-up -----------------------------------------------------------------------------


def test_signup_page_shows_the_form(client):
    response = client.get(reverse("signup"))
    assert response.status_code == 200
    content = response.content.decode()
    assert "Create your account" in content
    for name in ("username", "password1", "password2"):
        assert f'name="{name}"' in content
    assert "csrfmiddlewaretoken" in content


def test_a_password_shorter_than_12_characters_is_refused_and_12_are_enough(client):
    short = "plum-Harb-42"[:11]
    response = client.post(reverse("signup"), signup_data(password1=short, password2=short))

    assert response.status_code == 200
    assert "at least 12 characters" in response.content.decode()
    assert not User.objects.filter(username="newcomer").exists()

    twelve = "plum-Harb-42"
    response = client.post(reverse("signup"), signup_data(password1=twelve, password2=twelve))
    assert response.status_code == 302
    assert User.objects.filter(username="newcomer").exists()


def test_an_existing_shorter_password_still_signs_in(client):
    """The length rule applies when a password is set; accounts made before it keep theirs."""
    UserFactory(username="early", password="Kite-42-abc")  # 11 characters, set before
    response = client.post(reverse("login"), {"username": "early", "password": "Kite-42-abc"})

    assert response.status_code == 302
    assert is_logged_in(client)


def test_signup_creates_the_user_logs_in_and_redirects_to_project_create(client):
    response = client.post(reverse("signup"), signup_data())

    assert response.status_code == 302
    assert response.url == reverse("project_create")
    user = User.objects.get(username="newcomer")
    assert user.check_password(PASSWORD)
    assert client.session[SESSION_KEY] == str(user.pk)
    follow = client.get(response.url)
    assert follow.status_code == 200
    assert "Welcome to Advisor" in follow.content.decode()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"password2": "a-different-Passw0rd"}, "password2"),
        ({"username": ""}, "username"),
        ({"password1": "", "password2": ""}, "password1"),
        ({"password1": "password", "password2": "password"}, "password2"),  # too common/short
        ({"username": "bad name!"}, "username"),
    ],
    ids=["mismatch", "no-username", "no-password", "weak-password", "invalid-username"],
)
def test_bad_signup_shows_errors_and_creates_nothing(client, overrides, field):
    response = client.post(reverse("signup"), signup_data(**overrides))

    assert response.status_code == 200
    assert response.context["form"].errors[field]
    assert 'class="field-error"' in response.content.decode()
    assert not User.objects.exists()
    assert not is_logged_in(client)


def test_signup_with_a_taken_username_shows_an_error_and_creates_nothing(
    client, user_with_password
):
    response = client.post(reverse("signup"), signup_data(username="alice"))

    assert response.status_code == 200
    assert response.context["form"].errors["username"]
    assert User.objects.count() == 1
    assert not is_logged_in(client)


def test_signup_with_a_username_differing_only_in_case_is_refused(client, user_with_password):
    response = client.post(reverse("signup"), signup_data(username="ALICE"))

    assert response.status_code == 200
    assert response.context["form"].errors["username"]
    assert User.objects.count() == 1


def test_signup_when_already_logged_in_redirects_to_projects(logged_in):
    response = logged_in.get(reverse("signup"))
    assert response.status_code == 302
    assert response.url == reverse("project_list")


def test_signup_rejects_other_methods(client):
    assert client.put(reverse("signup")).status_code == 405


# --- Log in ------------------------------------------------------------------------------


def test_login_page_shows_the_form_with_a_signup_link(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    content = response.content.decode()
    assert 'name="username"' in content
    assert 'name="password"' in content
    assert reverse("signup") in content


def test_login_with_good_credentials_redirects_to_projects(client, user_with_password):
    response = client.post(reverse("login"), {"username": "alice", "password": PASSWORD})

    assert response.status_code == 302
    assert response.url == reverse("project_list")
    assert client.session[SESSION_KEY] == str(user_with_password.pk)


def test_login_honours_a_safe_next_url(client, user_with_password):
    target = reverse("project_create")
    response = client.post(
        reverse("login"), {"username": "alice", "password": PASSWORD, "next": target}
    )
    assert response.status_code == 302
    assert response.url == target


def test_login_ignores_an_offsite_next_url(client, user_with_password):
    response = client.post(
        reverse("login"),
        {"username": "alice", "password": PASSWORD, "next": "https://evil.example/"},
    )
    assert response.status_code == 302
    assert response.url == reverse("project_list")


def test_login_with_a_wrong_password_shows_an_error_and_stays_logged_out(
    client, user_with_password
):
    response = client.post(reverse("login"), {"username": "alice", "password": "wrong"})

    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    assert 'class="form-errors"' in response.content.decode()
    assert not is_logged_in(client)


def test_protected_page_redirects_anonymous_users_to_login_with_next(client):
    response = client.get(reverse("project_list"))
    assert response.status_code == 302
    assert response.url == f"{reverse('login')}?next={reverse('project_list')}"


# --- Log out -----------------------------------------------------------------------------


def test_logout_by_get_is_not_allowed_and_keeps_the_session(logged_in):
    response = logged_in.get(reverse("logout"))

    assert response.status_code == 405
    assert is_logged_in(logged_in)
    assert logged_in.get(reverse("project_list")).status_code == 200


def test_logout_by_post_ends_the_session(logged_in):
    response = logged_in.post(reverse("logout"))

    assert response.status_code == 302
    assert response.url == reverse("home")
    assert not is_logged_in(logged_in)
    after = logged_in.get(reverse("project_list"))
    assert after.status_code == 302
    assert after.url.startswith(reverse("login"))


def test_logout_without_a_csrf_token_is_refused_and_keeps_the_session(user_with_password):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user_with_password)

    response = client.post(reverse("logout"))

    assert response.status_code == 403
    assert is_logged_in(client)


def test_pages_offer_logout_as_a_post_form(logged_in):
    content = logged_in.get(reverse("home")).content.decode()
    assert f'<form method="post" action="{reverse("logout")}"' in content
    assert f'href="{reverse("logout")}"' not in content


# --- Password change ---------------------------------------------------------------------


def test_password_change_requires_login(client):
    url = reverse("password_change")
    for response in (client.get(url), client.post(url, {})):
        assert response.status_code == 302
        assert response.url == f"{reverse('login')}?next={url}"


def test_password_change_page_shows_the_form(logged_in):
    response = logged_in.get(reverse("password_change"))
    assert response.status_code == 200
    content = response.content.decode()
    for name in ("old_password", "new_password1", "new_password2"):
        assert f'name="{name}"' in content
    assert "alice" in content


def test_password_change_sets_the_new_password_and_keeps_the_session(logged_in, user_with_password):
    response = logged_in.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assert response.status_code == 302
    assert response.url == reverse("password_change_done")
    user_with_password.refresh_from_db()
    assert user_with_password.check_password(NEW_PASSWORD)
    assert not user_with_password.check_password(PASSWORD)
    done = logged_in.get(response.url)
    assert done.status_code == 200
    assert "Password changed" in done.content.decode()
    assert logged_in.get(reverse("project_list")).status_code == 200


def test_password_change_with_the_wrong_old_password_changes_nothing(logged_in, user_with_password):
    response = logged_in.post(
        reverse("password_change"),
        {"old_password": "wrong", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assert response.status_code == 200
    assert response.context["form"].errors["old_password"]
    user_with_password.refresh_from_db()
    assert user_with_password.check_password(PASSWORD)


def test_new_password_works_for_login_after_a_change(client, user_with_password):
    client.force_login(user_with_password)
    client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    client.post(reverse("logout"))

    assert not client.login(username="alice", password=PASSWORD)
    assert client.login(username="alice", password=NEW_PASSWORD)
