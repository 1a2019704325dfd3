"""Two-factor sign-in (allauth.mfa: an authenticator app, with recovery codes) and the user's
own session list with "sign out the other sessions" (allauth.usersessions)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import struct
import time
from datetime import timedelta
from html import unescape

import pytest
import time_machine
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.usersessions.models import UserSession
from django.contrib.auth import SESSION_KEY
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.factories import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hashing")]

PASSWORD = "plum-Harbour-42-kite"


@pytest.fixture
def alice():
    return UserFactory(username="alice", password=PASSWORD)


def totp(secret: str, at: float, digits: int = 6) -> str:
    """RFC 6238 (HMAC-SHA1, 30-second steps): what an authenticator app shows at `at`."""
    counter = struct.pack(">Q", int(at) // 30)
    digest = hmac.new(base64.b32decode(secret), counter, hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = int.from_bytes(digest[offset : offset + 4], "big") & 0x7FFFFFFF
    return f"{value % 10**digits:0{digits}d}"


def test_the_totp_helper_gives_the_rfc_6238_test_vectors():
    secret = base64.b32encode(b"12345678901234567890").decode()
    assert totp(secret, 59, digits=8) == "94287082"
    assert totp(secret, 1111111109, digits=8) == "07081804"


def sign_in(client: Client, password: str = PASSWORD):
    return client.post(reverse("account_login"), {"login": "alice", "password": password})


def is_logged_in(client: Client) -> bool:
    return SESSION_KEY in client.session


def confirm_password(client: Client) -> None:
    """What allauth asks before a change to how the account signs in (reauthentication)."""
    response = client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    assert response.status_code == 302


def activate_totp(client: Client, *, password_confirmed: bool = False) -> str:
    """Turns the authenticator app on as a user does: confirms the password when asked (it is
    asked unless just confirmed), reads the secret off the page, answers with the app's code.
    Returns the secret."""
    if not password_confirmed:
        asked = client.get(reverse("mfa_activate_totp"))
        assert asked.status_code == 302
        assert asked.url.startswith(reverse("account_reauthenticate"))
        confirm_password(client)
    page = client.get(reverse("mfa_activate_totp"))
    assert page.status_code == 200
    secret = re.search(r'id="authenticator_secret" value="([A-Z2-7=]+)"', page.content.decode())[1]
    assert 'src="data:image/svg+xml;base64,' in page.content.decode()  # the QR code
    response = client.post(reverse("mfa_activate_totp"), {"code": totp(secret, time.time())})
    assert response.status_code == 302
    return secret


def recovery_codes(client: Client) -> list[str]:
    page = client.get(reverse("mfa_view_recovery_codes")).content.decode()
    textarea = re.search(r'<textarea[^>]*id="recovery_codes"[^>]*>(.*?)</textarea>', page, re.S)
    return unescape(textarea[1]).split()


def test_an_authenticator_app_is_turned_on_with_a_code_and_then_asked_at_sign_in(client, alice):
    sign_in(client)
    secret = activate_totp(client)
    assert set(Authenticator.objects.filter(user=alice).values_list("type", flat=True)) == {
        Authenticator.Type.TOTP,
        Authenticator.Type.RECOVERY_CODES,
    }
    client.post(reverse("account_logout"))

    # The password alone no longer signs in: it leads to the code.
    response = sign_in(client)
    assert response.status_code == 302
    assert response.url == reverse("mfa_authenticate")
    assert "or one of your recovery codes" in client.get(response.url).content.decode()
    assert not is_logged_in(client)
    wrong = client.post(reverse("mfa_authenticate"), {"code": "000000"})
    assert wrong.status_code == 200
    assert wrong.context["form"].errors
    assert not is_logged_in(client)

    later = time.time() + 30  # the next code: a code is accepted once
    with time_machine.travel(later, tick=False):
        response = client.post(reverse("mfa_authenticate"), {"code": totp(secret, later)})
    assert response.status_code == 302
    assert response.url == reverse("project_list")
    assert client.session[SESSION_KEY] == str(alice.pk)


def test_wrong_codes_after_the_password_are_limited_per_user(client, alice, settings):
    """The password alone must not buy unlimited guesses at a 6-digit code: after
    LOGIN_FAILURE_LIMIT wrong codes even the right one waits, for as long as Retry-After says."""
    settings.LOGIN_FAILURE_LIMIT, settings.AUTH_LOCKOUT_WINDOW = 3, 900
    sign_in(client)
    secret = activate_totp(client)
    client.post(reverse("account_logout"))
    start = time.time() + 60
    with time_machine.travel(start, tick=False):
        sign_in(client)
        for _ in range(3):
            assert client.post(reverse("mfa_authenticate"), {"code": "000000"}).status_code == 200
        refused = client.post(reverse("mfa_authenticate"), {"code": totp(secret, start)})
    assert refused.status_code == 429
    assert refused["Retry-After"] == "900"
    assert "Too many wrong codes" in refused.content.decode()
    assert not is_logged_in(client)

    later = start + 301  # past the 300 s a file cache would have kept the counter
    with time_machine.travel(later, tick=False):
        still = client.post(reverse("mfa_authenticate"), {"code": totp(secret, later)})
    assert still.status_code == 429 and still["Retry-After"] == "599"

    end = start + 900
    with time_machine.travel(end, tick=False):
        response = client.post(reverse("mfa_authenticate"), {"code": totp(secret, end)})
    assert response.status_code == 302
    assert client.session[SESSION_KEY] == str(alice.pk)


def test_a_recovery_code_signs_in_once(client, alice):
    sign_in(client)
    activate_totp(client)
    codes = recovery_codes(client)  # shown while the confirmed password is recent
    assert len(codes) == 10 and all(code.isdigit() for code in codes)
    client.post(reverse("account_logout"))

    sign_in(client)
    response = client.post(reverse("mfa_authenticate"), {"code": codes[0]})
    assert response.status_code == 302
    assert is_logged_in(client)

    client.post(reverse("account_logout"))
    sign_in(client)
    reused = client.post(reverse("mfa_authenticate"), {"code": codes[0]})
    assert reused.status_code == 200
    assert not is_logged_in(client)
    assert client.post(reverse("mfa_authenticate"), {"code": codes[1]}).status_code == 302


def test_turning_two_factor_on_needs_every_address_verified(client, alice):
    """Otherwise someone could sign up with another person's address, turn two-factor on,
    and keep that person out of an account they could otherwise recover."""
    EmailAddress.objects.create(user=alice, email="alice@example.com", primary=True)
    sign_in(client)

    response = client.get(reverse("mfa_activate_totp"))

    assert response.status_code == 302
    assert response.url == reverse("mfa_index")
    assert not Authenticator.objects.exists()


def test_a_confirmed_password_lasts_five_minutes(client, alice):
    sign_in(client)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        confirm_password(client)
        assert client.get(reverse("mfa_activate_totp")).status_code == 200
    with time_machine.travel(start + timedelta(minutes=5, seconds=1), tick=False):
        response = client.get(reverse("mfa_activate_totp"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_reauthenticate"))


# --- Sessions ---------------------------------------------------------------------------


def test_the_session_list_shows_every_session_and_signs_out_the_others(alice):
    laptop = Client(REMOTE_ADDR="203.0.113.7", HTTP_USER_AGENT="Laptop browser")
    phone = Client(REMOTE_ADDR="198.51.100.20", HTTP_USER_AGENT="Phone browser")
    sign_in(laptop)
    sign_in(phone)

    page = laptop.get(reverse("usersessions_list"))

    content = page.content.decode()
    assert page.status_code == 200
    for seen in ("203.0.113.7", "Laptop browser", "198.51.100.20", "Phone browser"):
        assert seen in content
    assert content.count("This session") == 1
    assert "Sign out the other sessions" in content

    response = laptop.post(reverse("usersessions_list"))

    assert response.status_code == 302
    assert is_logged_in(laptop)
    assert laptop.get(reverse("project_list")).status_code == 200
    gone = phone.get(reverse("project_list"))
    assert gone.status_code == 302
    assert gone.url.startswith(reverse("account_login"))
    assert list(UserSession.objects.values_list("ip", flat=True)) == ["203.0.113.7"]


def test_a_session_from_before_the_list_is_listed_from_its_next_request(client, alice):
    client.force_login(alice)  # a session signed in without allauth (as before it existed)
    assert not UserSession.objects.exists()

    client.get(reverse("project_list"))

    listed = UserSession.objects.get()
    assert listed.session_key == client.session.session_key
    assert "This session" in client.get(reverse("usersessions_list")).content.decode()


def test_last_seen_is_refreshed_with_the_idle_clock_at_most_once_a_minute(client, alice):
    start = time.time()
    with time_machine.travel(start, tick=False):
        sign_in(client)
        client.get(reverse("project_list"))
        seen = UserSession.objects.get().last_seen_at
    with time_machine.travel(start + 30, tick=False):
        client.get(reverse("project_list"))
        assert UserSession.objects.get().last_seen_at == seen
    with time_machine.travel(start + 61, tick=False):
        client.get(reverse("project_list"))
        assert UserSession.objects.get().last_seen_at > seen
