"""Share links: create (showing a snapshot or the latest answers), revoke (then undo or
dismiss), resolve a token, and the sign-off responses readers give through a link. Only token
hashes are stored."""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from django.conf import settings
from django.db import transaction
from django.db.models import F, Subquery
from django.utils import timezone
from django.utils.formats import date_format

from assessments.access import EDITOR
from assessments.milestones import create_milestone, same_content
from assessments.models import Assessment, Milestone, Project, ShareLink, SignOff

TOKEN_BYTES = 32  # 256 bits from the OS's CSPRNG
EXPIRY_CHOICES = {"never": None, "7": 7, "30": 30, "90": 90}


class _NewSnapshot:
    """The `milestone` of create_share_link meaning "a milestone of the answers now"."""

    def __repr__(self) -> str:
        return "NEW_SNAPSHOT"


NEW_SNAPSHOT: Final = _NewSnapshot()


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def snapshot_name(label: str) -> str:
    """The name of the milestone a new link shows: after the link's label (blank: the
    milestones' default name, with the date)."""
    label = label.strip()
    return f"Shared: {label}" if label else ""


def read_through_name(link: ShareLink) -> str:
    """The name of the milestone a response through a link to the latest answers makes: what
    the reader read, through which link, and when."""
    through = f"“{link.label}”" if link.label else "a link to the latest answers"
    when = date_format(timezone.localtime(timezone.now()), "j M Y, H:i")
    return f"As read through {through}, {when}"


def create_share_link(
    assessment: Assessment,
    *,
    label: str = "",
    expires_in_days: int | None = None,
    milestone: Milestone | None | _NewSnapshot = NEW_SNAPSHOT,
    by=None,
) -> tuple[ShareLink, str]:
    """A new link and its token; the token exists only in this return value.

    What the link shows: NEW_SNAPSHOT (the default) a milestone of the answers now, made in
    the same transaction as the link; a milestone of this assessment; or None, always the
    latest answers. A milestone of another assessment is a ValueError and nothing is made."""
    if isinstance(milestone, Milestone) and milestone.assessment_id != assessment.pk:
        raise ValueError("a share link can only show a milestone of its own assessment")
    token = secrets.token_urlsafe(TOKEN_BYTES)
    expires_at = timezone.now() + timedelta(days=expires_in_days) if expires_in_days else None
    with transaction.atomic():
        if isinstance(milestone, _NewSnapshot):
            milestone = create_milestone(
                assessment, name=snapshot_name(label), by=by, origin=Milestone.Origin.SHARED
            )
        link = ShareLink.objects.create(
            assessment=assessment,
            milestone=milestone,
            label=label.strip(),
            created_by=by if getattr(by, "is_authenticated", False) else None,
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


def _still_on_the_project(link: ShareLink) -> bool:
    """Whether the link's maker still owns or edits its project (team.remove_member revokes
    the links of a member taken off it; undoing that would hand them their key back)."""
    return (
        Project.objects.reached_by(link.created_by, EDITOR)
        .filter(assessments=link.assessment_id)
        .exists()
    )


@transaction.atomic
def undo_revoke(link: ShareLink) -> None:
    """Restore a revoked link (the same token works again) within SHARE_UNDO_SECONDS of its
    revocation and before it is dismissed; otherwise ShareLinkRefused and nothing changes."""
    link = _locked(link)
    if link.revoked_at is None:
        raise ShareLinkRefused(f"Link “{link}” is not revoked: there is nothing to undo.")
    if link.dismissed_at is not None:
        raise ShareLinkRefused(f"Link “{link}” was dismissed: it cannot be restored.")
    if link.created_by_id is not None and not _still_on_the_project(link):
        raise ShareLinkRefused(
            f"Link “{link}” was made by someone no longer on the project, so it stays revoked "
            "(their links went with them). Create a new link instead."
        )
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
    links = ShareLink.objects.active().select_related("milestone__assessment__project")
    return links.filter(token_hash=hash_token(token)).first()


def shown_by(link: ShareLink) -> Assessment | Milestone:
    """What an active link shows: its milestone (which reads like an assessment), or the
    latest answers of its project: its current assessment, also once a newer one has been
    started than the one the link was made from."""
    if link.milestone is not None:
        return link.milestone
    return Assessment.objects.with_answers().get(pk=_current_assessment_id(link))


def _current_assessment_id(link: ShareLink) -> int:
    """The newest assessment of the link's project (one query)."""
    project = Assessment.objects.filter(pk=link.assessment_id).values("project_id")
    return Assessment.objects.current_pk(Subquery(project))


@transaction.atomic
def record_view(link: ShareLink) -> None:
    """The only write a shared page's GET makes: an atomic counter bump."""
    now = timezone.now()
    ShareLink.objects.filter(pk=link.pk).update(view_count=F("view_count") + 1, last_viewed_at=now)


# --- What a link shows ---------------------------------------------------------------------


def changed_stamp(subject: Assessment | Milestone) -> str:
    """What a shared page showed, as its sign-off form carries it back: when the answers last
    changed, and a digest of everything the page shows (the owner's cost assumptions change
    without changing that time). A different stamp on the way back means the reader responds
    to a page that is no longer what the link shows."""
    changed: datetime = subject.answers_changed_at or subject.created_at
    content = [
        subject.answer_values,
        subject.note_values,
        subject.assumptions,
        subject.price_book,
        subject.rubric_version,
    ]
    digest = hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()
    return f"{changed.isoformat()}/{digest[:16]}"


def matching_sign_offs(assessment: Assessment) -> list[SignOff]:
    """The responses to the assessment's milestones whose content is what the assessment
    (loaded with answers) holds now: the responses that still speak for its current answers.
    Two queries however many milestones and responses there are."""
    milestones = assessment.milestones.prefetch_related("sign_offs")
    return [
        sign_off
        for milestone in milestones
        if same_content(milestone, assessment)
        for sign_off in milestone.sign_offs.all()
    ]


# --- Sign-off responses --------------------------------------------------------------------


class SignOffRefused(Exception):
    """A response that cannot be recorded now; its message is for the reader."""


STALE_PAGE = (
    "The answers changed since you opened this page: please read it again before responding."
)


@dataclass(frozen=True)
class Response:
    name: str
    role: str
    decision: str
    comment: str


class LinkGone(Exception):
    """The link was revoked or expired while the response was on its way."""


@transaction.atomic
def record_sign_off(link: ShareLink, response: Response, *, seen: str = "") -> SignOff:
    """Record a reader's response to what the link shows: its milestone, or for a link to the
    latest answers, a milestone of the answers now (the newest one if it holds the same), and
    only if they are what the reader saw (`seen`, the changed_stamp of the page they read);
    else SignOffRefused and nothing is saved. The assessment's row is locked (as a save locks
    it) so the answers cannot change between the check and the copy. The link's row is locked
    first (as revoking locks it): a link revoked meanwhile records nothing (LinkGone)."""
    locked = ShareLink.objects.select_for_update().active().filter(pk=link.pk)
    if locked.values_list("pk", flat=True).first() is None:
        raise LinkGone(f"share link {link.pk} is no longer active")
    milestone = link.milestone
    if milestone is None:
        current_id = _current_assessment_id(link)
        Assessment.objects.select_for_update().filter(pk=current_id).first()
        current = Assessment.objects.with_answers().get(pk=current_id)
        if not seen or seen != changed_stamp(current):
            raise SignOffRefused(STALE_PAGE)
        newest = current.milestones.first()
        if newest is not None and same_content(newest, current):
            milestone = newest
        else:
            milestone = create_milestone(
                current, name=read_through_name(link), origin=Milestone.Origin.RESPONSE
            )
    return SignOff.objects.create(
        milestone=milestone,
        share_link=link,
        name=response.name,
        role=response.role,
        decision=response.decision,
        comment=response.comment,
        created_at=timezone.now(),
    )
