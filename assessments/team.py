"""A project's team: the owner invites existing users as editors or viewers, changes their
roles, removes them or hands the project over; a member may leave.

Plain functions, each write in one transaction. Every write first locks the project row, so
two team changes of one project (two invitations of the same person, a transfer racing a
removal) are applied one after the other against settled data, and the owner is re-read
under that lock: whoever asks must still own the project when the write happens.

A refusal raises TeamRefused with a message written for the owner (it names what to do) and
the form field it is about; nothing has changed then. Access stays where it is decided for
every view (access.py): a removed member's next request simply finds no membership.
"""

from __future__ import annotations

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone

from assessments.models import Membership, Project, ShareLink

EDITOR = Membership.Role.EDITOR
ROLE_CHOICES = Membership.Role.choices

# One message whether no account has that name or none has that address verified: an owner
# learns no more about other people's accounts than what they need to act on.
UNKNOWN = (
    "No account has the username or verified email address “{who}”. Check the spelling, or "
    "ask them to sign up and verify their address first."
)


class TeamRefused(Exception):
    """A team change that was not made; `str()` tells the owner why, `field` names the form
    field it is about ("who", "role" or "member")."""

    def __init__(self, message: str, field: str = "who") -> None:
        super().__init__(message)
        self.field = field


def role_label(role: str) -> str:
    return Membership.Role(role).label


def members_of(project: Project) -> list[Membership]:
    """The project's members (not its owner), earliest first, with their users."""
    return list(project.memberships.select_related("user").order_by("added_at", "id"))


def find_user(who: str) -> AbstractBaseUser | None:
    """The active user whose username is `who` (in any case) or who has verified the email
    address `who`; None if there is none (or no single one). An address that is not verified
    never matches: anyone can type any address into their account."""
    who = who.strip()
    if not who:
        return None
    users = get_user_model().objects.filter(is_active=True)
    by_name = list(users.filter(username__iexact=who)[:2])
    if len(by_name) == 1:
        return by_name[0]
    exact = [user for user in by_name if user.username == who]
    if exact:
        return exact[0]
    owners = set(
        EmailAddress.objects.filter(
            email__iexact=who, verified=True, user__is_active=True
        ).values_list("user_id", flat=True)[:2]
    )
    if len(owners) == 1:
        return users.get(pk=owners.pop())
    return None


def _locked(project: Project, by: AbstractBaseUser) -> Project:
    """The project's row, locked for the rest of the transaction; refused unless `by` still
    owns it (a transfer may have happened since the page was loaded)."""
    locked = Project.objects.select_for_update().get(pk=project.pk)
    if locked.is_example:
        raise TeamRefused("A worked example has no team: it is read-only for everyone.")
    if locked.owner_id != by.pk:
        raise TeamRefused("Only the project's owner manages its team.", field="member")
    return locked


def _check_role(role: str) -> Membership.Role:
    if role not in Membership.Role.values:
        raise TeamRefused("Choose a role: Editor or Viewer.", field="role")
    return Membership.Role(role)


def invite(project: Project, by: AbstractBaseUser, who: str, role: str) -> Membership:
    """Add the user named by `who` (a username or a verified email address) to the project
    as `role` ("editor" or "viewer")."""
    role = _check_role(role)
    with transaction.atomic():
        locked = _locked(project, by)
        user = find_user(who)
        if user is None:
            raise TeamRefused(UNKNOWN.format(who=who.strip()))
        if user.pk == locked.owner_id:
            raise TeamRefused("That is you: you own this project already.")
        existing = Membership.objects.filter(project=locked, user=user).first()
        if existing is not None:
            raise TeamRefused(
                f"{user.username} is already a member ({role_label(existing.role).lower()}). "
                "To give them other rights, change their role in the list instead."
            )
        try:
            with transaction.atomic():  # a savepoint: the project lock is kept either way
                return Membership.objects.create(project=locked, user=user, role=role, added_by=by)
        except IntegrityError:  # unreachable under the lock; kept as the last line of defence
            raise TeamRefused(f"{user.username} is already a member.") from None


def _membership(project: Project, member_pk: int) -> Membership:
    membership = (
        Membership.objects.select_related("user").filter(project=project, pk=member_pk).first()
    )
    if membership is None:
        raise TeamRefused(
            "That person is no longer a member of this project (the list may be out of date).",
            field="member",
        )
    return membership


def change_role(project: Project, by: AbstractBaseUser, member_pk: int, role: str) -> bool:
    """Give a member another role; returns whether it changed."""
    role = _check_role(role)
    with transaction.atomic():
        membership = _membership(_locked(project, by), member_pk)
        if membership.role == role:
            return False
        membership.role = role
        membership.save(update_fields=["role"])
        return True


def _revoke_links_made_by(project: Project, user: AbstractBaseUser) -> int:
    """Revoke the share links a departing member made of the project: a link is a key to the
    project's report, and they should hold none once they are off it. Returns how many."""
    return ShareLink.objects.filter(
        assessment__project=project, created_by=user, revoked_at__isnull=True
    ).update(revoked_at=timezone.now())


def remove_member(project: Project, by: AbstractBaseUser, member_pk: int) -> tuple[Membership, int]:
    """The owner takes a member off the project (from their next request on, they reach it
    no more) and revokes the share links they made; returns the removed membership and how
    many links were revoked."""
    with transaction.atomic():
        membership = _membership(_locked(project, by), member_pk)
        membership.delete()
        return membership, _revoke_links_made_by(project, membership.user)


def leave(project: Project, user: AbstractBaseUser) -> int:
    """A member takes themself off the project, revoking the share links they made (returns
    how many). The owner cannot leave: they transfer the project first."""
    with transaction.atomic():
        locked = Project.objects.select_for_update().get(pk=project.pk)
        if locked.owner_id == user.pk:
            raise TeamRefused(
                "You own this project: transfer it to a member first, or delete it.",
                field="member",
            )
        deleted, _ = Membership.objects.filter(project=locked, user=user).delete()
        if not deleted:
            raise TeamRefused("You are not a member of this project.", field="member")
        return _revoke_links_made_by(locked, user)


def transfer_ownership(project: Project, by: AbstractBaseUser, member_pk: int) -> Project:
    """Make a member the owner. At once: they own it (their membership goes, an owner needs
    none) and the old owner stays on as an editor. Returns the project as it now is."""
    with transaction.atomic():
        locked = _locked(project, by)
        membership = _membership(locked, member_pk)
        new_owner = membership.user
        membership.delete()
        locked.owner = new_owner
        locked.save(update_fields=["owner"])
        Membership.objects.create(project=locked, user=by, role=EDITOR, added_by=by)
        return locked
