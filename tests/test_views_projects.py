"""Projects through the test client: list, create, edit, delete, reassess, project page."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from assessments.models import Answer, Assessment, Project
from tests.conftest import scenario_answers
from tests.factories import (
    AssessmentFactory,
    ExampleProjectFactory,
    ProjectFactory,
    V1AssessmentFactory,
    set_answers,
    stored_answers,
)
from tests.test_upgrade import answers_per_spec

pytestmark = pytest.mark.django_db

QUERY_BUDGET = 12
NOT_READY = "case-law-wish"  # a worked example whose verdict is not ready to start yet


def current_assessment(project: Project) -> Assessment | None:
    """The project's newest assessment, as the views load it."""
    return Project.objects.with_assessments().get(pk=project.pk).current_assessment


def snapshot():
    """Everything a project view could change."""
    return (
        list(Project.objects.order_by("id").values_list("id", "name", "description", "updated_at")),
        list(Assessment.objects.order_by("id").values_list("id", "project_id", "updated_at")),
        list(Answer.objects.order_by("id").values_list("assessment_id", "question_id", "value")),
    )


def add_complete_projects(owner, answers, count):
    for index in range(count):
        V1AssessmentFactory(project__owner=owner, project__name=f"Project {index}", answers=answers)


def table_rows(content: str) -> list[str]:
    body = content.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return re.findall(r"<tr>(.*?)</tr>", body, flags=re.S)


# --- List --------------------------------------------------------------------------------


def test_project_list_shows_only_the_users_own_projects(owner_client, project, other_user):
    ProjectFactory(owner=other_user, name="Mallory's secret plan")
    ExampleProjectFactory(name="An example")

    response = owner_client.get(reverse("project_list"))

    assert response.status_code == 200
    content = response.content.decode()
    assert "Support bot" in content
    assert reverse("project_detail", args=[project.pk]) in content
    assert "secret plan" not in content
    assert "An example" not in content
    assert [item["project"] for item in response.context["projects"]] == [project]


def test_project_list_shows_verdict_badge_readiness_and_last_change(
    owner_client, project, complete_assessment
):
    project.refresh_from_db()
    response = owner_client.get(reverse("project_list"))

    [row] = table_rows(response.content.decode())
    assert '<span class="badge badge-hybrid">Hybrid</span>' in row
    assert "high confidence" in row
    assert "✓ Ready" in row
    assert f'<time datetime="{project.updated_at.isoformat()}">' in row
    assert f"{project.updated_at:%Y}" in row


def test_project_list_marks_each_project_ready_or_not_ready(owner_client, owner, rubric):
    V1AssessmentFactory(
        project__owner=owner, project__name="Ready one", answers=scenario_answers("support-bot")
    )
    V1AssessmentFactory(
        project__owner=owner, project__name="Not ready one", answers=scenario_answers(NOT_READY)
    )

    rows = table_rows(owner_client.get(reverse("project_list")).content.decode())

    by_name = {
        re.search(r'<th scope="row"><a [^>]*>([^<]+)</a>', row).group(1): row for row in rows
    }
    ready, not_ready = by_name["Ready one"], by_name["Not ready one"]
    assert '<td data-label="Readiness">✓ Ready</td>' in ready
    assert "⚠" not in ready
    assert '<td data-label="Readiness">⚠ Not ready</td>' in not_ready
    assert "✓" not in not_ready
    # The words are the rubric's labels.
    assert (rubric.readiness_label("ready"), rubric.readiness_label("not_ready")) == (
        "Ready",
        "Not ready",
    )


def test_project_list_shows_progress_of_an_unfinished_assessment(owner_client, project):
    V1AssessmentFactory(project=project, answers={"latency": "batch"})

    [row] = table_rows(owner_client.get(reverse("project_list")).content.decode())
    assert "In progress: 1 of 13 answered" in row
    assert "badge-" not in row
    assert "—" in row


def test_project_list_shows_not_started_for_a_project_without_assessment(owner_client, project):
    [row] = table_rows(owner_client.get(reverse("project_list")).content.decode())
    assert "Not started" in row


def test_project_list_is_most_recently_changed_first(owner_client, owner, project):
    older = ProjectFactory(owner=owner, name="Older one")
    Project.objects.filter(pk=older.pk).update(updated_at=timezone.now() - timedelta(days=3))

    rows = table_rows(owner_client.get(reverse("project_list")).content.decode())
    assert "Support bot" in rows[0]
    assert "Older one" in rows[1]


def test_empty_project_list_invites_to_create_one(owner_client):
    response = owner_client.get(reverse("project_list"))
    content = response.content.decode()
    assert "No projects yet" in content
    assert reverse("project_create") in content


# --- Create ------------------------------------------------------------------------------


def test_project_create_page_shows_the_form(owner_client):
    response = owner_client.get(reverse("project_create"))
    assert response.status_code == 200
    content = response.content.decode()
    assert 'name="name"' in content
    assert 'name="description"' in content
    assert "New project" in content


def test_creating_a_project_creates_its_first_assessment_and_opens_the_questionnaire(
    owner_client, owner
):
    response = owner_client.post(
        reverse("project_create"), {"name": "Invoice extraction", "description": "JSON out."}
    )

    project = Project.objects.get()
    assert project.owner == owner
    assert (project.name, project.description) == ("Invoice extraction", "JSON out.")
    assert not project.is_example
    assessment = project.assessments.get()
    assert assessment.answers.count() == 0
    assert response.status_code == 302
    assert response.url == reverse("questionnaire", args=[assessment.pk])
    page = owner_client.get(response.url)
    assert page.status_code == 200
    assert "created" in page.content.decode()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": "", "description": "x"}, "name"),
        ({"name": "   ", "description": "x"}, "name"),
        ({"name": "x" * 121, "description": ""}, "name"),
        ({"name": "Fine", "description": "d" * 4001}, "description"),
    ],
    ids=["empty-name", "blank-name", "too-long-name", "too-long-description"],
)
def test_creating_a_project_with_bad_input_shows_an_error_and_creates_nothing(
    owner_client, data, field
):
    response = owner_client.post(reverse("project_create"), data)

    assert response.status_code == 200
    assert response.context["form"].errors[field]
    assert f'id="id_{field}_error"' in response.content.decode()
    assert not Project.objects.exists()
    assert not Assessment.objects.exists()


def test_project_create_requires_login(client):
    response = client.post(reverse("project_create"), {"name": "Sneaky"})
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))
    assert not Project.objects.exists()


# --- Edit --------------------------------------------------------------------------------


def test_project_edit_page_shows_the_current_values(owner_client, project):
    response = owner_client.get(reverse("project_edit", args=[project.pk]))
    assert response.status_code == 200
    content = response.content.decode()
    assert 'value="Support bot"' in content
    assert "Answers customers in our voice." in content


def test_editing_a_project_saves_name_and_description(owner_client, project):
    response = owner_client.post(
        reverse("project_edit", args=[project.pk]),
        {"name": "Support assistant", "description": "Now with returns."},
    )

    assert response.status_code == 302
    assert response.url == reverse("project_detail", args=[project.pk])
    project.refresh_from_db()
    assert (project.name, project.description) == ("Support assistant", "Now with returns.")
    page = owner_client.get(response.url).content.decode()
    assert "Project saved." in page
    assert "Support assistant" in page


def test_editing_can_clear_the_optional_description(owner_client, project):
    owner_client.post(reverse("project_edit", args=[project.pk]), {"name": "Support bot"})
    project.refresh_from_db()
    assert project.description == ""


@pytest.mark.parametrize(
    "name", ["", "   ", "y" * 121], ids=["empty-name", "blank-name", "too-long-name"]
)
def test_editing_a_project_with_a_bad_name_shows_an_error_and_changes_nothing(
    owner_client, project, name
):
    before = snapshot()
    response = owner_client.post(
        reverse("project_edit", args=[project.pk]), {"name": name, "description": "Changed"}
    )

    assert response.status_code == 200
    assert response.context["form"].errors["name"]
    assert 'id="id_name_error"' in response.content.decode()
    assert snapshot() == before


# --- Delete ------------------------------------------------------------------------------


def test_delete_get_shows_a_confirmation_page_and_deletes_nothing(
    owner_client, project, complete_assessment
):
    before = snapshot()
    response = owner_client.get(reverse("project_delete", args=[project.pk]))

    assert response.status_code == 200
    content = response.content.decode()
    assert "Delete “Support bot”?" in content
    assert '<form method="post"' in content
    assert "cannot be undone" in content
    assert snapshot() == before


def test_delete_post_deletes_the_project_with_its_assessments_and_answers(
    owner_client, owner, project, complete_assessment
):
    keep = ProjectFactory(owner=owner, name="Keep me")
    response = owner_client.post(reverse("project_delete", args=[project.pk]))

    assert response.status_code == 302
    assert response.url == reverse("project_list")
    assert list(Project.objects.all()) == [keep]
    assert not Assessment.objects.exists()
    assert not Answer.objects.exists()
    page = owner_client.get(response.url).content.decode()
    assert "Project “Support bot” deleted." in page


# --- New assessment ----------------------------------------------------------------------


def test_start_new_assessment_by_get_is_not_allowed_and_creates_nothing(
    owner_client, project, complete_assessment
):
    before = snapshot()
    response = owner_client.get(reverse("assessment_create", args=[project.pk]))
    assert response.status_code == 405
    assert snapshot() == before


def test_start_new_assessment_copies_the_current_answers(
    owner_client, project, complete_assessment, complete_answers
):
    first = complete_assessment

    response = owner_client.post(reverse("assessment_create", args=[project.pk]))

    second = current_assessment(project)
    assert second != first
    assert response.status_code == 302
    assert response.url == reverse("questionnaire", args=[second.pk])
    # The current assessment is v1: the new one is v2, its answers carried over as the spec
    # says (retrieval_possible "yes" -> "remote"; prompt_baseline "below_80" left unanswered).
    assert stored_answers(first) == complete_answers
    assert stored_answers(second) == answers_per_spec(complete_answers)
    assert stored_answers(second)["retrieval_possible"] == "remote"
    assert "prompt_baseline" not in stored_answers(second)
    assert (second.rubric_version, second.carried_from_id) == ("v2", first.pk)
    assert project.assessments.count() == 2
    # From an earlier rubric, a fresh start is a re-assessment, and says so.
    page = owner_client.get(response.url).content.decode()
    assert "New assessment on rubric v2 started from your rubric v1 answers" in page


def test_start_new_assessment_from_a_v2_one_copies_its_answers(
    owner_client, project, complete_v2_answers
):
    first = AssessmentFactory(project=project, answers=complete_v2_answers)

    response = owner_client.post(reverse("assessment_create", args=[project.pk]))

    second = current_assessment(project)
    assert (second.rubric_version, second.carried_from_id) == ("v2", first.pk)
    assert stored_answers(second) == stored_answers(first) == complete_v2_answers
    page = owner_client.get(response.url).content.decode()
    assert "New assessment started with your current answers" in page


def test_changing_the_new_assessment_leaves_the_old_one_alone(
    owner_client, project, complete_assessment, complete_answers
):
    first = complete_assessment
    owner_client.post(reverse("assessment_create", args=[project.pk]))
    second = current_assessment(project)
    assert stored_answers(second) == answers_per_spec(complete_answers)

    owner_client.post(
        reverse("save_question", args=[second.pk, "latency"]),
        {"latency": "batch"},
        HTTP_HX_REQUEST="true",
    )

    assert stored_answers(second) == answers_per_spec(complete_answers) | {"latency": "batch"}
    assert stored_answers(first) == complete_answers
    assert stored_answers(first)["latency"] == "interactive"


# --- Project page ------------------------------------------------------------------------


def test_project_page_shows_the_current_assessment_and_the_history(
    owner_client, project, complete_assessment, complete_v2_answers
):
    first = complete_assessment  # rubric v1, hybrid
    second = AssessmentFactory(project=project, answers=complete_v2_answers)

    response = owner_client.get(reverse("project_detail", args=[project.pk]))

    assert response.status_code == 200
    assert response.context["current"]["assessment"] == second
    assert [item["assessment"] for item in response.context["history"]] == [first]
    content = response.content.decode()
    assert "Support bot" in content
    assert "Answers customers in our voice." in content
    current = content.split('id="current-title"', 1)[1].split('id="history-title"', 1)[0]
    history = content.split('id="history-title"', 1)[1]
    assert reverse("report", args=[second.pk]) in current
    assert reverse("questionnaire", args=[second.pk]) in current
    assert "rubric v2" in current
    assert "answers last changed" in current
    assert reverse("report", args=[first.pk]) in history
    assert "badge-hybrid" in history
    assert reverse("report", args=[second.pk]) not in history
    for name in ("project_edit", "project_delete", "assessment_create"):
        assert reverse(name, args=[project.pk]) in content


def test_project_page_shows_progress_of_an_unfinished_current_assessment(
    owner_client, project, assessment
):
    set_answers(assessment, {"latency": "batch"})

    content = owner_client.get(reverse("project_detail", args=[project.pk])).content.decode()

    assert "1 of 13 required questions answered." in content
    assert "Continue the questions" in content
    assert reverse("report", args=[assessment.pk]) not in content
    assert "No earlier assessments." in content


def test_project_page_links_an_unfinished_old_assessment_to_its_answers(owner_client, project):
    old = V1AssessmentFactory(project=project, answers={"latency": "batch"})
    V1AssessmentFactory(project=project)

    content = owner_client.get(reverse("project_detail", args=[project.pk])).content.decode()
    history = content.split('id="history-title"', 1)[1]

    assert "Incomplete" in history
    assert reverse("questionnaire", args=[old.pk]) in history


def test_project_page_without_any_assessment_says_so_and_offers_to_start(owner_client, project):
    content = owner_client.get(reverse("project_detail", args=[project.pk])).content.decode()
    assert "No assessment yet." in content
    assert "Start an assessment" in content
    assert reverse("assessment_create", args=[project.pk]) in content


def test_project_text_is_escaped_on_every_page(owner_client):
    owner_client.post(
        reverse("project_create"),
        {"name": "<script>alert(1)</script>", "description": "<b>bold</b>\nsecond line"},
    )
    project = Project.objects.get()
    assessment = current_assessment(project)
    urls = [
        reverse("project_list"),
        reverse("project_detail", args=[project.pk]),
        reverse("project_edit", args=[project.pk]),
        reverse("project_delete", args=[project.pk]),
        reverse("questionnaire", args=[assessment.pk]),
        reverse("report", args=[assessment.pk]),
    ]
    for url in urls:
        content = owner_client.get(url).content.decode()
        assert "<script>alert(1)</script>" not in content, url
        assert "<b>bold</b>" not in content, url
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in content, url


# --- Query budget ------------------------------------------------------------------------


@pytest.mark.parametrize("count", [1, 10])
def test_project_list_runs_a_constant_number_of_queries(
    owner_client, owner, complete_answers, count, django_assert_max_num_queries
):
    add_complete_projects(owner, complete_answers, count)

    with django_assert_max_num_queries(QUERY_BUDGET):
        response = owner_client.get(reverse("project_list"))

    assert response.status_code == 200
    assert len(response.context["projects"]) == count


def test_project_list_queries_do_not_grow_with_the_number_of_projects(
    owner_client, owner, complete_answers
):
    add_complete_projects(owner, complete_answers, 1)
    with CaptureQueriesContext(connection) as one:
        owner_client.get(reverse("project_list"))
    add_complete_projects(owner, complete_answers, 9)
    with CaptureQueriesContext(connection) as ten:
        owner_client.get(reverse("project_list"))

    assert len(ten) == len(one)


@pytest.mark.parametrize("count", [1, 10])
def test_project_page_runs_a_constant_number_of_queries(
    owner_client, project, complete_answers, count, django_assert_max_num_queries
):
    V1AssessmentFactory.create_batch(count, project=project, answers=complete_answers)

    with django_assert_max_num_queries(QUERY_BUDGET):
        response = owner_client.get(reverse("project_detail", args=[project.pk]))

    assert response.status_code == 200
    assert len(response.context["history"]) == count - 1


def test_project_page_queries_do_not_grow_with_the_number_of_assessments(
    owner_client, project, complete_answers
):
    url = reverse("project_detail", args=[project.pk])
    V1AssessmentFactory(project=project, answers=complete_answers)
    with CaptureQueriesContext(connection) as one:
        owner_client.get(url)
    V1AssessmentFactory.create_batch(9, project=project, answers=complete_answers)
    with CaptureQueriesContext(connection) as ten:
        owner_client.get(url)

    assert len(ten) == len(one)
