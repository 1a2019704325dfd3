"""Export and re-import of a project as JSON is lossless; bad files import nothing."""

import io
import json
from datetime import timedelta

import pytest
from django.urls import reverse

from assessments.estimator import current_book_id
from assessments.milestones import create_milestone
from assessments.models import Answer, AnswerNote, Assessment, Milestone, Project, SignOff
from assessments.services import evaluate_assessment, start_assessment
from assessments.transfer import export_project, import_project
from assessments.validation import InvalidAnswers
from tests.factories import (
    AssessmentFactory,
    ProjectFactory,
    V1AssessmentFactory,
    loaded,
    set_answers,
    stored_answers,
)
from tests.test_scoring_v2 import BASE as V2_BASE

pytestmark = pytest.mark.django_db


@pytest.fixture
def project_with_history(owner, complete_answers):
    """The owner's project with text to keep intact and three assessments, oldest first:
    complete; a changed copy with an optional answer cleared; an empty, just-started one."""
    project = ProjectFactory(
        owner=owner, name="Support bot ✓", description="Line one\nLine two <b>bold</b>"
    )
    first_answers = complete_answers | {"eval_set": "no", "monthly_queries": 120000}
    V1AssessmentFactory(project=project, answers=first_answers)
    second = V1AssessmentFactory(
        project=project, answers=first_answers | {"labeled_examples": "under_200"}
    )
    set_answers(second, {"monthly_queries": None})
    V1AssessmentFactory(project=project)
    return project


def counts():
    return Project.objects.count(), Assessment.objects.count(), Answer.objects.count()


def answers_of_each_assessment(project: Project) -> list[dict]:
    """Newest first, as the app loads them."""
    return [a.answer_values for a in project.assessments.with_answers()]


def test_export_then_import_then_export_is_identical(project_with_history, owner):
    exported = export_project(project_with_history)
    imported = import_project(owner, json.loads(json.dumps(exported)))

    assert imported.pk != project_with_history.pk
    assert export_project(imported) == exported
    assert len(exported["assessments"]) == 3
    assert exported["assessments"][0]["answers"]["monthly_queries"] == 120000
    assert "monthly_queries" not in exported["assessments"][1]["answers"]
    history = answers_of_each_assessment(project_with_history)
    assert answers_of_each_assessment(imported) == history
    assert [len(answers) for answers in history] == [0, 14, 15]


def test_import_belongs_to_the_importer_only(project_with_history, other_user):
    imported = import_project(other_user, export_project(project_with_history))
    assert imported.owner == other_user
    assert project_with_history.owner != other_user


@pytest.mark.parametrize(
    ("mutate", "problem"),
    [
        (lambda d: d.update(format="something-else"), "file"),
        (lambda d: d.update(version=99), "version"),
        (lambda d: d["project"].update(name=""), "project.name"),
        (lambda d: d["project"].update(name="x" * 500), "project.name"),
        # A lone surrogate (JSON "\ud800") has no UTF-8 form: PostgreSQL could not store it.
        (lambda d: d["project"].update(name="Bot \ud800"), "project.name"),
        (lambda d: d["project"].update(description="\udfff"), "project.description"),
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
        # carried_from points at an assessment listed earlier: not itself, a later one, or junk.
        (lambda d: d["assessments"][1].update(carried_from=1), "assessments[1].carried_from"),
        (lambda d: d["assessments"][1].update(carried_from=2), "assessments[1].carried_from"),
        (lambda d: d["assessments"][1].update(carried_from=-1), "assessments[1].carried_from"),
        (lambda d: d["assessments"][1].update(carried_from="0"), "assessments[1].carried_from"),
        (lambda d: d["assessments"][1].update(carried_from=True), "assessments[1].carried_from"),
        (lambda d: d.update(assessments="all of them"), "assessments"),
    ],
)
def test_a_bad_export_imports_nothing_and_names_the_problem(
    project_with_history, owner, mutate, problem
):
    data = export_project(project_with_history)
    mutate(data)
    before = counts()
    with pytest.raises(InvalidAnswers) as error:
        import_project(owner, data)
    assert problem in {p.question for p in error.value.problems}
    assert counts() == before


@pytest.fixture
def v2_answers():
    """A complete v2 answer set (fine-tuning, no knowledge need) that keeps answers to the
    knowledge questions, which are then not asked: kept, ignored by scoring."""
    return {**V2_BASE, "knowledge_needs": ["none"]}


def test_a_v2_export_round_trips_exactly(owner, v2_answers):
    project = ProjectFactory(owner=owner, name="Support bot v2")
    original = AssessmentFactory(project=project, answers=v2_answers)
    assert original.rubric_version == "v2"
    assert "kb_size" in evaluate_assessment(loaded(original)).result.not_asked

    exported = export_project(project)
    imported = import_project(owner, json.loads(json.dumps(exported)))

    assert export_project(imported) == exported
    [item] = exported["assessments"]
    assert item["rubric_version"] == "v2"
    assert item["answers"] == dict(sorted(v2_answers.items()))  # the not-asked kb_size too
    copy = imported.assessments.with_answers().get()
    assert copy.rubric_version == "v2"
    assert copy.answer_values == stored_answers(original)
    assert (copy.created_at, copy.answers_changed_at) == (
        original.created_at,
        loaded(original).answers_changed_at,
    )


def test_a_project_with_a_v1_and_a_v2_assessment_keeps_both_versions(
    owner, complete_answers, v2_answers
):
    project = ProjectFactory(owner=owner)
    V1AssessmentFactory(project=project, answers=complete_answers)
    AssessmentFactory(project=project, answers=v2_answers)

    exported = export_project(project)
    imported = import_project(owner, json.loads(json.dumps(exported)))

    assert [a["rubric_version"] for a in exported["assessments"]] == ["v1", "v2"]
    assert export_project(imported) == exported
    assert sorted(imported.assessments.values_list("rubric_version", flat=True)) == ["v1", "v2"]
    assert answers_of_each_assessment(imported) == answers_of_each_assessment(project)


def test_an_unknown_rubric_version_is_refused_naming_the_field(project_with_history, owner):
    data = export_project(project_with_history)
    data["assessments"][1]["rubric_version"] = "v9"
    before = counts()
    with pytest.raises(InvalidAnswers) as error:
        import_project(owner, data)
    [problem] = error.value.problems
    assert (problem.question, problem.message) == (
        "assessments[1].rubric_version",
        "must be one of v1, v2, not 'v9'",
    )
    assert counts() == before


def test_v2_answers_invalid_under_v2_are_refused_naming_the_question(owner, v2_answers):
    project = ProjectFactory(owner=owner)
    AssessmentFactory(project=project, answers=v2_answers)
    data = export_project(project)
    data["assessments"][0]["answers"]["labeled_examples"] = "under_200"  # a v1-only choice
    before = counts()
    with pytest.raises(InvalidAnswers) as error:
        import_project(owner, data)
    assert [p.question for p in error.value.problems] == ["assessments[0].answers.labeled_examples"]
    assert counts() == before


def test_owner_downloads_the_export(owner_client, project_with_history):
    response = owner_client.get(reverse("project_export", args=[project_with_history.pk]))
    assert response.status_code == 200
    assert response["Content-Disposition"] == (
        'attachment; filename="support-bot-advisor-export.json"'
    )
    assert response.json() == export_project(project_with_history)


def test_others_cannot_export(client, project_with_history, other_user):
    client.force_login(other_user)
    assert client.get(reverse("project_export", args=[project_with_history.pk])).status_code == 404


def test_upload_imports_and_opens_the_new_project(owner_client, project_with_history):
    upload = io.BytesIO(json.dumps(export_project(project_with_history)).encode())
    upload.name = "export.json"
    response = owner_client.post(reverse("project_import"), {"file": upload})
    new = Project.objects.exclude(pk=project_with_history.pk).get()
    assert response.status_code == 302
    assert response["Location"] == new.get_absolute_url()
    assert export_project(new) == export_project(project_with_history)


@pytest.mark.parametrize(
    "content", [b"not json", b'{"format": "nope"}', "\udcff".encode(errors="surrogatepass")]
)
def test_bad_upload_is_refused_with_a_message_and_nothing_stored(owner_client, content):
    upload = io.BytesIO(content)
    upload.name = "export.json"
    before = counts()
    response = owner_client.post(reverse("project_import"), {"file": upload})
    assert response.status_code == 422
    assert counts() == before
    page = response.content.decode()
    assert "not valid JSON" in page or "Nothing was imported" in page


def test_import_needs_login(client):
    response = client.get(reverse("project_import"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_a_reassessed_project_keeps_where_each_reassessment_started(owner, complete_answers):
    """The v2 assessment re-assessed from a v1 one still shows that v1 verdict beside its own
    after an export and import: the link goes with the file, as a position in its list."""
    project = ProjectFactory(owner=owner)
    v1 = V1AssessmentFactory(project=project, answers=complete_answers)
    V1AssessmentFactory(project=project)  # in between, not a source
    start_assessment(project, source=loaded(v1))

    exported = export_project(project)
    imported = import_project(owner, json.loads(json.dumps(exported)))

    assert [a["carried_from"] for a in exported["assessments"]] == [None, None, 0]
    assert export_project(imported) == exported
    newest, _, oldest = imported.assessments.order_by("-created_at", "-id")
    assert newest.carried_from == oldest
    assert (newest.rubric_version, oldest.rubric_version) == ("v2", "v1")


def test_an_export_without_carried_from_still_imports(project_with_history, owner):
    """Exports made before the field existed have no carried_from at all."""
    data = export_project(project_with_history)
    for item in data["assessments"]:
        del item["carried_from"]

    imported = import_project(owner, data)

    assert not imported.assessments.filter(carried_from__isnull=False).exists()


def test_a_reassessment_dated_before_its_source_still_exports_and_imports(owner, complete_answers):
    """An import without created_at dates an assessment at the import: its re-assessment,
    dated from the file, is then older. The export still lists the source first."""
    project = ProjectFactory(owner=owner)
    v1 = V1AssessmentFactory(project=project, answers=complete_answers)
    v2 = start_assessment(project, source=loaded(v1))
    Assessment.objects.filter(pk=v2.pk).update(created_at=v1.created_at - timedelta(days=30))

    exported = export_project(project)
    imported = import_project(owner, json.loads(json.dumps(exported)))

    assert [a["rubric_version"] for a in exported["assessments"]] == ["v1", "v2"]
    assert exported["assessments"][1]["carried_from"] == 0
    assert export_project(imported) == exported


def test_the_price_book_and_assumption_edits_round_trip(owner, v2_answers):
    project = ProjectFactory(owner=owner)
    original = AssessmentFactory(project=project, answers=v2_answers)
    Assessment.objects.filter(pk=original.pk).update(
        assumptions={"output_tokens": 900, "cache_hit_rate": 0.5}
    )

    exported = export_project(project)
    imported = import_project(owner, json.loads(json.dumps(exported)))

    [item] = exported["assessments"]
    assert item["assumptions"] == {"cache_hit_rate": 0.5, "output_tokens": 900}
    assert item["price_book"] == original.price_book
    assert export_project(imported) == exported


def test_an_export_from_before_the_numbers_still_imports(owner, v2_answers):
    project = ProjectFactory(owner=owner)
    AssessmentFactory(project=project, answers=v2_answers)
    data = export_project(project)
    del data["assessments"][0]["price_book"], data["assessments"][0]["assumptions"]

    copy = import_project(owner, data).assessments.get()

    assert (copy.assumptions, copy.price_book) == ({}, current_book_id())


@pytest.mark.parametrize(
    ("change", "where", "message"),
    [
        ({"price_book": "1999-01"}, "assessments[0].price_book", "must be one of"),
        ({"assumptions": []}, "assessments[0].assumptions", "must be an object"),
        ({"assumptions": {"output_tokens": "lots"}}, "assessments[0].assumptions.output_tokens",
         "Output: enter a number"),
        ({"assumptions": {"colour": 1}}, "assessments[0].assumptions.colour", "unknown assumption"),
    ],
)  # fmt: skip
def test_bad_numbers_settings_import_nothing_and_name_the_field(
    owner, v2_answers, change, where, message
):
    project = ProjectFactory(owner=owner)
    AssessmentFactory(project=project, answers=v2_answers)
    data = export_project(project)
    data["assessments"][0].update(change)
    before = counts()
    with pytest.raises(InvalidAnswers) as error:
        import_project(owner, data)
    [problem] = error.value.problems
    assert problem.question == where and problem.message.startswith(message)
    assert counts() == before


# --- Notes, milestones and the responses to them ---------------------------------------------


@pytest.fixture
def project_with_a_decision_loop(owner, complete_v2_answers):
    """A v2 project whose assessment has notes (one question marked "does not apply"), a
    milestone with two responses, then a later edit, and a second milestone accepted."""
    project = ProjectFactory(owner=owner, name="Decision loop")
    answers = {k: v for k, v in complete_v2_answers.items() if k != "answers_differ_6mo"}
    assessment = AssessmentFactory(project=project, answers=answers)
    AnswerNote.objects.create(
        assessment=assessment, question_id="monthly_queries", text="From the Q3 dashboard\n<b>x</b>"
    )
    AnswerNote.objects.create(
        assessment=assessment,
        question_id="answers_differ_6mo",
        text="Our manuals are fixed by regulation",
        not_applicable=True,
    )
    first = create_milestone(loaded(assessment), name="Shared with the CFO", by=owner)
    SignOff.objects.create(
        milestone=first, name="Dana", role="CFO", decision="approve", comment="Fine by me."
    )
    SignOff.objects.create(
        milestone=first, name="Lee", decision="object", comment="# Not <script>yet</script>"
    )
    set_answers(assessment, {"latency": "batch"})
    second = create_milestone(loaded(assessment), name="After the review", by=owner)
    second.accepted_at = second.created_at
    second.save(update_fields=["accepted_at"])
    return project


def test_notes_milestones_and_responses_round_trip(project_with_a_decision_loop, owner):
    exported = export_project(project_with_a_decision_loop)
    imported = import_project(owner, json.loads(json.dumps(exported)))

    assert export_project(imported) == exported
    [item] = exported["assessments"]
    assert item["notes"]["answers_differ_6mo"] == {
        "text": "Our manuals are fixed by regulation",
        "not_applicable": True,
    }
    assert [m["name"] for m in item["milestones"]] == ["Shared with the CFO", "After the review"]
    first, second = item["milestones"]
    assert [(s["name"], s["decision"]) for s in first["sign_offs"]] == [
        ("Dana", "approve"),
        ("Lee", "object"),
    ]
    assert first["answers"]["latency"] != "batch" and second["answers"]["latency"] == "batch"
    assert first["accepted_at"] is None and second["accepted_at"] is not None
    copy = imported.assessments.with_answers().get()
    assert copy.note_values["monthly_queries"]["text"] == "From the Q3 dashboard\n<b>x</b>"
    milestones = list(copy.milestones.order_by("id"))
    assert [m.result == o.result for m, o in zip(
        milestones, Milestone.objects.filter(assessment__project=project_with_a_decision_loop)
        .order_by("id"), strict=True)] == [True, True]  # fmt: skip
    assert milestones[0].result["label"]  # scored again on import, not read from the file


def test_an_export_made_before_notes_and_milestones_still_imports(owner, complete_v2_answers):
    project = ProjectFactory(owner=owner)
    AssessmentFactory(project=project, answers=complete_v2_answers)
    data = export_project(project)
    del data["assessments"][0]["notes"], data["assessments"][0]["milestones"]

    copy = import_project(owner, data).assessments.with_answers().get()

    assert (copy.note_values, copy.milestones.count()) == ({}, 0)


@pytest.mark.parametrize(
    ("change", "where", "message"),
    [
        (lambda a: a["notes"].update(latency={"text": "x" * 2001, "not_applicable": False}),
         "assessments[0].notes.latency", "the note is 2,001 characters long"),
        (lambda a: a["notes"].update(latency={"text": "n/a", "not_applicable": True}),
         "assessments[0].notes.latency", "is required"),
        (lambda a: a["notes"].update(answers_differ_6mo={"text": "", "not_applicable": True}),
         "assessments[0].notes.answers_differ_6mo", "to mark it"),
        (lambda a: a["notes"].update(colour={"text": "red", "not_applicable": False}),
         "assessments[0].notes.colour", "unknown question id"),
        (lambda a: a["answers"].update(answers_differ_6mo="yes"),
         "assessments[0].notes.answers_differ_6mo", "is marked “does not apply” but is answered"),
        (lambda a: a["milestones"][0].update(name=""),
         "assessments[0].milestones[0].name", "must be text"),
        (lambda a: a["milestones"][0]["answers"].update(latency="warp"),
         "assessments[0].milestones[0].answers.latency", "'warp' is not a valid"),
        (lambda a: a["milestones"][0]["sign_offs"][0].update(decision="maybe"),
         "assessments[0].milestones[0].sign_offs[0].decision", "Select a valid choice"),
        (lambda a: a["milestones"][0]["sign_offs"][0].update(comment="x" * 2001),
         "assessments[0].milestones[0].sign_offs[0].comment", "Ensure this value has at most 2000"),
        (lambda a: a["milestones"][0]["sign_offs"][0].update(name=None),
         "assessments[0].milestones[0].sign_offs[0].name", "This field is required"),
        (lambda a: a.update(milestones={}), "assessments[0].milestones", "must be a list"),
        (lambda a: a["milestones"][0]["sign_offs"][1].update(comment=""),
         "assessments[0].milestones[0].sign_offs[1].comment", "Add a comment: say why you object"),
    ],
)  # fmt: skip
def test_bad_notes_milestones_or_responses_import_nothing_and_name_the_field(
    project_with_a_decision_loop, owner, change, where, message
):
    data = export_project(project_with_a_decision_loop)
    change(data["assessments"][0])
    before = counts(), Milestone.objects.count(), SignOff.objects.count()

    with pytest.raises(InvalidAnswers) as error:
        import_project(owner, data)

    assert [(p.question, p.message[: len(message)]) for p in error.value.problems] == [
        (where, message)
    ]
    assert (counts(), Milestone.objects.count(), SignOff.objects.count()) == before


def test_imported_milestones_keep_the_project_as_it_was_and_say_they_were_imported(
    project_with_a_decision_loop, owner
):
    Project.objects.filter(pk=project_with_a_decision_loop.pk).update(
        name="Renamed later", description="A new description"
    )
    data = export_project(Project.objects.get(pk=project_with_a_decision_loop.pk))
    data["assessments"][0]["milestones"][0]["sign_offs"][0]["name"] = "Dana\u202e\x1b"

    copy = import_project(owner, data)

    first = Milestone.objects.filter(assessment__project=copy).order_by("id").first()
    assert (first.project.name, first.project.description) == (
        "Decision loop",
        "",
    )  # as it was when the milestone was made, not the project's name now
    assert first.origin == Milestone.Origin.IMPORTED and first.created_by is None
    names = list(first.sign_offs.values_list("name", "imported"))
    assert names == [("Dana", True), ("Lee", True)]  # cleaned as the form cleans a reader's


def test_a_file_with_more_milestones_than_a_project_may_hold_is_refused_before_scoring(
    project_with_a_decision_loop, owner, monkeypatch
):
    monkeypatch.setattr("assessments.transfer.MAX_PROJECT_MILESTONES", 3)
    data = export_project(project_with_a_decision_loop)
    data["assessments"][0]["milestones"] *= 2  # four milestones
    scored = []
    monkeypatch.setattr("assessments.transfer.result_summary", scored.append)

    with pytest.raises(InvalidAnswers) as error:
        import_project(owner, data)

    assert [(p.question, p.message) for p in error.value.problems] == [
        ("assessments", "must hold at most 3 milestones in all")
    ]
    assert scored == []
