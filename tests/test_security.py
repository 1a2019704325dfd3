"""Security settings and defences: CSP, sessions, deploy checks (sign-in lockouts and the
account quotas: test_lockouts.py, test_account_limits.py)."""

import os
import re
import secrets
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from assessments.sharing import create_share_link

ROOT = Path(__file__).resolve().parent.parent
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hashing")]


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


def _edit_stored_session(session: Session, **changes) -> None:
    """Change a session in the database, as if it had been saved that way."""
    Session.objects.filter(pk=session.pk).update(**changes)


def test_sessions_expire_after_the_documented_idle_time(client, owner, settings):
    client.force_login(owner)
    response = client.get(reverse("project_list"))
    assert response.status_code == 200
    session = Session.objects.get(session_key=client.session.session_key)
    idle = timedelta(seconds=settings.SESSION_COOKIE_AGE)
    assert session.expire_date - timezone.now() == pytest.approx(idle, abs=timedelta(minutes=1))

    # A request after a quiet spell restarts the idle clock...
    data = session.get_decoded() | {"_idle_refreshed_at": 0}
    _edit_stored_session(
        session,
        session_data=Session.objects.encode(data),
        expire_date=timezone.now() + timedelta(hours=1),
    )
    assert client.get(reverse("project_list")).status_code == 200
    session.refresh_from_db()
    assert session.expire_date - timezone.now() == pytest.approx(idle, abs=timedelta(minutes=1))
    # ...but requests within the same minute do not write the session again.
    with CaptureQueriesContext(connection) as queries:
        client.get(reverse("project_list"))
    assert not any("django_session" in q["sql"] and "UPDATE" in q["sql"] for q in queries)

    # After the idle time without a request, the session is gone.
    _edit_stored_session(session, expire_date=timezone.now() - timedelta(seconds=1))
    response = client.get(reverse("project_list"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_logout_ends_the_session_on_the_server(client, owner):
    client.force_login(owner)
    session_key = client.session.session_key
    stolen_cookie = client.cookies["sessionid"].value
    assert client.get(reverse("account_logout")).status_code == 200  # GET only asks
    assert Session.objects.filter(session_key=session_key).exists()
    assert client.post(reverse("account_logout")).status_code == 302
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
        "EMAIL_URL": "smtp://advisor:secret@mail.example.com:587?tls=1",
        "DEFAULT_FROM_EMAIL": "Advisor <advisor@example.com>",
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
