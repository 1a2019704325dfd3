"""A project's team: the members page (any member reads it; the owner invites, changes
roles and removes), leaving a project, and transferring it. The rules are assessments/team.py's.

Every form works as a plain POST (redirect with a message, or the page again at 422 with the
field's error); htmx swaps the members panel (the `members_panel` partial) in place.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_http_methods, require_POST

from accounts.quotas import too_many
from assessments import limits
from assessments.access import OWNER, VIEWER, get_project
from assessments.forms import InviteForm, MemberRoleForm, TransferForm
from assessments.models import Membership, Project
from assessments.team import (
    ROLE_CHOICES,
    TeamRefused,
    change_role,
    invite,
    leave,
    members_of,
    remove_member,
    role_label,
    transfer_ownership,
)

MEMBERS_PAGE = "assessments/project_members.html"


def _members_context(request: HttpRequest, project: Project, **extra: Any) -> dict[str, Any]:
    is_owner = project.user_role == OWNER
    return {
        "project": project,
        "members": members_of(project),
        "is_owner": is_owner,
        "role_choices": ROLE_CHOICES,
        "invite_form": InviteForm() if is_owner else None,
    } | extra


def _members_response(
    request: HttpRequest, project: Project, status: int = 200, **extra: Any
) -> HttpResponse:
    """The members page, or by htmx only its panel."""
    context = _members_context(request, project, **extra)
    template = f"{MEMBERS_PAGE}#members_panel" if request.htmx else MEMBERS_PAGE
    response = render(request, template, context, status=status)
    patch_vary_headers(response, ["HX-Request"])
    return response


def _done(request: HttpRequest, project: Project, notice: str) -> HttpResponse:
    """After a change: htmx gets the panel with the notice in place, a plain form the members
    page again (a redirect, so reloading it changes nothing) with the notice as a message."""
    if request.htmx:
        return _members_response(request, project, team_notice=notice)
    messages.success(request, notice)
    return redirect("project_members", pk=project.pk)


def _revoked_text(revoked: int, who: str) -> str:
    if not revoked:
        return ""
    links = "share link" if revoked == 1 else "share links"
    return (
        f" The {revoked} {links} {who} made {'was' if revoked == 1 else 'were'} revoked; "
        "make a new one where a reader still needs the report."
    )


TOO_MANY_INVITES = (
    "Too many invitations in a short time. Nobody was invited; you can invite again in {wait}."
)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def project_members(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: who works on the project, for any member. POST: the owner invites someone."""
    project = get_project(request.user, pk, OWNER if request.method == "POST" else VIEWER)
    if request.method != "POST":
        return _members_response(request, project)
    wait = limits.invites().take(limits.user_key(request))  # every attempt counts
    if wait:
        return too_many(request, wait, TOO_MANY_INVITES)
    form = InviteForm(request.POST)
    if form.is_valid():
        try:
            membership = invite(project, request.user, **form.cleaned_data)
        except TeamRefused as refused:
            form.add_error(refused.field if refused.field in form.fields else None, str(refused))
        else:
            notice = (
                f"{membership.user.username} added as {role_label(membership.role).lower()}. "
                "They find the project in their project list."
            )
            return _done(request, project, notice)
    return _members_response(request, project, status=422, invite_form=form)


def _member(project: Project, member_pk: int) -> Membership:
    """One of the project's memberships; 404 for any other id."""
    return get_object_or_404(
        Membership.objects.select_related("user"), project=project, pk=member_pk
    )


@login_required
@require_POST
def member_update(request: HttpRequest, pk: int, member_pk: int) -> HttpResponse:
    """The owner gives a member another role."""
    project = get_project(request.user, pk, OWNER)
    membership = _member(project, member_pk)
    form = MemberRoleForm(request.POST)
    if not form.is_valid():
        error = f"Role of {membership.user.username}: choose Editor or Viewer. Nothing was changed."
        return _members_response(request, project, status=422, team_error=error)
    try:
        changed = change_role(project, request.user, membership.pk, form.cleaned_data["role"])
    except TeamRefused as refused:
        return _members_response(request, project, status=409, team_error=str(refused))
    label = role_label(form.cleaned_data["role"]).lower()
    role = f"{'an' if label == 'editor' else 'a'} {label}"
    name = membership.user.username
    notice = f"{name} is now {role}." if changed else f"{name} was {role} already."
    return _done(request, project, notice)


@login_required
@require_POST
def member_remove(request: HttpRequest, pk: int, member_pk: int) -> HttpResponse:
    """The owner removes a member; a member removes themself ("Leave project")."""
    project = get_project(request.user, pk, VIEWER)
    membership = _member(project, member_pk)
    if project.user_role == OWNER:
        try:
            _, revoked = remove_member(project, request.user, membership.pk)
        except TeamRefused as refused:
            return _members_response(request, project, status=409, team_error=str(refused))
        notice = f"{membership.user.username} removed: they no longer reach this project."
        notice += _revoked_text(revoked, "they")
        return _done(request, project, notice)
    if membership.user_id != request.user.pk:  # another member's: not theirs to touch
        raise Http404("Not a membership of yours")
    try:
        revoked = leave(project, request.user)
    except TeamRefused as refused:  # removed or made owner meanwhile
        messages.error(request, str(refused))
        return redirect("project_list")
    messages.success(request, f"You left “{project.name}”.{_revoked_text(revoked, 'you')}")
    return redirect("project_list")


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def project_transfer(request: HttpRequest, pk: int) -> HttpResponse:
    """GET asks which member becomes the owner; POST hands the project over."""
    project = get_project(request.user, pk, OWNER)
    members = members_of(project)
    form = TransferForm(request.POST or None, members=members)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                project = transfer_ownership(project, request.user, form.cleaned_data["member"])
            except TeamRefused as refused:
                form.add_error("member", str(refused))
            else:
                messages.success(
                    request,
                    f"{project.owner.username} now owns “{project.name}”. You stay on as an "
                    "editor.",
                )
                return redirect(project)
        status = 422
    context = {"project": project, "members": members, "form": form}
    return render(request, "assessments/project_transfer.html", context, status=status)
