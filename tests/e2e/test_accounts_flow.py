"""Accounts in the browser, with JavaScript and without: sign up, sign out, sign in by email,
verify the address from the mail, turn on an authenticator app, and sign in with its code."""

from __future__ import annotations

import re
import time

import pytest
from django.core import mail
from playwright.sync_api import Page, expect

from tests.e2e.conftest import save_screenshot
from tests.test_two_factor_and_sessions import totp

PASSWORD = "a-long-test-passphrase-42"
EMAIL = "e2e-accounts@example.com"


def the_link_mailed_to(address: str) -> str:
    """The live server runs in this process, so its mail lands in Django's test outbox."""
    message = next(m for m in reversed(mail.outbox) if m.to == [address])
    return re.search(r"https?://\S+/accounts/confirm-email/\S+/", message.body)[0]


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out").click()
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Sign in")).to_be_visible()


@pytest.mark.parametrize("javascript", [True, False], ids=["javascript", "no-javascript"])
def test_sign_up_out_and_in_then_turn_on_two_factor(
    live_server, browser, settings, artifacts_dir, javascript
):
    # A code read a moment before a 30-second step ends is still taken just after it.
    settings.MFA_TOTP_TOLERANCE = 1
    context = browser.new_context(java_script_enabled=javascript)
    page = context.new_page()
    url = live_server.url
    suffix = "" if javascript else "-no-js"
    try:
        page.goto(f"{url}/accounts/signup/")
        page.fill("input[name=username]", "e2e-accounts")
        page.fill("input[name=email]", EMAIL)
        page.fill("input[name=password1]", PASSWORD)
        page.fill("input[name=password2]", PASSWORD)
        page.locator("main").get_by_role("button", name="Sign up").click()
        expect(page).to_have_url(f"{url}/projects/new/")
        expect(page.get_by_text("Welcome to Advisor")).to_be_visible()

        sign_out(page)
        page.goto(f"{url}/accounts/login/")
        page.fill("input[name=login]", EMAIL)
        page.fill("input[name=password]", PASSWORD)
        page.locator("main").get_by_role("button", name="Sign in").click()
        expect(page).to_have_url(f"{url}/projects/")

        # Two-factor needs the address verified first: the link from the sign-up mail.
        page.goto(the_link_mailed_to(EMAIL))
        page.get_by_role("button", name="Confirm").click()
        expect(page.get_by_text("You have confirmed")).to_be_visible()

        page.get_by_role("navigation", name="Main").get_by_role("link", name="Account").click()
        page.get_by_role("link", name="Two-factor authentication").click()
        page.get_by_role("link", name="Activate").click()
        # allauth asks for the password again before a change to how the account signs in.
        expect(page).to_have_url(re.compile(r"/accounts/reauthenticate/"))
        page.fill("input[name=password]", PASSWORD)
        page.locator("main").get_by_role("button", name="Confirm").click()
        expect(page).to_have_url(f"{url}/accounts/2fa/totp/activate/")
        expect(page.locator("img.qr-code")).to_be_visible()
        save_screenshot(page, str(artifacts_dir / f"2fa-activate{suffix}.png"), full_page=True)
        secret = page.locator("#authenticator_secret").input_value()
        page.fill("input[name=code]", totp(secret, time.time()))
        page.get_by_role("button", name="Activate").click()
        expect(page.get_by_role("heading", name="Recovery Codes")).to_be_visible()
        expect(page.locator("#recovery_codes")).to_have_value(re.compile(r"^(\d+\s+){9}\d+$"))

        sign_out(page)
        page.goto(f"{url}/accounts/login/")
        page.fill("input[name=login]", "e2e-accounts")
        page.fill("input[name=password]", PASSWORD)
        page.locator("main").get_by_role("button", name="Sign in").click()
        expect(page).to_have_url(f"{url}/accounts/2fa/authenticate/")
        save_screenshot(page, str(artifacts_dir / f"2fa-code{suffix}.png"), full_page=True)
        page.fill("input[name=code]", totp(secret, time.time()))
        page.locator("main").get_by_role("button", name="Sign in").click()
        expect(page).to_have_url(f"{url}/projects/")
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Account").click()
        page.get_by_role("link", name="Sessions").click()
        expect(page.get_by_text("This session")).to_be_visible()
    finally:
        context.close()
