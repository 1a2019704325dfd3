"""Sign-in lockouts: django-axes, configured in settings (AXES_*), with what is ours here.

Axes records every failed sign-in in the database (AccessAttempt: one row per username,
address and browser, with its failures and the time of the last; AccessFailureLog: each
failure; AccessLog: each sign-in) and refuses a sign-in while a lockout holds, before any
password is checked (axes.backends.AxesStandaloneBackend, first of AUTHENTICATION_BACKENDS).
A lockout counts the failures of the rows it covers, among those whose last failure is less
than AUTH_LOCKOUT_WINDOW seconds old (AXES_LOCKOUT_PARAMETERS):

- ["username", "ip_address"]: one username from one address, LOGIN_FAILURE_LIMIT;
- "ip_address": one address, whatever the usernames, LOGIN_IP_LIMIT;
- "username": one username, whatever the addresses, LOGIN_USERNAME_LIMIT.

Axes has one limit for all of them; LockoutHandler gives each its own. The username is the
sign-in field as allauth reads it (NFKC, stripped, lower-cased), so "Alice", " alice" and
"ａｌｉｃｅ" share one counter. An email address typed into that field is counted as typed,
apart from the username of its account: mapping one to the other would tell a guesser which
address belongs to which username.
"""

from __future__ import annotations

import ipaddress
import math
import unicodedata
from datetime import datetime, timedelta

from axes.handlers.database import AxesDatabaseHandler
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_cool_off, get_failure_limit, get_lockout_parameters
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import QuerySet, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.html import format_html

from accounts.quotas import client_address, wait_text

# AccessAttempt.username's length: a longer login is cut (it can never be an account's).
USERNAME_MAX = AccessAttempt._meta.get_field("username").max_length
LOCKED_OUT = (
    "Too many failed sign-in attempts. For your account's safety, signing in is paused: "
    "please try again in {wait}."
)


def normalise_login(value: str) -> str:
    """A sign-in name as allauth compares it, folded further so that look-alike spellings
    (full-width letters, ligatures, compatibility forms) count as one."""
    value = unicodedata.normalize("NFKC", value.replace("\x00", "")).strip().lower()
    return unicodedata.normalize("NFKC", value)[:USERNAME_MAX]


def lockout_username(request: HttpRequest | None, credentials: dict | None = None) -> str | None:
    """AXES_USERNAME_CALLABLE: whose sign-in this is. allauth authenticates with "username"
    and/or "email"; axes itself passes "login" (AXES_USERNAME_FORM_FIELD) after a sign-in."""
    value = None
    for key in ("login", "username", "email"):
        if credentials and isinstance(credentials.get(key), str) and credentials[key]:
            value = credentials[key]
            break
    if value is None and request is not None and request.method == "POST":
        value = request.POST.get(settings.AXES_USERNAME_FORM_FIELD)
    return normalise_login(value) if isinstance(value, str) else None


def client_ip(request: HttpRequest) -> str | None:
    """AXES_CLIENT_IP_CALLABLE: the client address (accounts.quotas.client_address), or None
    when it is not an IP address (axes stores it in an address column)."""
    try:
        return str(ipaddress.ip_address(client_address(request)))
    except ValueError:
        return None


def failure_limit(request: HttpRequest | None = None, credentials: dict | None = None) -> int:
    """AXES_FAILURE_LIMIT: the scale LockoutHandler.get_failures reports on (the failures of
    one username from one address, read when called so that a changed setting applies)."""
    return settings.LOGIN_FAILURE_LIMIT


def cool_off(request: HttpRequest | None = None) -> timedelta:
    """AXES_COOLOFF_TIME: how long a counter lasts after the last failure it counts."""
    return timedelta(seconds=settings.AUTH_LOCKOUT_WINDOW)


def limit_of(parameter: str | list[str]) -> int:
    """The limit of one lockout of AXES_LOCKOUT_PARAMETERS."""
    names = frozenset([parameter] if isinstance(parameter, str) else parameter)
    limits = {
        frozenset({"username", "ip_address"}): settings.LOGIN_FAILURE_LIMIT,
        frozenset({"ip_address"}): settings.LOGIN_IP_LIMIT,
        frozenset({"username"}): settings.LOGIN_USERNAME_LIMIT,
    }
    return limits[names]


class LockoutHandler(AxesDatabaseHandler):
    """Axes's database handler, with a limit for each lockout instead of one for all."""

    def get_failures(self, request: HttpRequest, credentials: dict | None = None) -> int:
        """Failures on the scale of failure_limit(): it is reached exactly when one of the
        lockouts reaches its own limit (its failures, plus what separates the two limits)."""
        scale = get_failure_limit(request, credentials)
        return max(
            _failures(attempts) + scale - limit
            for attempts, limit in self._lockouts(request, credentials)
        )

    def reset_user_attempts(self, request: HttpRequest, credentials: dict | None = None) -> int:
        """After a sign-in: forget that username's failures from that address, and nothing
        else. Axes would clear every lockout the request falls under, so that an attacker
        who signs in to an account of their own now and then would clear their address."""
        names = {lockout_username(request, credentials), lockout_username(request, None)}
        attempts = AccessAttempt.objects.filter(
            ip_address=request.axes_ip_address, username__in=names - {None}
        )
        count, _ = attempts.delete()
        return count

    def seconds_locked(self, request: HttpRequest, credentials: dict | None = None) -> int:
        """Whole seconds until no lockout holds for this request: one more than the time left,
        as a lockout still holds at the very instant its window ends."""
        window = get_cool_off(request)
        ends = [
            end
            for attempts, limit in self._lockouts(request, credentials)
            if (end := _lockout_end(attempts, limit, window)) is not None
        ]
        if not ends:
            return 0
        left = (max(ends) - request.axes_attempt_time).total_seconds()
        return max(1, math.floor(left) + 1)

    def _lockouts(
        self, request: HttpRequest, credentials: dict | None
    ) -> list[tuple[QuerySet, int]]:
        """Each lockout's attempts still counted, with its limit."""
        parameters = get_lockout_parameters(request, credentials)
        attempts = self.get_user_attempts(request, credentials)
        return [
            (rows, limit_of(parameter))
            for rows, parameter in zip(attempts, parameters, strict=True)
        ]


def _failures(attempts: QuerySet) -> int:
    return attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0


def _lockout_end(attempts: QuerySet, limit: int, window: timedelta) -> datetime | None:
    """When this lockout lifts, or None if it does not hold. Its rows stop counting one by
    one, oldest last failure first: it lifts when the row that brought the newer ones up to
    the limit stops counting."""
    total = 0
    for last_failure, failures in attempts.order_by("-attempt_time").values_list(
        "attempt_time", "failures_since_start"
    ):
        total += failures
        if total >= limit:
            return last_failure + window
    return None


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None, credentials: dict | None
) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE: 429 with the seconds left in Retry-After and in words. htmx gets
    the sentence alone (it swaps no error page); a browser gets the page."""
    handler = AxesProxyHandler.get_implementation()
    # No counter at its limit (a lockout axes decided otherwise): the window, at most.
    seconds = handler.seconds_locked(request, credentials) or settings.AUTH_LOCKOUT_WINDOW
    message = LOCKED_OUT.format(wait=wait_text(seconds))
    if getattr(request, "htmx", False):
        response = HttpResponse(format_html("<p>{}</p>", message), status=429)
    else:
        context = {"message": message, "reset_url": reverse("account_reset_password")}
        response = render(request, "429.html", context, status=429)
    response["Retry-After"] = str(seconds)
    return response
