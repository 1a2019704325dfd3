"""Milestones: immutable copies of an assessment, their page, the owner's acceptance, the ADR
download, comparing a project's states, and who may do what."""

import re
import time
from dataclasses import dataclass

import pytest
import time_machine
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from assessments.adr import status_text
from assessments.milestones import (
    NotTheOwner,
    adr_number,
    create_milestone,
    set_accepted,
    superseded_by,
)
from assessments.models import Assessment, Membership, Milestone, MilestoneChanged, Project, SignOff
from assessments.pdf import memo_status
from assessments.rubric import load_rubric
from assessments.services import evaluate_assessment, reassess
from tests.conftest import scenario_answers
from tests.factories import (
    AssessmentFactory,
    ProjectFactory,
    UserFactory,
    V1AssessmentFactory,
    loaded,
    set_answers,
)

pytestmark = pytest.mark.django_db

V2 = load_rubric("v2")
HTMX = {"HTTP_HX_REQUEST": "true"}


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    session = client.session
    session["_idle_refreshed_at"] = int(time.time())
    session.save()
    return client


@dataclass
class Team:
    owner: User
    editor: User
    viewer: User
    stranger: User
    project: Project
    assessment: Assessment  # complete, rubric v2 (Hybrid, ready)


@pytest.fixture
def team(owner, other_user, complete_v2_answers) -> Team:
    project = ProjectFactory(owner=owner, name="Support bot", description="Answers customers.")
    editor, viewer = UserFactory(username="erin"), UserFactory(username="victor")
    Membership.objects.create(project=project, user=editor, role="editor", added_by=owner)
    Membership.objects.create(project=project, user=viewer, role="viewer", added_by=owner)
    assessment = AssessmentFactory(project=project, answers=complete_v2_answers)
    return Team(owner, editor, viewer, other_user, project, assessment)


@pytest.fixture
def milestone(team) -> Milestone:
    return create_milestone(loaded(team.assessment), name="Board review", by=team.owner)


# --- The service ---------------------------------------------------------------------------


def test_editing_answers_after_a_milestone_never_changes_it(team, milestone):
    verdict_then = evaluate_assessment(milestone).result.verdict
    set_answers(team.assessment, {"behavior_needs": ["none"], "kb_state": "messy"})

    again = Milestone.objects.get(pk=milestone.pk)
    assert again.answers == scenario_answers("v2-support-bot-hybrid")
    assert again.result == milestone.result
    assert evaluate_assessment(again).result.verdict == verdict_then
    assert evaluate_assessment(loaded(team.assessment)).result.verdict != verdict_then


def test_a_milestone_refuses_every_update_but_its_acceptance(milestone):
    milestone.name = "Renamed"
    with pytest.raises(MilestoneChanged):
        milestone.save()
    with pytest.raises(MilestoneChanged):
        milestone.save(update_fields=["name", "accepted_at"])
    assert Milestone.objects.get(pk=milestone.pk).name == "Board review"


def test_accepting_sets_and_withdrawing_clears_who_and_when(team, milestone):
    with time_machine.travel("2026-03-04 10:00Z", tick=False):
        assert set_accepted(milestone, True, by=team.owner)
    stored = Milestone.objects.get(pk=milestone.pk)
    assert stored.accepted_by == team.owner and stored.accepted_at.isoformat().startswith(
        "2026-03-04"
    )
    assert not set_accepted(stored, True, by=team.owner)  # already accepted: no write
    assert set_accepted(stored, False, by=team.owner)
    stored = Milestone.objects.get(pk=milestone.pk)
    assert stored.accepted_at is None and stored.accepted_by is None


def test_only_the_owner_at_that_moment_accepts(team, milestone):
    """Read under the project's lock: an acceptance sent by someone who is not (or no
    longer) the owner, say while the project is transferred, changes nothing."""
    with pytest.raises(NotTheOwner):
        set_accepted(milestone, True, by=team.editor)
    Project.objects.filter(pk=team.assessment.project_id).update(owner=team.editor)
    with pytest.raises(NotTheOwner):
        set_accepted(milestone, True, by=team.owner)
    assert Milestone.objects.get(pk=milestone.pk).accepted_at is None


def test_adr_numbers_count_the_projects_milestones_oldest_first(team):
    with time_machine.travel("2026-01-01 09:00Z"):
        first = create_milestone(loaded(team.assessment), name="One")
    with time_machine.travel("2026-02-01 09:00Z"):
        second = create_milestone(loaded(team.assessment), name="Two")
    create_milestone(loaded(AssessmentFactory()), name="Another project's")
    assert (adr_number(first), adr_number(second)) == (1, 2)


# --- Saving a milestone ----------------------------------------------------------------------


def test_an_editor_saves_a_milestone_without_js_and_lands_on_it(team):
    client = signed_in(team.editor)
    url = reverse("milestone_create", args=[team.assessment.pk])
    response = client.post(url, {"name": "  Board review  "}, follow=True)

    milestone = Milestone.objects.get()
    assert response.redirect_chain == [(reverse("milestone_detail", args=[milestone.pk]), 302)]
    assert milestone.name == "Board review" and milestone.created_by == team.editor
    page = response.content.decode()
    assert "Milestone “Board review” saved" in page
    assert "Immutable copy: later edits do not change it" in page


def test_a_blank_name_is_named_by_the_date(team):
    client = signed_in(team.owner)
    with time_machine.travel("2026-05-06 07:08Z", tick=False):
        client.post(reverse("milestone_create", args=[team.assessment.pk]), {"name": ""})
    assert Milestone.objects.get().name.startswith("Milestone of 6 May 2026")


def test_saving_with_htmx_swaps_the_form_with_a_link_to_the_milestone(team):
    client = signed_in(team.owner)
    url = reverse("milestone_create", args=[team.assessment.pk])
    response = client.post(url, {"name": "Pilot"}, **HTMX)

    assert response.status_code == 200
    page = response.content.decode()
    assert page.lstrip().startswith('<section id="milestone-save"')
    assert reverse("milestone_detail", args=[Milestone.objects.get().pk]) in page
    assert "Milestone “Pilot” saved" in page


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_a_too_long_name_is_refused_at_422_naming_the_field(team, htmx):
    client = signed_in(team.owner)
    url = reverse("milestone_create", args=[team.assessment.pk])
    response = client.post(url, {"name": "x" * 121}, **(HTMX if htmx else {}))

    assert response.status_code == 422
    page = response.content.decode()
    assert "Milestone name: Ensure this value has at most 120 characters" in page
    assert 'aria-invalid="true"' in page
    assert ("<html" in page) is not htmx
    assert not Milestone.objects.exists()


def test_a_refused_milestone_without_javascript_shows_the_whole_report_page_again(team, milestone):
    """The page shown again is the report page as it was: its responses and share panel."""
    SignOff.objects.create(milestone=milestone, name="Cleo", decision="approve")
    url = reverse("milestone_create", args=[team.assessment.pk])

    page = signed_in(team.editor).post(url, {"name": "x" * 121}).content.decode()

    assert 'id="sign-offs"' in page and "Cleo" in page
    assert 'id="share"' in page


def test_the_report_offers_editors_the_milestone_form_and_viewers_not(team):
    url = reverse("report", args=[team.assessment.pk])
    action = reverse("milestone_create", args=[team.assessment.pk])
    assert action in signed_in(team.editor).get(url).content.decode()
    assert action not in signed_in(team.viewer).get(url).content.decode()


def test_an_incomplete_assessment_can_be_saved_and_its_page_says_so(team):
    draft = AssessmentFactory(project=team.project, answers={"knowledge_needs": ["documents"]})
    client = signed_in(team.owner)
    response = client.post(reverse("milestone_create", args=[draft.pk]), {}, follow=True)

    milestone = Milestone.objects.get()
    assert milestone.result is None
    page = response.content.decode()
    assert "The report was not complete then" in page
    assert "It has no verdict" in page


def test_a_frozen_v1_assessment_can_still_get_a_milestone(owner, complete_answers):
    v1 = V1AssessmentFactory(project__owner=owner, answers=complete_answers)
    reassess(loaded(v1))
    client = signed_in(owner)
    response = client.post(reverse("milestone_create", args=[v1.pk]), {"name": "v1 as it was"})

    milestone = Milestone.objects.get()
    assert response.status_code == 302
    assert milestone.rubric_version == "v1" and milestone.answers == complete_answers
    assert signed_in(owner).get(reverse("milestone_detail", args=[milestone.pk])).status_code == 200


# --- The milestone page ----------------------------------------------------------------------


def test_the_milestone_page_is_a_read_only_report_of_the_copy(team, milestone):
    page = signed_in(team.owner).get(reverse("milestone_detail", args=[milestone.pk]))
    text = page.content.decode()

    assert page.status_code == 200
    assert "Board review" in text and "by alice" in text
    assert "Immutable copy: later edits do not change it" in text
    assert "The current assessment still matches this milestone" in text
    assert milestone.result["label"] in text
    assert 'class="edit-link"' not in text  # never a link to change answers
    assert reverse("questionnaire", args=[team.assessment.pk]) not in text
    assert "Status: <strong>Proposed</strong>" in text
    assert reverse("milestone_adr", args=[milestone.pk]) in text
    assert f"?left=m{milestone.pk}&amp;right=a{team.assessment.pk}" in text


def test_the_milestone_page_says_when_the_answers_changed_since(team, milestone):
    set_answers(team.assessment, {"kb_state": "messy"})
    text = signed_in(team.viewer).get(reverse("milestone_detail", args=[milestone.pk])).content
    assert "The answers have changed since this milestone" in text.decode()
    # Its report is still the copy's: ready then, whatever the assessment says now.
    assert V2.readiness_label("ready") in text.decode()


def test_only_the_owner_sees_the_accept_button(team, milestone):
    url = reverse("milestone_detail", args=[milestone.pk])
    accept = reverse("milestone_accept", args=[milestone.pk])
    assert accept in signed_in(team.owner).get(url).content.decode()
    for user in (team.editor, team.viewer):
        assert accept not in signed_in(user).get(url).content.decode()


# --- Accepting -------------------------------------------------------------------------------


def test_the_owner_marks_a_milestone_accepted_and_withdraws_it_without_js(team, milestone):
    client = signed_in(team.owner)
    url = reverse("milestone_accept", args=[milestone.pk])

    response = client.post(url, {"accepted": "1"}, follow=True)
    stored = Milestone.objects.get(pk=milestone.pk)
    assert stored.accepted_by == team.owner and stored.accepted_at is not None
    text = response.content.decode()
    assert "Marked as accepted" in text and "Withdraw acceptance" in text
    assert "<strong>Accepted</strong> on " in text and " by alice." in text

    client.post(url, {"accepted": "0"})
    assert Milestone.objects.get(pk=milestone.pk).accepted_at is None


def test_accepting_with_htmx_swaps_the_status_panel(team, milestone):
    response = signed_in(team.owner).post(
        reverse("milestone_accept", args=[milestone.pk]), {"accepted": "1"}, **HTMX
    )
    text = response.content.decode()
    assert response.status_code == 200
    assert text.lstrip().startswith('<section id="adr-status"')
    assert "Withdraw acceptance" in text


@pytest.mark.parametrize("value", ["", "yes", "2"])
def test_a_bad_accepted_value_is_refused_at_422_and_changes_nothing(team, milestone, value):
    response = signed_in(team.owner).post(
        reverse("milestone_accept", args=[milestone.pk]), {"accepted": value}
    )
    assert response.status_code == 422
    assert "ADR status (accepted)" in response.content.decode()
    assert Milestone.objects.get(pk=milestone.pk).accepted_at is None


# --- Roles -----------------------------------------------------------------------------------


def _status(client: Client, method: str, url: str, data=None) -> int:
    return (client.post(url, data or {}) if method == "post" else client.get(url)).status_code


def test_what_each_role_may_do_with_milestones(team, milestone):
    urls = {
        "view": ("get", reverse("milestone_detail", args=[milestone.pk]), None),
        "adr": ("get", reverse("milestone_adr", args=[milestone.pk]), None),
        "compare": ("get", reverse("project_compare", args=[team.project.pk]), None),
        "create": ("post", reverse("milestone_create", args=[team.assessment.pk]), {"name": "x"}),
        "accept": ("post", reverse("milestone_accept", args=[milestone.pk]), {"accepted": "1"}),
    }
    expected = {
        team.viewer: {"view": 200, "adr": 200, "compare": 200, "create": 404, "accept": 404},
        team.editor: {"view": 200, "adr": 200, "compare": 200, "create": 302, "accept": 404},
        team.stranger: {"view": 404, "adr": 404, "compare": 404, "create": 404, "accept": 404},
        team.owner: {"view": 200, "adr": 200, "compare": 200, "create": 302, "accept": 302},
    }
    for user, allowed in expected.items():
        client = signed_in(user)
        got = {name: _status(client, *spec) for name, spec in urls.items()}
        assert got == allowed, user.username
    anonymous = {name: _status(Client(), *spec) for name, spec in urls.items()}
    assert set(anonymous.values()) == {302}  # to sign in
    # Only the editor's and the owner's "create" wrote, and only the owner accepted.
    assert Milestone.objects.count() == 3
    assert Milestone.objects.get(pk=milestone.pk).accepted_by == team.owner


# --- The ADR download ------------------------------------------------------------------------


def test_the_adr_downloads_as_markdown_named_by_project_and_milestone(team, milestone):
    response = signed_in(team.viewer).get(reverse("milestone_adr", args=[milestone.pk]))
    assert response["Content-Type"] == "text/markdown; charset=utf-8"
    assert response["Content-Disposition"] == (
        'attachment; filename="support-bot-board-review-adr.md"'
    )
    text = response.content.decode()
    assert text.startswith(f"# 1. Use {milestone.result['label']} for Support bot\n")
    assert "- Status: Proposed" in text


# --- Comparing -------------------------------------------------------------------------------


def test_compare_defaults_to_the_newest_milestone_against_the_current_assessment(team, milestone):
    set_answers(team.assessment, {"behavior_needs": ["none"]})
    response = signed_in(team.viewer).get(reverse("project_compare", args=[team.project.pk]))
    text = response.content.decode()

    assert response.status_code == 200
    assert f'<option value="m{milestone.pk}" selected>' in text
    assert f'<option value="a{team.assessment.pk}" selected>' in text
    assert "Milestone: Board review" in text and "Current answers (last changed" in text
    assert 'class="is-changed"' in text and '<span class="changed-mark">changed</span>' in text
    question = V2.questions["behavior_needs"]
    assert f"Changing “{question.label}” from {question.describe(['tone'])} to " in text
    assert "moves the verdict from" in text


def test_compare_without_milestones_defaults_to_the_previous_assessment(team, complete_v2_answers):
    newer = AssessmentFactory(
        project=team.project, answers={**complete_v2_answers, "kb_state": "messy"}
    )
    text = signed_in(team.owner).get(reverse("project_compare", args=[team.project.pk])).content
    text = text.decode()
    assert f'<option value="a{team.assessment.pk}" selected>' in text
    assert f'<option value="a{newer.pk}" selected>' in text
    assert f"moves readiness from {V2.readiness_label('ready')}" in text


@pytest.mark.parametrize("field", ["left", "right"])
def test_compare_refuses_a_state_of_another_project_at_422_naming_the_field(team, milestone, field):
    foreign = AssessmentFactory(project__owner=team.owner)
    url = reverse("project_compare", args=[team.project.pk])
    response = signed_in(team.owner).get(url, {field: f"a{foreign.pk}"})

    assert response.status_code == 422
    text = response.content.decode()
    assert f"({field}): Choose one of this project’s assessments or milestones." in text
    assert "What moved the outcome" not in text
    assert '<select name="left"' in text  # the form is shown again


def test_compare_across_rubrics_says_attribution_is_not_possible(owner, complete_answers):
    v1 = V1AssessmentFactory(project__owner=owner, answers=complete_answers)
    reassess(loaded(v1))
    text = signed_in(owner).get(reverse("project_compare", args=[v1.project.pk])).content.decode()
    assert "cannot be said across rubrics" in text
    assert "not in rubric v1" in text


def test_compare_with_an_incomplete_side_says_no_verdict_yet(team):
    AssessmentFactory(project=team.project, answers={"knowledge_needs": ["documents"]})
    text = signed_in(team.owner).get(reverse("project_compare", args=[team.project.pk])).content
    assert "no verdict yet" in text.decode()


# --- The project page ------------------------------------------------------------------------


def _respond(milestone: Milestone, decision: str, name: str = "Cleo") -> None:
    SignOff.objects.create(milestone=milestone, name=name, decision=decision)


def test_the_project_page_lists_milestones_with_status_and_responses(team, milestone):
    _respond(milestone, SignOff.Decision.APPROVE)
    _respond(milestone, SignOff.Decision.APPROVE, "Dan")
    _respond(milestone, SignOff.Decision.OBJECT, "Eve")
    set_accepted(milestone, True, by=team.owner)
    text = signed_in(team.viewer).get(reverse("project_detail", args=[team.project.pk])).content
    text = text.decode()

    assert "Milestones" in text and "Board review" in text
    assert "Approve: 2 · Object: 1" in text
    assert "✓ Accepted" in text
    assert milestone.result["label"] in text
    assert reverse("milestone_adr", args=[milestone.pk]) in text
    assert reverse("project_compare", args=[team.project.pk]) in text


def test_the_project_page_reads_milestones_in_a_fixed_number_of_queries(
    team, milestone, django_assert_max_num_queries
):
    client = signed_in(team.owner)
    url = reverse("project_detail", args=[team.project.pk])
    _respond(milestone, SignOff.Decision.APPROVE)
    client.get(url)  # warm the session's idle clock and any per-process caches
    with CaptureQueriesContext(connection) as one:
        client.get(url)
    for n in range(3):
        extra = create_milestone(loaded(team.assessment), name=f"More {n}", by=team.editor)
        _respond(extra, SignOff.Decision.CONDITIONS)
        set_accepted(extra, True, by=team.owner)
    with django_assert_max_num_queries(len(one.captured_queries)):
        response = client.get(url)
    assert response.content.decode().count("More ") >= 3


def test_a_newer_accepted_decision_supersedes_the_older_one(team):
    """Two accepted milestones of one project: the older one's ADR, memo and page say the
    newer one replaced it; withdrawing the newer acceptance lifts that."""
    with time_machine.travel("2026-01-01 09:00Z"):
        older = create_milestone(loaded(team.assessment), name="Hybrid, first")
        set_accepted(older, True, by=team.owner)
    with time_machine.travel("2026-02-01 09:00Z"):
        newer = create_milestone(loaded(team.assessment), name="RAG after review")
        set_accepted(newer, True, by=team.owner)
    older = Milestone.objects.get(pk=older.pk)

    assert superseded_by(older) == newer and superseded_by(newer) is None
    assert status_text(older).startswith("Superseded by ADR 2, “RAG after review” (accepted ")
    assert memo_status(older).startswith("Superseded by “RAG after review” (accepted ")
    page = signed_in(team.viewer).get(reverse("milestone_detail", args=[older.pk]))
    assert "Superseded" in page.content.decode()

    listed = signed_in(team.viewer).get(reverse("project_detail", args=[team.project.pk]))
    statuses = re.findall(r'data-label="ADR status">([A-Z✓][^<]*)', listed.content.decode())
    assert [status.strip() for status in statuses] == ["✓ Accepted 1 Feb 2026, 09:00", "Superseded"]

    set_accepted(newer, False, by=team.owner)
    assert superseded_by(older) is None


def test_accepting_over_an_objection_says_so(team, milestone):
    SignOff.objects.create(milestone=milestone, name="Lee", decision="object", comment="No.")

    response = signed_in(team.owner).post(
        reverse("milestone_accept", args=[milestone.pk]), {"accepted": "1"}, follow=True
    )

    assert "Note: 1 reader objects to this milestone" in response.content.decode()
