"""Share links: create, revoke, resolve a token. Tokens are never stored, only their hash."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

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


def revoke_share_link(link: ShareLink) -> None:
    if link.revoked_at is None:
        link.revoked_at = timezone.now()
        link.save(update_fields=["revoked_at"])


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
