"""Share links: create, revoke (then undo or dismiss), resolve a token. Only token hashes
are stored."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from assessments.models import Assessment, ShareLink

TOKEN_BYTES = 32  # 256 bits from the OS's CSPRNG
EXPIRY_CHOICES = {"never": None, "7": 7, "30": 30, "90": 90}


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_share_link(
    assessment: Assessment, *, label: str = "", expires_in_days: int | None = None
) -> tuple[ShareLink, str]:
    """A new link and its token; the token exists only in this return value."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    expires_at = timezone.now() + timedelta(days=expires_in_days) if expires_in_days else None
    link = ShareLink.objects.create(
        assessment=assessment,
        label=label.strip(),
        token_hash=hash_token(token),
        expires_at=expires_at,
    )
    return link, token


class ShareLinkRefused(Exception):
    """A change to a link that is not allowed now; its message is for the owner."""


def undo_window_text() -> str:
    minutes, seconds = divmod(settings.SHARE_UNDO_SECONDS, 60)
    if seconds:
        return f"{settings.SHARE_UNDO_SECONDS} seconds"
    return "1 minute" if minutes == 1 else f"{minutes} minutes"


def _locked(link: ShareLink) -> ShareLink:
    """The link's row, locked for the rest of the transaction, copied onto `link`."""
    fresh = ShareLink.objects.select_for_update().get(pk=link.pk)
    link.revoked_at, link.dismissed_at = fresh.revoked_at, fresh.dismissed_at
    return link


@transaction.atomic
def revoke_share_link(link: ShareLink) -> None:
    """Revoke now (a revoked link stays revoked; revoking again changes nothing)."""
    link = _locked(link)
    if link.revoked_at is None:
        link.revoked_at = timezone.now()
        link.save(update_fields=["revoked_at"])


@transaction.atomic
def undo_revoke(link: ShareLink) -> None:
    """Restore a revoked link (the same token works again) within SHARE_UNDO_SECONDS of its
    revocation and before it is dismissed; otherwise ShareLinkRefused and nothing changes."""
    link = _locked(link)
    if link.revoked_at is None:
        raise ShareLinkRefused(f"Link “{link}” is not revoked: there is nothing to undo.")
    if link.dismissed_at is not None:
        raise ShareLinkRefused(f"Link “{link}” was dismissed: it cannot be restored.")
    if not link.can_undo():
        raise ShareLinkRefused(
            f"Too late to undo: a revoked link can be restored for {undo_window_text()} "
            f"only, and “{link}” was revoked longer ago. Create a new link instead."
        )
    link.revoked_at = None
    link.save(update_fields=["revoked_at"])


@transaction.atomic
def dismiss_share_link(link: ShareLink) -> None:
    """Hide a revoked link from the list for good (it can no longer be restored)."""
    link = _locked(link)
    if link.revoked_at is None:
        raise ShareLinkRefused(f"Link “{link}” is still active: revoke it before dismissing it.")
    if link.dismissed_at is None:
        link.dismissed_at = timezone.now()
        link.save(update_fields=["dismissed_at"])


def resolve_token(token: str) -> ShareLink | None:
    """The active link for a token, or None (unknown, revoked and expired look the same)."""
    if not token or len(token) > 200:
        return None
    return ShareLink.objects.active().filter(token_hash=hash_token(token)).first()


@transaction.atomic
def record_view(link: ShareLink) -> None:
    """The only write a shared page's GET makes: an atomic counter bump."""
    now = timezone.now()
    ShareLink.objects.filter(pk=link.pk).update(view_count=F("view_count") + 1, last_viewed_at=now)
