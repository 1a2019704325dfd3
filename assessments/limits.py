"""How often one client may do the costly or guessable things: share-token guesses, imports
and memo renders, each a quota counted in the database (accounts.quotas), and the page a
refused request gets.

The quotas are built on each use, so they follow the settings in force (tests change them).
"""

from __future__ import annotations

import math

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.quotas import Quota, client_address


def share_token_guesses() -> Quota:
    """Unknown share tokens, per client address."""
    return Quota("share-token", settings.SHARE_BAD_TOKEN_LIMIT, settings.SHARE_BAD_TOKEN_WINDOW)


def imports() -> Quota:
    """Project imports, per signed-in user."""
    return Quota("import", settings.IMPORT_LIMIT, settings.IMPORT_WINDOW)


def memo_renders() -> Quota:
    """Memos rendered (not those served already rendered), per user or client address."""
    return Quota("memo-render", settings.MEMO_RENDER_LIMIT, settings.MEMO_RENDER_WINDOW)


def user_key(request: HttpRequest) -> str:
    return f"user:{request.user.pk}"


def address_key(request: HttpRequest) -> str:
    return f"address:{client_address(request)}"


def wait_text(seconds: int) -> str:
    """A wait in words, rounded up so that it is never shorter than the real one."""
    if seconds < 90:
        return f"{seconds} second{'' if seconds == 1 else 's'}"
    if seconds < 90 * 60:
        return f"{math.ceil(seconds / 60)} minutes"
    return f"{math.ceil(seconds / 3600)} hours"


def too_many(request: HttpRequest, wait: int, message: str) -> HttpResponse:
    """429 with the real wait, in Retry-After and in words: `message` says what was refused
    and may use {wait}. Nothing was done or counted."""
    context = {"message": message.format(wait=wait_text(wait))}
    response = render(request, "429.html", context, status=429)
    response["Retry-After"] = str(wait)
    return response
