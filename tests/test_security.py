"""Security settings and defences: CSP, sign-in rate limits, sessions, deploy checks."""

import os
import re
import secrets
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.contrib.sessions.backends.cached_db import SessionStore
from django.contrib.sessions.models import Session
from django.core.cache import caches
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from advisor import settings as production_settings
from assessments.sharing import create_share_link
from tests.factories import UserFactory

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fast_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def csp_directives(response) -> dict[str, str]:
    header = response["Content-Security-Policy"]
    return {part.split()[0]: part for part in (p.strip() for p in header.split(";")) if part}


def test_pages_carry_a_strict_content_security_policy(client):
    response = client.get(reverse("home"))
    policy = csp_directives(response)
    assert "unsafe-inline" not in response["Content-Security-Policy"]
    assert "unsafe-eval" not in response["Content-Security-Policy"]
    assert policy["object-src"] == "object-src 'none'"
    assert policy["base-uri"] == "base-uri 'none'"
    assert policy["frame-ancestors"] == "frame-ancestors 'none'"
    nonce = policy["script-src"].split("'nonce-")[1].split("'")[0]
    page = response.content.decode()
    scripts = re.findall(r"<script\b[^>]*>", page)
    assert len(scripts) >= 2  # htmx and our app.js
    assert all(f'nonce="{nonce}"' in tag and " src=" in tag for tag in scripts)
    assert " style=" not in page


def test_the_nonce_is_new_for_every_response(client):
    first = csp_directives(client.get(reverse("home")))["script-src"]
    second = csp_directives(client.get(reverse("home")))["script-src"]
    assert first != second


def login(client, username, password):
    return client.post(reverse("login"), {"username": username, "password": password})


def test_repeated_failed_logins_lock_the_username_out_from_that_address(client, settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    UserFactory(username="alice", password="right-password-123")
    for _ in range(3):
        assert login(client, "alice", "wrong").status_code == 200
    locked = login(client, "alice", "right-password-123")
    assert locked.status_code == 429
    assert "Too many attempts" in locked.content.decode()
    assert locked["Retry-After"] == str(settings.AUTH_LOCKOUT_WINDOW)
    assert "_auth_user_id" not in client.session
    # Another address is not locked out.
    other = Client(REMOTE_ADDR="198.51.100.20")
    assert login(other, "alice", "right-password-123").status_code == 302


def test_many_sessions_never_crowd_out_a_lockout(settings, tmp_path):
    """Sessions are cached, and a file cache culls a random third of its entries when full:
    with the production cache settings, hundreds of sessions must not delete the counters
    that keep a username locked out."""
    settings.CACHES = {
        alias: config | {"LOCATION": str(tmp_path / alias)}
        for alias, config in production_settings.CACHES.items()
    }
    settings.LOGIN_FAILURE_LIMIT = 3
    UserFactory(username="victim", password="right-password-123")
    others = UserFactory.create_batch(8)
    attacker = Client(REMOTE_ADDR="203.0.113.9")
    for _ in range(3):
        assert login(attacker, "victim", "wrong").status_code == 200
    for round_ in range(450):  # more sessions than a default file cache keeps
        Client().force_login(others[round_ % len(others)])
    assert login(attacker, "victim", "right-password-123").status_code == 429
    assert len(list(tmp_path.glob("*/*.djcache"))) > 300  # the sessions really were cached


def test_one_address_failing_across_many_usernames_is_refused(client, settings):
    settings.LOGIN_IP_LIMIT = 4
    for number in range(4):
        login(client, f"user{number}", "guess")
    assert login(client, "someone-else", "guess").status_code == 429


def test_a_successful_login_clears_that_usernames_failures(client, settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    UserFactory(username="bob", password="right-password-123")
    login(client, "bob", "wrong")
    login(client, "bob", "wrong")
    assert login(client, "bob", "right-password-123").status_code == 302
    client.post(reverse("logout"))
    login(client, "bob", "wrong")
    login(client, "bob", "wrong")
    assert login(client, "bob", "right-password-123").status_code == 302


def test_signups_from_one_address_are_limited(client, settings):
    settings.SIGNUP_LIMIT = 2
    for number in range(2):
        client.post(reverse("signup"), {"username": f"new{number}", "password1": "x"})
    response = client.post(
        reverse("signup"),
        {"username": "new9", "password1": "a-Fine-pass-987", "password2": "a-Fine-pass-987"},
    )
    assert response.status_code == 429
    assert not User.objects.filter(username="new9").exists()


def _cached_session_lifetime(session_key: str) -> timedelta:
    """How long the cached copy of a session has left (the test cache is a LocMemCache)."""
    cache = caches[settings.SESSION_CACHE_ALIAS]
    key = cache.make_and_validate_key(SessionStore(session_key).cache_key)
    return timedelta(seconds=cache._expire_info[key] - time.time())


def _edit_stored_session(session: Session, **changes) -> None:
    """Change a session in the database and drop its cached copy, as if it had been saved
    that way (a save writes both, with the same expiry)."""
    Session.objects.filter(pk=session.pk).update(**changes)
    caches[settings.SESSION_CACHE_ALIAS].delete(SessionStore(session.session_key).cache_key)


def test_sessions_expire_after_the_documented_idle_time(client, owner, settings):
    client.force_login(owner)
    response = client.get(reverse("project_list"))
    assert response.status_code == 200
    session = Session.objects.get(session_key=client.session.session_key)
    idle = timedelta(seconds=settings.SESSION_COOKIE_AGE)
    assert session.expire_date - timezone.now() == pytest.approx(idle, abs=timedelta(minutes=1))
    assert _cached_session_lifetime(session.session_key) == pytest.approx(
        idle, abs=timedelta(minutes=1)
    )

    # A request after a quiet spell restarts the idle clock, in the database and the cache...
    data = session.get_decoded() | {"_idle_refreshed_at": 0}
    _edit_stored_session(
        session,
        session_data=Session.objects.encode(data),
        expire_date=timezone.now() + timedelta(hours=1),
    )
    assert client.get(reverse("project_list")).status_code == 200
    session.refresh_from_db()
    assert session.expire_date - timezone.now() == pytest.approx(idle, abs=timedelta(minutes=1))
    assert _cached_session_lifetime(session.session_key) == pytest.approx(
        idle, abs=timedelta(minutes=1)
    )
    # ...but requests within the same minute do not write the session again.
    with CaptureQueriesContext(connection) as queries:
        client.get(reverse("project_list"))
    assert not any("django_session" in q["sql"] and "UPDATE" in q["sql"] for q in queries)

    # After the idle time without a request, the session is gone.
    _edit_stored_session(session, expire_date=timezone.now() - timedelta(seconds=1))
    response = client.get(reverse("project_list"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_signed_in_requests_read_the_session_from_the_cache(client, owner):
    client.force_login(owner)
    client.get(reverse("project_list"))  # the idle clock restarts once, then not for a minute
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("project_list")).status_code == 200
    assert not any("django_session" in q["sql"] for q in queries)


def test_logout_ends_the_session_on_the_server(client, owner):
    client.force_login(owner)
    session_key = client.session.session_key
    stolen_cookie = client.cookies["sessionid"].value
    assert client.get(reverse("logout")).status_code == 405  # GET never logs out
    assert client.post(reverse("logout")).status_code in (200, 302)
    assert not Session.objects.filter(session_key=session_key).exists()
    replay = Client()
    replay.cookies["sessionid"] = stolen_cookie
    assert replay.get(reverse("project_list")).status_code == 302


def test_check_deploy_is_clean_under_production_settings():
    # The browser tests' conftest sets DJANGO_ALLOW_ASYNC_UNSAFE for this process only.
    inherited = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    environment = {
        **inherited,
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "advisor.example.com",
        "CSRF_TRUSTED_ORIGINS": "https://advisor.example.com",
        "SECURE_PROXY_SSL": "1",
    }
    completed = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "System check identified no issues" in completed.stdout


def test_guessing_the_old_password_on_password_change_is_limited(client, settings):
    settings.LOGIN_FAILURE_LIMIT = 2
    user = UserFactory(username="erin", password="right-password-123")
    client.force_login(user)
    change = {"new_password1": "a-New-pass-9876", "new_password2": "a-New-pass-9876"}
    for _ in range(2):
        response = client.post(reverse("password_change"), change | {"old_password": "guess"})
        assert response.status_code == 200
    response = client.post(
        reverse("password_change"), change | {"old_password": "right-password-123"}
    )
    assert response.status_code == 429
    user.refresh_from_db()
    assert user.check_password("right-password-123")


def test_what_a_signed_in_user_is_served_is_never_cached(owner_client, complete_assessment):
    project = complete_assessment.project
    for url in (
        reverse("project_list"),
        reverse("project_detail", args=[project.pk]),
        reverse("questionnaire", args=[complete_assessment.pk]),
        reverse("report", args=[complete_assessment.pk]),
        reverse("project_export", args=[project.pk]),
        reverse("memo", args=[complete_assessment.pk]),
    ):
        response = owner_client.get(url)
        assert response.status_code == 200, url
        assert response["Cache-Control"] == "private, no-store", url


def test_anonymous_pages_are_left_to_the_usual_caching_and_shared_ones_say_no_store(
    client, complete_assessment
):
    assert not client.get(reverse("home")).has_header("Cache-Control")
    _, url_token = create_share_link(complete_assessment, label="board")
    assert client.get(reverse("shared_report", args=[url_token]))["Cache-Control"] == "no-store"
