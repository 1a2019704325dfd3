"""A team per project: the owner invites existing users as editors or viewers, changes their
roles, removes them or transfers the project; members reach it as their role allows, and a
removed member's very next request finds nothing."""

from __future__ import annotations

import contextlib
import re

import pytest
from allauth.account.models import EmailAddress
from django.db import IntegrityError
from django.test import Client
from django.urls import NoReverseMatch, reverse

from assessments import team
from assessments.models import Answer, Membership, Milestone, Project, ShareLink
from assessments.services import reassess
from assessments.sharing import create_share_link
from assessments.team import TeamRefused
from tests.factories import (
    AssessmentFactory,
    ExampleProjectFactory,
    ProjectFactory,
    UserFactory,
    V1AssessmentFactory,
    stored_answers,
)

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


@pytest.fixture
def project(owner):
    return ProjectFactory(owner=owner, name="Support bot", description="Ours.")


@pytest.fixture
def editor(project, owner):
    user = UserFactory(username="erin")
    Membership.objects.create(project=project, user=user, role="editor", added_by=owner)
    return user


@pytest.fixture
def viewer(project, owner):
    user = UserFactory(username="victor")
    Membership.objects.create(project=project, user=user, role="viewer", added_by=owner)
    return user


def membership(project, user) -> Membership:
    return Membership.objects.get(project=project, user=user)


def client_of(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def roles(project) -> dict[str, str]:
    return dict(project.memberships.values_list("user__username", "role"))


def verified(user, email: str, *, is_verified: bool = True) -> None:
    EmailAddress.objects.create(user=user, email=email, verified=is_verified, primary=True)


# --- Services ---------------------------------------------------------------------------------


def test_inviting_by_username_in_any_case_adds_the_member_with_the_role(project, owner):
    bob = UserFactory(username="bob")

    added = team.invite(project, owner, "  BOB ", "viewer")

    assert (added.user, added.role, added.added_by) == (bob, "viewer", owner)
    assert roles(project) == {"bob": "viewer"}


def test_inviting_by_a_verified_email_address_finds_its_user(project, owner):
    bob = UserFactory(username="bob")
    verified(bob, "Bob@Example.com")

    added = team.invite(project, owner, "bob@example.COM", "editor")

    assert (added.user, added.role) == (bob, "editor")


def test_an_unverified_address_matches_no_one_and_says_what_an_unknown_name_says(project, owner):
    verified(UserFactory(username="bob"), "bob@example.com", is_verified=False)

    with pytest.raises(TeamRefused) as unverified:
        team.invite(project, owner, "bob@example.com", "editor")
    with pytest.raises(TeamRefused) as unknown:
        team.invite(project, owner, "nobody@example.com", "editor")

    assert str(unverified.value) == str(unknown.value).replace("nobody", "bob")
    assert "verified email address" in str(unverified.value)
    assert unverified.value.field == "who"
    assert not project.memberships.exists()


def test_an_inactive_account_cannot_be_invited(project, owner):
    UserFactory(username="gone", is_active=False)

    with pytest.raises(TeamRefused, match="No account"):
        team.invite(project, owner, "gone", "viewer")


def test_the_owner_cannot_invite_themself(project, owner):
    with pytest.raises(TeamRefused, match="you own this project"):
        team.invite(project, owner, owner.username, "editor")
    assert not project.memberships.exists()


def test_inviting_a_member_again_says_so_and_suggests_changing_the_role(project, owner, viewer):
    with pytest.raises(TeamRefused) as refused:
        team.invite(project, owner, "victor", "editor")

    assert "already a member (viewer)" in str(refused.value)
    assert "change their role" in str(refused.value)
    assert roles(project) == {"victor": "viewer"}


def test_a_role_other_than_editor_or_viewer_is_refused_naming_the_role(project, owner):
    UserFactory(username="bob")

    for role in ("owner", "admin", ""):
        with pytest.raises(TeamRefused) as refused:
            team.invite(project, owner, "bob", role)
        assert refused.value.field == "role"
    assert not project.memberships.exists()


def test_a_worked_example_has_no_members():
    example = ExampleProjectFactory()
    UserFactory(username="bob")
    anyone = UserFactory()

    with pytest.raises(TeamRefused, match="worked example"):
        team.invite(example, anyone, "bob", "viewer")
    assert not example.memberships.exists()


def test_only_the_current_owner_changes_the_team(project, owner, editor, viewer):
    with pytest.raises(TeamRefused, match="Only the project's owner"):
        team.invite(project, editor, "bob", "viewer")
    with pytest.raises(TeamRefused):
        team.remove_member(project, editor, membership(project, viewer).pk)
    assert roles(project) == {"erin": "editor", "victor": "viewer"}


def test_changing_a_role_reports_whether_it_changed(project, owner, viewer):
    pk = membership(project, viewer).pk

    assert team.change_role(project, owner, pk, "editor") is True
    assert team.change_role(project, owner, pk, "editor") is False
    assert roles(project) == {"victor": "editor"}


def test_removing_a_member_takes_them_off(project, owner, editor, viewer):
    team.remove_member(project, owner, membership(project, editor).pk)

    assert roles(project) == {"victor": "viewer"}
    assert not Project.objects.reached_by(editor).exists()


def test_a_member_of_another_project_is_not_this_ones_to_remove(project, owner, viewer):
    elsewhere = ProjectFactory(owner=owner)
    other = Membership.objects.create(project=elsewhere, user=viewer, role="viewer")

    with pytest.raises(TeamRefused, match="no longer a member"):
        team.remove_member(project, owner, other.pk)
    assert Membership.objects.filter(pk=other.pk).exists()


def test_a_member_can_leave_but_the_owner_cannot(project, owner, viewer):
    team.leave(project, viewer)
    assert roles(project) == {}

    with pytest.raises(TeamRefused, match="You are not a member"):
        team.leave(project, viewer)
    with pytest.raises(TeamRefused, match="transfer it"):
        team.leave(project, owner)


def test_transferring_makes_the_member_owner_and_keeps_the_old_owner_as_editor(
    project, owner, editor, viewer
):
    result = team.transfer_ownership(project, owner, membership(project, viewer).pk)

    project.refresh_from_db()
    assert project.owner == viewer == result.owner
    assert roles(project) == {"erin": "editor", owner.username: "editor"}
    assert Project.objects.reached_by(viewer, "owner").get() == project
    with pytest.raises(TeamRefused):  # the old owner no longer manages the team
        team.invite(project, owner, "bob", "viewer")


def test_a_transfer_that_fails_half_way_changes_nothing(project, owner, viewer, monkeypatch):
    def fail(*args, **kwargs):
        raise IntegrityError("disk full")

    monkeypatch.setattr(Membership.objects, "create", fail)

    with pytest.raises(IntegrityError):
        team.transfer_ownership(project, owner, membership(project, viewer).pk)

    project.refresh_from_db()
    assert project.owner == owner
    assert roles(project) == {"victor": "viewer"}


def test_a_transfer_to_someone_no_longer_a_member_is_refused(project, owner, viewer):
    pk = membership(project, viewer).pk
    team.leave(project, viewer)

    with pytest.raises(TeamRefused, match="no longer a member"):
        team.transfer_ownership(project, owner, pk)
    project.refresh_from_db()
    assert project.owner == owner


# --- The members page -------------------------------------------------------------------------


def members_url(project) -> str:
    return reverse("project_members", args=[project.pk])


def test_the_owner_sees_members_with_roles_an_invite_form_and_controls(
    owner_client, project, editor, viewer
):
    page = owner_client.get(members_url(project)).content.decode()

    assert "erin" in page and "victor" in page
    assert 'name="who"' in page and 'name="role"' in page
    assert reverse("member_update", args=[project.pk, membership(project, editor).pk]) in page
    assert reverse("member_remove", args=[project.pk, membership(project, viewer).pk]) in page
    assert reverse("project_transfer", args=[project.pk]) in page


def test_a_viewer_sees_the_team_and_can_only_leave(project, editor, viewer):
    response = client_of(viewer).get(members_url(project))

    page = response.content.decode()
    assert response.status_code == 200
    assert "erin" in page and "Editor" in page
    assert 'name="who"' not in page
    assert reverse("member_update", args=[project.pk, membership(project, editor).pk]) not in page
    assert reverse("member_remove", args=[project.pk, membership(project, editor).pk]) not in page
    assert reverse("member_remove", args=[project.pk, membership(project, viewer).pk]) in page
    assert "Leave project" in page


def test_inviting_without_javascript_redirects_with_a_message(owner_client, project):
    UserFactory(username="bob")

    response = owner_client.post(
        members_url(project), {"who": "bob", "role": "editor"}, follow=True
    )

    assert response.redirect_chain == [(members_url(project), 302)]
    assert "bob added as editor" in response.content.decode()
    assert roles(project) == {"bob": "editor"}


def test_inviting_by_htmx_swaps_the_panel_in_place(owner_client, project):
    UserFactory(username="bob")

    response = owner_client.post(
        members_url(project), {"who": "bob", "role": "viewer"}, headers=HTMX
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert page.lstrip().startswith('<section id="members"')
    assert "<html" not in page
    assert "bob added as viewer" in page
    assert roles(project) == {"bob": "viewer"}


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["plain", "htmx"])
def test_an_unknown_invitee_is_a_422_naming_the_field_and_changes_nothing(
    owner_client, project, headers
):
    response = owner_client.post(
        members_url(project), {"who": "nobody", "role": "viewer"}, headers=headers
    )

    page = response.content.decode()
    assert response.status_code == 422
    assert 'id="id_who_error"' in page
    assert "No account has the username or verified email address “nobody”" in page
    assert ("<html" in page) == (not headers)
    assert not project.memberships.exists()


def test_an_empty_invite_is_a_422_naming_the_field(owner_client, project):
    response = owner_client.post(members_url(project), {"who": "", "role": "viewer"})

    assert response.status_code == 422
    assert 'id="id_who_error"' in response.content.decode()


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["plain", "htmx"])
def test_changing_a_role(owner_client, project, viewer, headers):
    url = reverse("member_update", args=[project.pk, membership(project, viewer).pk])

    response = owner_client.post(url, {"role": "editor"}, headers=headers)

    assert response.status_code == (200 if headers else 302)
    assert roles(project) == {"victor": "editor"}
    if headers:
        assert "victor is now an editor" in response.content.decode()


def test_a_bad_role_is_a_422_that_names_the_member_and_changes_nothing(
    owner_client, project, viewer
):
    url = reverse("member_update", args=[project.pk, membership(project, viewer).pk])

    response = owner_client.post(url, {"role": "owner"})

    assert response.status_code == 422
    assert "Role of victor: choose Editor or Viewer" in response.content.decode()
    assert roles(project) == {"victor": "viewer"}


def test_another_projects_membership_is_a_404_even_for_the_owner(owner_client, project, owner):
    elsewhere = ProjectFactory(owner=owner)
    other = Membership.objects.create(project=elsewhere, user=UserFactory(), role="viewer")

    url = reverse("member_update", args=[project.pk, other.pk])
    response = owner_client.post(url, {"role": "editor"})

    assert response.status_code == 404
    assert Membership.objects.get(pk=other.pk).role == "viewer"


def test_removing_a_member_takes_effect_on_their_next_request(owner_client, project, editor):
    assessment = AssessmentFactory(project=project)
    editor_client = client_of(editor)
    report = reverse("report", args=[assessment.pk])
    assert editor_client.get(report).status_code == 200
    assert editor_client.get(reverse("project_list")).content.decode().count(project.name) == 1

    url = reverse("member_remove", args=[project.pk, membership(project, editor).pk])
    assert owner_client.post(url, headers=HTMX).status_code == 200

    assert editor_client.get(report).status_code == 404  # the same session, the next request
    autosave = reverse("save_question", args=[assessment.pk, "latency"])
    assert editor_client.post(autosave, {"latency": "batch"}, headers=HTMX).status_code == 404
    assert project.name not in editor_client.get(reverse("project_list")).content.decode()
    assert stored_answers(assessment) == {}


def test_a_member_leaves_and_lands_on_their_project_list(project, viewer):
    client = client_of(viewer)
    url = reverse("member_remove", args=[project.pk, membership(project, viewer).pk])

    response = client.post(url, follow=True)

    assert response.redirect_chain == [(reverse("project_list"), 302)]
    assert "You left “Support bot”" in response.content.decode()
    assert roles(project) == {}


def test_a_member_cannot_remove_another_member(project, editor, viewer):
    url = reverse("member_remove", args=[project.pk, membership(project, viewer).pk])

    response = client_of(editor).post(url)

    assert response.status_code == 404
    assert roles(project) == {"erin": "editor", "victor": "viewer"}


def test_members_cannot_invite_or_change_roles(project, editor, viewer):
    UserFactory(username="bob")
    for user in (editor, viewer):
        client = client_of(user)
        assert (
            client.post(members_url(project), {"who": "bob", "role": "editor"}).status_code == 404
        )
        url = reverse("member_update", args=[project.pk, membership(project, user).pk])
        assert client.post(url, {"role": "editor"}).status_code == 404
        assert client.get(reverse("project_transfer", args=[project.pk])).status_code == 404
    assert roles(project) == {"erin": "editor", "victor": "viewer"}


# --- Transfer ---------------------------------------------------------------------------------


def test_the_transfer_page_lists_the_members(owner_client, project, editor, viewer):
    page = owner_client.get(reverse("project_transfer", args=[project.pk])).content.decode()

    assert re.search(rf'<option value="{membership(project, editor).pk}">erin \(editor\)', page)
    assert re.search(rf'<option value="{membership(project, viewer).pk}">victor \(viewer\)', page)


def test_without_members_there_is_no_one_to_transfer_to(owner_client, project):
    page = owner_client.get(reverse("project_transfer", args=[project.pk])).content.decode()

    assert "Invite someone first" in page
    assert 'name="member"' not in page


def test_transferring_redirects_to_the_project_with_a_message(owner_client, project, owner, editor):
    url = reverse("project_transfer", args=[project.pk])

    response = owner_client.post(url, {"member": membership(project, editor).pk}, follow=True)

    assert response.redirect_chain == [(project.get_absolute_url(), 302)]
    page = response.content.decode()
    assert "erin now owns “Support bot”" in page
    assert reverse("project_delete", args=[project.pk]) not in page  # an editor now
    project.refresh_from_db()
    assert project.owner == editor
    assert roles(project) == {owner.username: "editor"}


@pytest.mark.parametrize("member", ["", "999999", "x"])
def test_transferring_to_no_member_is_a_422_naming_the_field(
    owner_client, project, owner, editor, member
):
    url = reverse("project_transfer", args=[project.pk])

    response = owner_client.post(url, {"member": member})

    assert response.status_code == 422
    assert 'id="id_member_error"' in response.content.decode()
    project.refresh_from_db()
    assert project.owner == owner


# --- What each role can do elsewhere ----------------------------------------------------------


@pytest.fixture
def assessment(project, complete_v2_answers):
    return AssessmentFactory(project=project, answers=complete_v2_answers)


def test_a_viewer_cannot_save_an_answer(project, viewer, assessment, complete_v2_answers):
    client = client_of(viewer)
    autosave = reverse("save_question", args=[assessment.pk, "latency"])
    form = reverse("questionnaire", args=[assessment.pk])

    assert client.post(autosave, {"latency": "batch"}, headers=HTMX).status_code == 404
    assert client.post(autosave, {"latency": "batch"}).status_code == 404
    assert client.post(form, {"latency": "batch"}).status_code == 404
    assert client.get(form).status_code == 404
    assert stored_answers(assessment) == complete_v2_answers


def test_a_viewer_cannot_make_a_share_link(project, viewer, assessment):
    url = reverse("share_create", args=[assessment.pk])

    response = client_of(viewer).post(url, {"label": "mine", "expiry": "30"}, headers=HTMX)

    assert response.status_code == 404
    assert not ShareLink.objects.exists()


def test_a_viewer_cannot_save_a_milestone(project, viewer, assessment):
    try:
        url = reverse("milestone_create", args=[assessment.pk])
    except NoReverseMatch:
        pytest.skip("milestones are not wired yet")

    response = client_of(viewer).post(url, {"name": "v1 sign-off"})

    assert response.status_code == 404
    assert not Milestone.objects.exists()


def test_an_editor_answers_by_form_and_by_autosave(project, editor, assessment):
    client = client_of(editor)
    autosave = reverse("save_question", args=[assessment.pk, "latency"])

    response = client.post(autosave, {"latency": "batch"}, headers=HTMX)

    assert response.status_code == 200
    assert stored_answers(assessment)["latency"] == "batch"
    assert Answer.objects.filter(assessment=assessment, question_id="latency").count() == 1
    assert client.get(reverse("questionnaire", args=[assessment.pk])).status_code == 200


def test_an_editor_makes_a_share_link(project, editor, assessment):
    url = reverse("share_create", args=[assessment.pk])

    response = client_of(editor).post(url, {"label": "for the CFO", "expiry": "30"}, headers=HTMX)

    assert response.status_code == 200
    assert assessment.share_links.filter(label="for the CFO").exists()


def test_the_project_page_shows_each_role_only_its_controls(
    owner_client, project, editor, viewer, assessment
):
    edit, delete = (reverse(n, args=[project.pk]) for n in ("project_edit", "project_delete"))
    answers = f'href="{reverse("questionnaire", args=[assessment.pk])}"'
    start = reverse("assessment_create", args=[project.pk])
    members = members_url(project)
    url = project.get_absolute_url()
    pages = {
        "owner": owner_client.get(url).content.decode(),
        "editor": client_of(editor).get(url).content.decode(),
        "viewer": client_of(viewer).get(url).content.decode(),
    }

    for role, page in pages.items():
        assert members in page, role
        assert (edit in page, delete in page) == (role == "owner",) * 2, role
        assert (answers in page, start in page) == (role != "viewer",) * 2, role
    assert 'you are <span class="badge badge-role badge-role-editor">Editor' in pages["editor"]
    assert "Shared with you by alice" in pages["viewer"]
    assert "Shared with you" not in pages["owner"]


def test_a_viewer_reads_an_incomplete_assessment_through_its_report(project, viewer):
    draft = AssessmentFactory(project=project, answers={"latency": "batch"})

    page = client_of(viewer).get(project.get_absolute_url()).content.decode()

    assert reverse("report", args=[draft.pk]) in page
    assert f'href="{reverse("questionnaire", args=[draft.pk])}"' not in page


def test_a_viewer_of_a_reassessed_report_gets_no_links_to_the_questions(
    project, owner, viewer, editor, complete_answers
):
    source = V1AssessmentFactory(project=project, answers=complete_answers)
    carried, _ = reassess(source)
    url = reverse("report", args=[carried.pk])
    questionnaire = f'href="{reverse("questionnaire", args=[carried.pk])}'

    viewer_page = client_of(viewer).get(url).content.decode()
    editor_page = client_of(editor).get(url).content.decode()

    assert 'id="carried-over"' in viewer_page
    assert questionnaire not in viewer_page
    assert reverse("assessment_reassess", args=[source.pk]) not in viewer_page
    assert questionnaire in editor_page


# --- The project list -------------------------------------------------------------------------


def test_the_project_list_shows_own_and_shared_projects_with_role_and_owner(
    project, owner, viewer, editor, django_assert_max_num_queries
):
    mine = ProjectFactory(owner=viewer, name="Mine")
    for n in range(3):
        other = ProjectFactory(owner=ProjectFactory().owner, name=f"Shared {n}")
        AssessmentFactory(project=other, answers={"latency": "batch"})
        Membership.objects.create(project=other, user=viewer, role="editor")
    ProjectFactory(owner=owner, name="Not shared")
    client = client_of(viewer)
    client.get(reverse("healthz"))

    with django_assert_max_num_queries(6):  # however many owners
        page = client.get(reverse("project_list")).content.decode()

    assert reverse("project_detail", args=[mine.pk]) in page
    assert reverse("project_detail", args=[project.pk]) in page
    assert page.count("shared by ") == 4
    assert page.count("shared by alice") == 1
    assert page.count(">Editor<") == 3 and page.count(">Viewer<") == 1
    assert "Not shared" not in page
    row_of_mine = page[page.index(">Mine<") : page.index("</th>", page.index(">Mine<"))]
    assert "shared by" not in row_of_mine


def test_an_editors_stale_whole_form_never_overwrites_another_editors_save(
    project, owner, editor, complete_v2_answers
):
    assessment = AssessmentFactory(project=project, answers=complete_v2_answers)
    second = UserFactory(username="sam")
    Membership.objects.create(project=project, user=second, role="editor")
    form_client, autosave_client = client_of(editor), client_of(second)
    url = reverse("questionnaire", args=[assessment.pk])
    page = form_client.get(url).content.decode()
    loaded_at = re.search(r'name="loaded_at" value="([^"]+)"', page).group(1)
    before = complete_v2_answers["latency"]
    others = [v for v in ("realtime", "interactive", "batch") if v != before]

    saved = autosave_client.post(
        reverse("save_question", args=[assessment.pk, "latency"]),
        {"latency": others[0]},
        headers=HTMX,
    )
    form = {q: v if isinstance(v, list) else str(v) for q, v in complete_v2_answers.items()}
    stale = form_client.post(url, form | {"latency": others[1], "loaded_at": loaded_at})

    assert saved.status_code == 200
    assert stale.status_code == 409
    assert "Nothing was saved" in stale.content.decode()
    assert stored_answers(assessment)["latency"] == others[0]


def test_a_viewers_v2_report_offers_nothing_an_editor_does(project, viewer, editor, assessment):
    url = reverse("report", args=[assessment.pk])
    editor_only = [
        reverse("questionnaire", args=[assessment.pk]),
        reverse("assessment_numbers", args=[assessment.pk]),
        reverse("share_create", args=[assessment.pk]),
    ]
    with contextlib.suppress(NoReverseMatch):
        editor_only.append(reverse("milestone_create", args=[assessment.pk]))

    viewer_page = client_of(viewer).get(url).content.decode()
    editor_page = client_of(editor).get(url).content.decode()

    assert 'id="numbers"' in viewer_page  # reads the numbers, cannot change them
    for control in editor_only:
        assert re.search(rf'"{control}["#]', viewer_page) is None, control
        assert re.search(rf'"{control}["#]', editor_page), control


def test_probing_for_accounts_by_inviting_is_limited_per_user(owner_client, project, settings):
    """Each invitation tells whether a username or verified address exists: past
    INVITE_LIMIT attempts a user gets a 429 and nobody is looked up or added."""
    settings.INVITE_LIMIT = 2
    guest = UserFactory(username="guest")
    for name in ("nobody", "someone"):
        response = owner_client.post(members_url(project), {"who": name, "role": "viewer"})
        assert response.status_code == 422

    response = owner_client.post(members_url(project), {"who": guest.username, "role": "viewer"})

    assert response.status_code == 429
    assert "Too many invitations" in response.content.decode()
    assert not project.memberships.exists()


def test_removing_or_leaving_revokes_the_share_links_the_member_made(
    project, owner, editor, viewer
):
    """A share link is a key to the project's report: a member taken off the project keeps
    none of the keys they made; the owner's links (and revoked ones) stay as they are."""
    assessment = AssessmentFactory(project=project)
    editors, _ = create_share_link(assessment, label="editor's", by=editor)
    viewers, _ = create_share_link(assessment, label="viewer's", by=viewer)
    owners, _ = create_share_link(assessment, label="owner's", by=owner)

    _, revoked = team.remove_member(project, owner, membership(project, editor).pk)
    assert revoked == 1
    assert team.leave(project, viewer) == 1

    active = set(ShareLink.objects.active().values_list("label", flat=True))
    assert active == {"owner's"}


def test_the_owner_is_told_which_links_went_with_the_member(owner_client, project, editor):
    create_share_link(AssessmentFactory(project=project), label="for the CFO", by=editor)

    response = owner_client.post(
        reverse("member_remove", args=[project.pk, membership(project, editor).pk]), follow=True
    )

    assert "The 1 share link they made was revoked" in response.content.decode()


def test_a_link_revoked_because_its_maker_left_cannot_be_undone(owner_client, project, editor):
    """Undoing that revocation would hand the key back to someone no longer on the project."""
    link, _ = create_share_link(AssessmentFactory(project=project), label="erin's", by=editor)
    team.remove_member(project, project.owner, membership(project, editor).pk)

    response = owner_client.post(
        reverse("share_undo", args=[link.assessment_id, link.pk]), follow=True
    )

    assert "stays revoked" in response.content.decode()
    assert not ShareLink.objects.get(pk=link.pk).is_active()
