"""How often one client may do the costly or guessable things: share-token guesses, imports
and memo renders, each a quota counted in the database (accounts.quotas), and the page a
refused request gets.

The quotas are built on each use, so they follow the settings in force (tests change them).
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest

from accounts.quotas import Quota, client_address


def share_token_guesses() -> Quota:
    """Unknown share tokens, per client address."""
    return Quota("share-token", settings.SHARE_BAD_TOKEN_LIMIT, settings.SHARE_BAD_TOKEN_WINDOW)


def share_responses() -> Quota:
    """Sign-off responses given on a shared page, per link and client address (see
    response_key): one reader cannot flood a link, nor one link's readers each other."""
    return Quota("share-response", settings.SHARE_RESPONSE_LIMIT, settings.SHARE_RESPONSE_WINDOW)


def link_responses() -> Quota:
    """Sign-off responses through one link from all addresses together: a client rotating
    addresses (an IPv6 /64 has many) still cannot flood the memo's sign-off block."""
    return Quota(
        "share-response-link", settings.SHARE_LINK_RESPONSE_LIMIT, settings.SHARE_RESPONSE_WINDOW
    )


def imports() -> Quota:
    """Project imports, per signed-in user."""
    return Quota("import", settings.IMPORT_LIMIT, settings.IMPORT_WINDOW)


def invites() -> Quota:
    """Invitations to a project, per signed-in user: each one tells whether a username or a
    verified address exists, so trying many is probing for accounts."""
    return Quota("invite", settings.INVITE_LIMIT, settings.INVITE_WINDOW)


def memo_renders() -> Quota:
    """Memos rendered (not those served already rendered), per user or client address."""
    return Quota("memo-render", settings.MEMO_RENDER_LIMIT, settings.MEMO_RENDER_WINDOW)


def user_key(request: HttpRequest) -> str:
    return f"user:{request.user.pk}"


def address_key(request: HttpRequest) -> str:
    return f"address:{client_address(request)}"


def response_key(request: HttpRequest, link_pk: int) -> str:
    return f"link:{link_pk}:address:{client_address(request)}"
