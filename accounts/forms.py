"""allauth's forms, with our quotas: sign-ups per client address, and wrong current passwords
per user on the password change form (settings.ACCOUNT_FORMS).

A refused request gets 429 with the seconds left in Retry-After: the form raises allauth's
ImmediateHttpResponse, which allauth's AccountMiddleware sends instead of the view's page.
"""

from __future__ import annotations

import unicodedata

from allauth.account import forms as allauth_forms
from allauth.core import context
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.mfa.base import forms as mfa_forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator

from accounts.quotas import Quota, client_address, too_many

LOGIN_MAX_LENGTH = 254  # the longest email address (RFC 5321)
TOO_MANY_SIGNUPS = "Too many sign-ups from your network. Please try again in {wait}."
TOO_MANY_CODES = (
    "Too many wrong codes. For your account's safety, two-factor sign-in is paused: please "
    "try again in {wait}."
)
TOO_MANY_GUESSES = (
    "Too many wrong current passwords. For your account's safety, changing the password is "
    "paused: please try again in {wait}."
)


def signup_quota() -> Quota:
    """Sign-up attempts from one client address (every POST counts, accepted or not)."""
    return Quota("signup", settings.SIGNUP_LIMIT, settings.AUTH_LOCKOUT_WINDOW)


def password_change_quota() -> Quota:
    """Wrong current passwords per user: someone holding a stolen session must not be able
    to guess the password with it faster than they could at the sign-in form."""
    return Quota("password-change", settings.LOGIN_FAILURE_LIMIT, settings.AUTH_LOCKOUT_WINDOW)


def two_factor_quota() -> Quota:
    """Wrong authenticator or recovery codes per user at sign-in: the password alone must not
    buy unlimited guesses at a 6-digit code (allauth's own limit on this step is its
    "login_failed" rate limit, which settings turn off in favour of django-axes)."""
    return Quota("two-factor", settings.LOGIN_FAILURE_LIMIT, settings.AUTH_LOCKOUT_WINDOW)


class LoginForm(allauth_forms.LoginForm):
    """allauth's sign-in form, its first field named for what it takes. No longer than an
    email address can be: a longer one can be no account's, and is not worth a lookup."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        login = self.fields["login"]
        login.label = "Username or email"
        login.max_length = LOGIN_MAX_LENGTH
        login.validators.append(MaxLengthValidator(LOGIN_MAX_LENGTH))
        login.widget.attrs.update(autocomplete="username", maxlength=str(LOGIN_MAX_LENGTH))

    def clean_login(self) -> str:
        """NFKC, as usernames are stored (and as the lockouts count them): "ａｌｉｃｅ" is alice."""
        return unicodedata.normalize("NFKC", super().clean_login()).strip()


class SignupForm(allauth_forms.SignupForm):
    def full_clean(self) -> None:
        if self.is_bound:
            request = context.request
            wait = signup_quota().take(client_address(request))
            if wait:
                raise ImmediateHttpResponse(too_many(request, wait, TOO_MANY_SIGNUPS))
        super().full_clean()


class ChangePasswordForm(allauth_forms.ChangePasswordForm):
    def full_clean(self) -> None:
        if self.is_bound:
            wait = password_change_quota().retry_after(self._quota_key())
            if wait:
                raise ImmediateHttpResponse(too_many(context.request, wait, TOO_MANY_GUESSES))
        super().full_clean()

    def clean_oldpassword(self) -> str:
        try:
            return super().clean_oldpassword()
        except ValidationError:  # a wrong current password: counted
            password_change_quota().record(self._quota_key())
            raise

    def _quota_key(self) -> str:
        return str(self.user.pk)


class TwoFactorAuthenticateForm(mfa_forms.AuthenticateForm):
    """The code asked for after the password, with wrong codes counted per user."""

    def full_clean(self) -> None:
        if self.is_bound:
            wait = two_factor_quota().retry_after(str(self.user.pk))
            if wait:
                raise ImmediateHttpResponse(too_many(context.request, wait, TOO_MANY_CODES))
        super().full_clean()

    def clean_code(self) -> str:
        try:
            code = super().clean_code()
        except ValidationError:  # a wrong code: counted
            two_factor_quota().record(str(self.user.pk))
            raise
        two_factor_quota().clear(str(self.user.pk))
        return code
