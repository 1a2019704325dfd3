"""Export and re-import of a project as JSON is lossless; bad files import nothing."""

import io
import json

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from assessments.models import Answer, Assessment, Project
from assessments.services import start_assessment
from assessments.transfer import export_project, import_project
from assessments.validation import InvalidAnswers
from tests.factories import set_answers

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner():
    return User.objects.create_user("exporter")


@pytest.fixture
def project(owner, complete_answers):
    project = Project.objects.create(
        owner=owner, name="Support bot ✓", description="Line one\nLine two <b>bold</b>"
    )
    first = start_assessment(project)
    set_answers(first, complete_answers | {"eval_set": "no", "monthly_queries": 120000})
    second = start_assessment(project)
    set_answers(second, {"labeled_examples": "under_200"})
    set_answers(second, {"monthly_queries": None})
    start_assessment(project, copy_current=False)  # an empty, just-started one
    return project


def counts():
    return Project.objects.count(), Assessment.objects.count(), Answer.objects.count()


def test_export_then_import_then_export_is_identical(project, owner):
    exported = export_project(project)
    imported = import_project(owner, json.loads(json.dumps(exported)))

    assert imported.pk != project.pk
    assert export_project(imported) == exported
    assert len(exported["assessments"]) == 3
    assert exported["assessments"][0]["answers"]["monthly_queries"] == 120000
    assert "monthly_queries" not in exported["assessments"][1]["answers"]
    assert imported.current_assessment().answers_dict() == (
        project.current_assessment().answers_dict()
    )


def test_import_belongs_to_the_importer_only(project):
    other = User.objects.create_user("colleague")
    imported = import_project(other, export_project(project))
    assert imported.owner == other
    assert project.owner != other


@pytest.mark.parametrize(
    ("mutate", "problem"),
    [
        (lambda d: d.update(format="something-else"), "file"),
        (lambda d: d.update(version=99), "version"),
        (lambda d: d["project"].update(name=""), "project.name"),
        (lambda d: d["project"].update(name="x" * 500), "project.name"),
        (
            lambda d: d["assessments"][0].update(rubric_version="v99"),
            "assessments[0].rubric_version",
        ),
        (
            lambda d: d["assessments"][0]["answers"].update(latency="slow"),
            "assessments[0].answers.latency",
        ),
        (
            lambda d: d["assessments"][1]["answers"].update(colour="red"),
            "assessments[1].answers.colour",
        ),
        (lambda d: d["assessments"][0].update(created_at="yesterday"), "assessments[0].created_at"),
        (lambda d: d.update(assessments="all of them"), "assessments"),
    ],
)
def test_a_bad_export_imports_nothing_and_names_the_problem(project, owner, mutate, problem):
    data = export_project(project)
    mutate(data)
    before = counts()
    with pytest.raises(InvalidAnswers) as error:
        import_project(owner, data)
    assert problem in {p.question for p in error.value.problems}
    assert counts() == before


def test_owner_downloads_the_export(client, project, owner):
    client.force_login(owner)
    response = client.get(reverse("project_export", args=[project.pk]))
    assert response.status_code == 200
    assert response["Content-Disposition"] == (
        'attachment; filename="support-bot-advisor-export.json"'
    )
    assert response.json() == export_project(project)


def test_others_cannot_export(client, project):
    client.force_login(User.objects.create_user("mallory"))
    assert client.get(reverse("project_export", args=[project.pk])).status_code == 404


def test_upload_imports_and_opens_the_new_project(client, project, owner):
    client.force_login(owner)
    upload = io.BytesIO(json.dumps(export_project(project)).encode())
    upload.name = "export.json"
    response = client.post(reverse("project_import"), {"file": upload})
    new = Project.objects.exclude(pk=project.pk).get()
    assert response.status_code == 302
    assert response["Location"] == new.get_absolute_url()
    assert export_project(new) == export_project(project)


@pytest.mark.parametrize(
    "content", [b"not json", b'{"format": "nope"}', "\udcff".encode(errors="surrogatepass")]
)
def test_bad_upload_is_refused_with_a_message_and_nothing_stored(client, owner, content):
    client.force_login(owner)
    upload = io.BytesIO(content)
    upload.name = "export.json"
    before = counts()
    response = client.post(reverse("project_import"), {"file": upload})
    assert response.status_code == 422
    assert counts() == before
    page = response.content.decode()
    assert "not valid JSON" in page or "Nothing was imported" in page


def test_import_needs_login(client):
    response = client.get(reverse("project_import"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
