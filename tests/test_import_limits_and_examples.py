"""The import size limit, and refreshing the worked examples from a changed scenario file.

Plain pytest-django: everything a test needs is made here, inline.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from assessments.examples import SCENARIOS_FILE, load_examples
from assessments.forms import ImportForm
from assessments.models import Answer, Assessment, Project
from assessments.rubric import load_rubric

pytestmark = pytest.mark.django_db

# --- Import: a file larger than ImportForm.MAX_BYTES is refused ----------------------------

EXPORT = {
    "format": "advisor-project",
    "version": 1,
    "project": {"name": "Imported bot", "description": "From a file", "created_at": None},
    "assessments": [
        {
            "rubric_version": "v1",
            "created_at": None,
            "answers_changed_at": None,
            "answers": {"knowledge_needs": ["documents"], "latency": "batch"},
        }
    ],
}


def export_file(size: int) -> bytes:
    """A valid export, padded with trailing whitespace (still valid JSON) to `size` bytes."""
    content = json.dumps(EXPORT).encode("utf-8")
    assert len(content) < size
    return content + b" " * (size - len(content))


@pytest.fixture
def signed_in(client, django_user_model):
    user = django_user_model.objects.create_user("importer")
    client.force_login(user)
    return client, user


def post_import(client, content: bytes):
    upload = SimpleUploadedFile("export.json", content, "application/json")
    return client.post(reverse("project_import"), {"file": upload})


def test_the_limit_is_one_megabyte():
    assert ImportForm.MAX_BYTES == 1_000_000


@pytest.mark.parametrize(
    ("size", "status", "message"),
    [
        (ImportForm.MAX_BYTES + 1, 422, "The file is larger than 1 MB."),
        # Far over: refused from its Content-Length before the body is read at all.
        (3 * ImportForm.MAX_BYTES, 413, "Nothing was read or saved."),
    ],
    ids=["one-byte-over", "3MB"],
)
def test_a_file_over_the_limit_is_refused_and_nothing_is_imported(signed_in, size, status, message):
    client, user = signed_in
    response = post_import(client, export_file(size))

    assert response.status_code == status
    assert message in response.content.decode()
    assert not Project.objects.filter(owner=user).exists()
    assert not Project.objects.filter(name="Imported bot").exists()
    assert not Assessment.objects.exists()


def test_a_file_of_exactly_the_limit_is_imported(signed_in):
    """The same file one byte smaller: the size alone decided the refusal above."""
    client, user = signed_in
    response = post_import(client, export_file(ImportForm.MAX_BYTES))

    project = Project.objects.get(owner=user)
    assert response.status_code == 302
    assert response["Location"] == project.get_absolute_url()
    assert (project.name, project.description) == ("Imported bot", "From a file")
    answers = Answer.objects.filter(assessment__project=project)
    assert dict(answers.values_list("question_id", "value")) == {
        "knowledge_needs": ["documents"],
        "latency": "batch",
    }


@pytest.mark.parametrize("bad", ["\\u0000", "\\ud800"], ids=["NUL", "lone surrogate"])
def test_a_nul_or_lone_surrogate_in_a_name_is_a_422_naming_the_field(signed_in, bad):
    client, user = signed_in
    content = json.dumps(EXPORT).replace("Imported bot", f"Bot {bad}").encode("utf-8")

    response = post_import(client, content)

    assert response.status_code == 422
    assert "project.name" in response.content.decode()
    assert not Project.objects.filter(owner=user).exists()


def test_a_lone_surrogate_as_an_answers_question_id_is_a_422_showing_its_escape(signed_in):
    client, user = signed_in
    content = json.dumps(EXPORT).replace('"latency"', '"\\ud800"').encode("utf-8")

    response = post_import(client, content)

    assert response.status_code == 422
    assert "\\ud800" in response.content.decode()
    assert not Project.objects.filter(owner=user).exists()


def test_the_request_limit_leaves_room_for_a_full_size_file_and_its_envelope(settings):
    assert settings.MAX_REQUEST_BYTES >= ImportForm.MAX_BYTES + 50_000


def test_an_oversized_body_is_refused_before_the_csrf_check_or_any_parsing(settings):
    """Anonymous, no CSRF token: still 413, not 403, since nothing read the body first."""
    client = Client(enforce_csrf_checks=True)
    body = b"x" * (settings.MAX_REQUEST_BYTES + 1)

    response = client.post(reverse("account_login"), body, content_type="application/octet-stream")

    assert response.status_code == 413
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert "Too large" in response.content.decode()


def test_a_content_length_that_is_not_a_number_is_a_bad_request():
    response = Client().generic("POST", reverse("account_login"), b"", CONTENT_LENGTH="lots")
    assert response.status_code == 400


# --- Worked examples: load_examples() creates, then refreshes only what changed ------------


def read_scenarios(path: Path) -> list[dict[str, Any]]:
    return json.loads(path.read_text(encoding="utf-8"))["scenarios"]


def write_scenarios(path: Path, scenarios: list[dict[str, Any]]) -> None:
    path.write_text(json.dumps({"scenarios": scenarios}), encoding="utf-8")


def stored_answers(project: Project) -> dict[str, Any]:
    return dict(
        Answer.objects.filter(assessment__project=project).values_list("question_id", "value")
    )


def examples_state() -> dict[str, tuple[int, list[int], dict[str, Any]]]:
    """Per example key: its project's pk, its assessments' pks and its stored answers."""
    return {
        project.example_key: (
            project.pk,
            sorted(project.assessments.values_list("pk", flat=True)),
            stored_answers(project),
        )
        for project in Project.objects.filter(is_example=True)
    }


@pytest.fixture
def scenarios_copy(tmp_path) -> Path:
    path = tmp_path / "scenarios.json"
    path.write_bytes(SCENARIOS_FILE.read_bytes())
    return path


def test_loading_the_examples_twice_creates_them_once(scenarios_copy):
    count = len(read_scenarios(scenarios_copy))

    assert load_examples(scenarios_copy) == (count, 0)
    state = examples_state()
    assert load_examples(scenarios_copy) == (0, 0)

    assert examples_state() == state
    assert len(state) == count
    assert Project.objects.count() == count
    assert all(project.owner is None for project in Project.objects.all())


def test_a_changed_answer_in_the_file_refreshes_its_example_in_place(scenarios_copy):
    load_examples(scenarios_copy)
    before = examples_state()
    scenarios = read_scenarios(scenarios_copy)
    changed = scenarios[0]
    old = changed["answers"]["budget"]
    new = next(c for c in load_rubric("v1").questions["budget"].choice_ids if c != old)
    changed["answers"]["budget"] = new
    write_scenarios(scenarios_copy, scenarios)

    assert load_examples(scenarios_copy) == (0, 1)

    after = examples_state()
    pk, assessments, answers = before[changed["id"]]
    assert after[changed["id"]] == (pk, assessments, {**answers, "budget": new})
    assert {k: v for k, v in after.items() if k != changed["id"]} == {
        k: v for k, v in before.items() if k != changed["id"]
    }
    assert Project.objects.count() == len(scenarios)
    # Refreshed once: running it again finds nothing to change.
    assert load_examples(scenarios_copy) == (0, 0)
    assert examples_state() == after
