"""Sign-in lockouts (django-axes, accounts/lockouts.py): per username from one address, per
address across usernames, per username across addresses; recorded in the database; a 429
whose Retry-After is the real wait, and a lockout that lifts exactly then."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib.auth import SESSION_KEY
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone

from accounts.lockouts import client_ip, normalise_login
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "right-password-123"
HERE = "203.0.113.7"
ELSEWHERE = "198.51.100.20"


@pytest.fixture(autouse=True)
def limits(settings, fast_password_hashing):
    """Small limits, so that each lockout is reached in a few requests; fast hashing."""
    settings.LOGIN_FAILURE_LIMIT = 3
    settings.LOGIN_IP_LIMIT = 6
    settings.LOGIN_USERNAME_LIMIT = 9
    settings.AUTH_LOCKOUT_WINDOW = 900
    return settings


@pytest.fixture
def alice():
    return UserFactory(username="alice", email="alice@example.com", password=PASSWORD)


def client_at(address: str) -> Client:
    return Client(REMOTE_ADDR=address)


def sign_in(client: Client, login: str, password: str, **headers):
    return client.post(
        reverse("account_login"), {"login": login, "password": password}, headers=headers
    )


def signed_in(client: Client) -> bool:
    return SESSION_KEY in client.session


def fail(client: Client, login: str, times: int) -> list[int]:
    return [sign_in(client, login, "wrong-password").status_code for _ in range(times)]


# --- One username from one address ----------------------------------------------------------


def test_failures_for_one_username_lock_it_out_from_that_address_only(alice):
    here = client_at(HERE)

    # The failure that reaches the limit is already refused with the lockout page.
    assert fail(here, "alice", 3) == [200, 200, 429]
    locked = sign_in(here, "alice", PASSWORD)

    assert locked.status_code == 429
    assert "Too many failed sign-in attempts" in locked.content.decode()
    assert reverse("account_reset_password") in locked.content.decode()  # the way out
    assert int(locked["Retry-After"]) > 0
    assert not signed_in(here)
    elsewhere = client_at(ELSEWHERE)
    assert sign_in(elsewhere, "alice", PASSWORD).status_code == 302
    assert signed_in(elsewhere)


@pytest.mark.parametrize(
    "spellings",
    [
        ["Alice", "ALICE", " alice "],
        ["ａｌｉｃｅ", "Ａｌｉｃｅ", "alice"],  # full-width letters: NFKC makes them "alice"
    ],
    ids=["case-and-spaces", "full-width"],
)
def test_spellings_of_one_username_share_one_counter(alice, spellings):
    here = client_at(HERE)
    statuses = [sign_in(here, spelling, "wrong-password").status_code for spelling in spellings]

    assert statuses == [200, 200, 429]
    assert sign_in(here, "alice", PASSWORD).status_code == 429
    assert list(AccessAttempt.objects.values_list("username", flat=True)) == ["alice"]


def test_a_username_is_counted_the_way_allauth_compares_it():
    assert normalise_login("  ＡＬＩＣＥ\t") == "alice"
    assert normalise_login("ﬁnn") == "finn"  # a ligature
    assert normalise_login("Alice@Example.COM") == "alice@example.com"
    assert normalise_login("x" * 1000) == "x" * 255  # the column's length
    assert normalise_login("al\x00ice") == "alice"


def test_an_email_address_is_counted_as_typed_not_as_its_accounts_username(alice):
    """Counting it under "alice" would let a guesser learn whose address it is."""
    here = client_at(HERE)
    assert fail(here, "Alice@Example.com", 3) == [200, 200, 429]
    assert sign_in(here, "alice@example.com", PASSWORD).status_code == 429
    assert list(AccessAttempt.objects.values_list("username", flat=True)) == ["alice@example.com"]
    assert sign_in(here, "alice", PASSWORD).status_code == 302


# --- One address, many usernames; one username, many addresses --------------------------------


def test_an_address_failing_across_many_usernames_is_locked_out(alice):
    here = client_at(HERE)
    statuses = [sign_in(here, f"guess{n}", "wrong-password").status_code for n in range(6)]

    assert statuses == [200] * 5 + [429]
    assert sign_in(here, "alice", PASSWORD).status_code == 429  # even the right password
    assert sign_in(client_at(ELSEWHERE), "alice", PASSWORD).status_code == 302


def test_a_username_failing_from_many_addresses_is_locked_out_everywhere(alice):
    statuses = [
        sign_in(client_at(f"192.0.2.{n}"), "alice", "wrong-password").status_code
        for n in range(1, 10)
    ]

    assert statuses == [200] * 8 + [429]
    assert sign_in(client_at(ELSEWHERE), "alice", PASSWORD).status_code == 429
    # Another username from those addresses is not affected.
    UserFactory(username="bob", password=PASSWORD)
    assert sign_in(client_at("192.0.2.1"), "bob", PASSWORD).status_code == 302


# --- Retry-After tells the truth ------------------------------------------------------------


def test_retry_after_is_the_real_wait_and_the_lockout_lifts_exactly_then(alice):
    """Well past 300 s (the old cache's default timeout): the wait is the window's."""
    here = client_at(HERE)
    start = timezone.now().replace(microsecond=0)
    with time_machine.travel(start, tick=False):
        assert fail(here, "alice", 3) == [200, 200, 429]

    asked = start + timedelta(seconds=300.5)
    with time_machine.travel(asked, tick=False):
        response = sign_in(here, "alice", PASSWORD)
        assert response.status_code == 429
        # The lockout holds until 900 s after the last failure: 599.5 s more, so 600.
        assert response["Retry-After"] == "600"
        assert "10 minutes" in response.content.decode()

    with time_machine.travel(asked + timedelta(seconds=599), tick=False):
        response = sign_in(here, "alice", PASSWORD)
        assert (response.status_code, response["Retry-After"]) == (429, "1")
    with time_machine.travel(asked + timedelta(seconds=600), tick=False):
        assert sign_in(here, "alice", PASSWORD).status_code == 302


def test_tries_while_locked_out_are_refused_without_counting_or_extending_it(alice):
    here = client_at(HERE)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        fail(here, "alice", 3)
    for minutes in (1, 5, 10):
        with time_machine.travel(start + timedelta(minutes=minutes), tick=False):
            response = sign_in(here, "alice", "wrong-password")
            assert response.status_code == 429
            assert response["Retry-After"] == str(900 - 60 * minutes + 1)
    assert AccessAttempt.objects.get().failures_since_start == 3
    with time_machine.travel(start + timedelta(seconds=901), tick=False):
        assert sign_in(here, "alice", PASSWORD).status_code == 302


def test_a_lockout_counted_over_several_rows_lifts_when_its_oldest_needed_one_expires(
    settings, alice
):
    """The address lockout sums the rows of every username it tried; each row stops counting
    900 s after its own last failure."""
    settings.LOGIN_IP_LIMIT = 3
    here = client_at(HERE)
    start = timezone.now().replace(microsecond=0)
    for offset, name in ((0, "guess-a"), (100, "guess-b"), (200, "guess-c")):
        with time_machine.travel(start + timedelta(seconds=offset), tick=False):
            sign_in(here, name, "wrong-password")

    with time_machine.travel(start + timedelta(seconds=200), tick=False):
        response = sign_in(here, "alice", PASSWORD)
        assert (response.status_code, response["Retry-After"]) == (429, "701")
    with time_machine.travel(start + timedelta(seconds=900), tick=False):
        assert sign_in(here, "alice", PASSWORD).status_code == 429  # guess-a still counts
    with time_machine.travel(start + timedelta(seconds=901), tick=False):
        assert sign_in(here, "alice", PASSWORD).status_code == 302


# --- Recorded in the database ---------------------------------------------------------------


def test_failures_lockouts_and_sign_ins_are_recorded(alice):
    here = client_at(HERE)
    fail(here, "alice", 3)

    attempt = AccessAttempt.objects.get()
    assert (attempt.username, attempt.ip_address, attempt.failures_since_start) == (
        "alice",
        HERE,
        3,
    )
    assert "wrong-password" not in attempt.post_data  # passwords are masked
    failures = AccessFailureLog.objects.order_by("attempt_time")
    assert [f.locked_out for f in failures] == [False, False, True]
    assert {f.ip_address for f in failures} == {HERE}

    elsewhere = client_at(ELSEWHERE)
    sign_in(elsewhere, "alice", PASSWORD)
    log = AccessLog.objects.get()
    assert (log.username, log.ip_address, log.logout_time) == ("alice", ELSEWHERE, None)
    elsewhere.post(reverse("account_logout"))
    log.refresh_from_db()
    assert log.logout_time is not None


def test_a_sign_in_clears_that_usernames_failures_from_that_address_only(alice):
    here = client_at(HERE)
    fail(here, "alice", 2)
    fail(here, "someone-else", 1)
    fail(client_at(ELSEWHERE), "alice", 1)

    assert sign_in(here, "alice", PASSWORD).status_code == 302

    left = set(AccessAttempt.objects.values_list("username", "ip_address"))
    assert left == {("someone-else", HERE), ("alice", ELSEWHERE)}
    here.post(reverse("account_logout"))
    assert fail(here, "alice", 2) == [200, 200]  # counting from zero again


def test_signing_in_to_an_account_of_ones_own_does_not_clear_the_address(settings, alice):
    """The attacker's own account is no way to reset the counter of the address."""
    settings.LOGIN_IP_LIMIT = 4
    UserFactory(username="mallory", password=PASSWORD)
    here = client_at(HERE)
    fail(here, "alice", 2)
    fail(here, "carol", 1)
    assert sign_in(here, "mallory", PASSWORD).status_code == 302
    here.post(reverse("account_logout"))

    assert fail(here, "carol", 1) == [429]


# --- The lockout response --------------------------------------------------------------------


def test_a_lockout_asked_for_by_htmx_gets_the_sentence_alone(alice):
    here = client_at(HERE)
    fail(here, "alice", 3)

    response = sign_in(here, "alice", PASSWORD, HX_Request="true")

    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    body = response.content.decode()
    assert body.startswith("<p>Too many failed sign-in attempts") and "<html" not in body


def test_the_lockout_page_keeps_the_content_security_policy(alice):
    here = client_at(HERE)
    fail(here, "alice", 3)
    response = sign_in(here, "alice", PASSWORD)
    page = response.content.decode()
    assert response.status_code == 429
    assert "nonce-" in response["Content-Security-Policy"]
    assert " style=" not in page


def test_the_admin_sign_in_goes_through_the_same_form_and_lockouts(client):
    UserFactory(username="root", password=PASSWORD, is_staff=True, is_superuser=True)
    response = client.get(reverse("admin:login") + "?next=/admin/")
    assert response["Location"] == reverse("account_login") + "?next=/admin/"
    # Its POST, too, is sent to the one sign-in form: the admin's own form never checks.
    assert client.post(reverse("admin:login"), {"username": "root"}).status_code == 302
    assert not AccessAttempt.objects.exists()

    assert fail(client, "root", 3)[-1] == 429
    assert sign_in(client, "root", PASSWORD).status_code == 429


# --- Where the address comes from ------------------------------------------------------------


def test_the_address_is_the_one_the_quotas_use_and_only_ever_an_ip(settings):
    factory = RequestFactory()
    assert client_ip(factory.get("/", REMOTE_ADDR="2001:DB8::1")) == "2001:db8::1"
    assert client_ip(factory.get("/", REMOTE_ADDR="not-an-address")) is None
    spoofed = factory.get("/", REMOTE_ADDR=HERE, HTTP_X_FORWARDED_FOR="10.9.9.9")
    assert client_ip(spoofed) == HERE
    settings.TRUST_X_FORWARDED_FOR = True
    assert client_ip(spoofed) == "10.9.9.9"
