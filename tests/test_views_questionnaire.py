"""The questionnaire through the test client: the form, the full (no-JS) save, HTMX autosave
one question at a time, and CSRF protection of both."""

import re
from html.parser import HTMLParser
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import escape

from assessments.models import Answer, Assessment, Project
from assessments.rubric import load_rubric
from assessments.validation import NOTHING_TO_SOLVE
from tests.factories import V1AssessmentFactory, set_answers, stored_answers

pytestmark = pytest.mark.django_db

RUBRIC = load_rubric("v1")
QUERY_BUDGET = 12
HTMX = {"HTTP_HX_REQUEST": "true"}


# --- Helpers ---------------------------------------------------------------------------------


def form_data(answers: dict[str, Any]) -> dict[str, Any]:
    """Answers as a browser would submit the questionnaire form."""
    return {q: v if isinstance(v, list) else str(v) for q, v in answers.items()}


def questionnaire_url(assessment: Assessment) -> str:
    return reverse("questionnaire", args=[assessment.pk])


def save_url(assessment: Assessment, question_id: str) -> str:
    return reverse("save_question", args=[assessment.pk, question_id])


def fieldset_html(content: str, question_id: str) -> str:
    match = re.search(rf'<fieldset[^>]*id="q-{question_id}".*?</fieldset>', content, flags=re.S)
    assert match, f"no fieldset for {question_id}"
    return match.group(0)


class QuestionnaireParser(HTMLParser):
    """Collects each fieldset: its attributes, legend text and inputs (only those inside it:
    the note under a question has its own)."""

    def __init__(self):
        super().__init__()
        self.fieldsets: list[dict[str, Any]] = []
        self._in_legend = False
        self._in_fieldset = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "fieldset":
            self.fieldsets.append({"attrs": attributes, "legend": "", "inputs": []})
            self._in_fieldset = True
        elif tag == "legend" and self.fieldsets:
            self._in_legend = True
        elif tag == "input" and self._in_fieldset:
            self.fieldsets[-1]["inputs"].append(attributes)

    def handle_endtag(self, tag):
        if tag == "legend":
            self._in_legend = False
        elif tag == "fieldset":
            self._in_fieldset = False

    def handle_data(self, data):
        if self._in_legend:
            self.fieldsets[-1]["legend"] += data


def parse_fieldsets(content: str) -> dict[str, dict[str, Any]]:
    parser = QuestionnaireParser()
    parser.feed(content)
    return {f["attrs"]["id"].removeprefix("q-"): f for f in parser.fieldsets}


# --- The form ----------------------------------------------------------------------------


def test_questionnaire_has_a_fieldset_and_legend_per_question(owner_client, assessment):
    response = owner_client.get(questionnaire_url(assessment))

    assert response.status_code == 200
    fieldsets = parse_fieldsets(response.content.decode())
    assert list(fieldsets) == list(RUBRIC.questions)
    for question in RUBRIC.questions.values():
        legend = " ".join(fieldsets[question.id]["legend"].split())
        assert legend.startswith(question.text)
        assert ("(optional)" in legend) == (not question.required)


def test_questionnaire_inputs_are_named_by_question_with_choice_values(owner_client, assessment):
    fieldsets = parse_fieldsets(owner_client.get(questionnaire_url(assessment)).content.decode())

    for question in RUBRIC.questions.values():
        inputs = fieldsets[question.id]["inputs"]
        assert {i["name"] for i in inputs} == {question.id}
        if question.kind == "integer":
            assert [i["type"] for i in inputs] == ["number"]
        else:
            expected_type = "radio" if question.kind == "single" else "checkbox"
            assert [i["value"] for i in inputs] == list(question.choice_ids)
            assert {i["type"] for i in inputs} == {expected_type}


def test_each_question_autosaves_to_its_own_url(owner_client, assessment):
    fieldsets = parse_fieldsets(owner_client.get(questionnaire_url(assessment)).content.decode())

    for question_id, fieldset in fieldsets.items():
        assert fieldset["attrs"]["hx-post"] == save_url(assessment, question_id)
        assert fieldset["attrs"]["hx-params"] == question_id


def test_questionnaire_shows_the_stored_answers_as_checked(owner_client, complete_assessment):
    complete_answers = stored_answers(complete_assessment)
    set_answers(complete_assessment, {"monthly_queries": 50000})
    fieldsets = parse_fieldsets(
        owner_client.get(questionnaire_url(complete_assessment)).content.decode()
    )

    for question_id, value in complete_answers.items():
        picked = set(value) if isinstance(value, list) else {value}
        checked = {i["value"] for i in fieldsets[question_id]["inputs"] if "checked" in i}
        assert checked == picked, question_id
    assert fieldsets["monthly_queries"]["inputs"][0]["value"] == "50000"
    assert not [i for i in fieldsets["eval_set"]["inputs"] if "checked" in i]


def test_questionnaire_shows_the_live_verdict_panel(owner_client, complete_assessment):
    content = owner_client.get(questionnaire_url(complete_assessment)).content.decode()

    assert 'id="verdict-panel"' in content
    assert "hx-swap-oob" not in content
    assert "13 of 13 required questions answered" in content
    assert "badge-hybrid" in content
    assert reverse("report", args=[complete_assessment.pk]) in content


def test_questionnaire_without_needs_asks_for_them_in_the_panel(owner_client, assessment):
    content = owner_client.get(questionnaire_url(assessment)).content.decode()
    assert "0 of 13 required questions answered" in content
    assert "to see a first verdict" in content


def test_questionnaire_shows_a_provisional_verdict_once_the_needs_are_known(
    owner_client, assessment
):
    set_answers(assessment, {"knowledge_needs": ["documents"]})
    set_answers(assessment, {"behavior_needs": ["none"]})

    content = owner_client.get(questionnaire_url(assessment)).content.decode()

    assert "provisional" in content
    assert "11 required questions left" in content


# --- Full-form save (no JavaScript) ------------------------------------------------------


def test_full_form_post_saves_every_answer_and_redirects_to_the_report(
    owner_client, assessment, complete_answers
):
    data = form_data(complete_answers) | {"monthly_queries": "50,000", "eval_set": "yes"}

    response = owner_client.post(questionnaire_url(assessment), data)

    assert response.status_code == 302
    assert response.url == reverse("report", args=[assessment.pk])
    assert stored_answers(assessment) == complete_answers | {
        "monthly_queries": 50000,
        "eval_set": "yes",
    }
    assessment.refresh_from_db()
    assert assessment.answers_changed_at is not None
    page = owner_client.get(response.url).content.decode()
    assert "Answers saved. Here is your report." in page


def test_full_form_post_of_a_partial_questionnaire_returns_to_the_questionnaire(
    owner_client, assessment
):
    data = {"latency": "batch", "knowledge_needs": ["documents", "catalog"]}

    response = owner_client.post(questionnaire_url(assessment), data)

    assert response.status_code == 302
    assert response.url == questionnaire_url(assessment)
    assert stored_answers(assessment) == {
        "latency": "batch",
        "knowledge_needs": ["documents", "catalog"],
    }
    page = owner_client.get(response.url).content.decode()
    assert "Answers saved. 11 required questions left." in page


def test_full_form_post_stores_multi_choices_in_rubric_order(owner_client, assessment):
    owner_client.post(questionnaire_url(assessment), {"behavior_needs": ["guardrails", "tone"]})
    assert stored_answers(assessment) == {"behavior_needs": ["tone", "guardrails"]}


def test_full_form_post_changing_one_answer_keeps_the_others(
    owner_client, complete_assessment, complete_answers
):
    data = form_data(complete_answers) | {"latency": "batch"}

    response = owner_client.post(questionnaire_url(complete_assessment), data)

    assert response.status_code == 302
    assert stored_answers(complete_assessment) == complete_answers | {"latency": "batch"}


@pytest.mark.parametrize(
    ("change", "question_id", "message"),
    [
        ({"latency": "slow"}, "latency", "&#x27;slow&#x27; is not a valid choice"),
        ({"latency": ["batch", "realtime"]}, "latency", "choose only one answer"),
        ({"knowledge_needs": ["none", "catalog"]}, "knowledge_needs", "cannot be combined"),
        ({"monthly_queries": "lots"}, "monthly_queries", "enter a whole number"),
        ({"monthly_queries": "-5"}, "monthly_queries", "enter a whole number"),
        (
            {"knowledge_needs": ["none"], "behavior_needs": ["none"]},
            "knowledge_needs",
            "nothing to solve yet",
        ),
    ],
    ids=["bad-choice", "two-singles", "none-mixed", "not-a-number", "negative", "no-needs"],
)
def test_invalid_full_form_post_returns_422_with_the_error_at_the_question_and_saves_nothing(
    owner_client, complete_assessment, complete_answers, change, question_id, message
):
    # A valid change in the same submission must not be saved either.
    data = form_data(complete_answers) | {"budget": "limited"} | change
    before = stored_answers(complete_assessment)

    response = owner_client.post(questionnaire_url(complete_assessment), data)

    assert response.status_code == 422
    content = response.content.decode()
    assert "Nothing was saved." in content
    # The summary names the question in words and links to it.
    question_text = load_rubric("v1").questions[question_id].text
    assert f'<a href="#q-{question_id}">{escape(question_text)}</a>' in content
    fieldset = fieldset_html(content, question_id)
    assert "has-error" in fieldset
    assert 'aria-invalid="true"' in fieldset
    assert "Not saved:" in fieldset
    assert message in fieldset
    assert stored_answers(complete_assessment) == before
    assert [error["question_id"] for error in response.context["errors"]] == [question_id]


def test_invalid_full_form_post_shows_what_the_user_submitted(
    owner_client, complete_assessment, complete_answers
):
    data = form_data(complete_answers) | {"budget": "limited", "latency": "slow"}

    response = owner_client.post(questionnaire_url(complete_assessment), data)

    budget = parse_fieldsets(response.content.decode())["budget"]
    assert [i["value"] for i in budget["inputs"] if "checked" in i] == ["limited"]


def test_an_answered_required_question_submitted_empty_is_an_error_and_is_not_cleared(
    owner_client, complete_assessment, complete_answers
):
    data = form_data(complete_answers)
    del data["latency"]

    response = owner_client.post(questionnaire_url(complete_assessment), data)

    assert response.status_code == 422
    fieldset = fieldset_html(response.content.decode(), "latency")
    assert "has-error" in fieldset
    assert "cannot be cleared" in fieldset
    assert stored_answers(complete_assessment) == complete_answers


def test_full_form_post_can_clear_optional_answers(
    owner_client, complete_assessment, complete_answers
):
    set_answers(complete_assessment, {"monthly_queries": 50000})
    set_answers(complete_assessment, {"eval_set": "yes"})
    data = form_data(complete_answers) | {"monthly_queries": ""}

    response = owner_client.post(questionnaire_url(complete_assessment), data)

    assert response.status_code == 302
    assert stored_answers(complete_assessment) == complete_answers


def test_empty_full_form_post_on_a_fresh_assessment_saves_nothing_and_stays(
    owner_client, assessment
):
    response = owner_client.post(questionnaire_url(assessment), {})
    assert response.status_code == 302
    assert response.url == questionnaire_url(assessment)
    assert stored_answers(assessment) == {}


def test_submitting_the_questionnaire_unchanged_does_not_move_answers_last_changed(
    owner_client, complete_assessment, complete_answers
):
    complete_assessment.refresh_from_db()
    changed_at = complete_assessment.answers_changed_at
    project_changed_at = Project.objects.get().updated_at

    response = owner_client.post(
        questionnaire_url(complete_assessment), form_data(complete_answers)
    )

    assert response.status_code == 302
    complete_assessment.refresh_from_db()
    assert complete_assessment.answers_changed_at == changed_at
    assert Project.objects.get().updated_at == project_changed_at


# --- HTMX autosave -----------------------------------------------------------------------


def test_htmx_save_stores_only_that_question(owner_client, complete_assessment, complete_answers):
    response = owner_client.post(
        save_url(complete_assessment, "latency"), {"latency": "batch"}, **HTMX
    )

    assert response.status_code == 200
    assert stored_answers(complete_assessment) == complete_answers | {"latency": "batch"}
    assert Answer.objects.filter(assessment=complete_assessment).count() == len(complete_answers)


def test_htmx_save_answers_with_saved_status_and_the_out_of_band_verdict_panel(
    owner_client, assessment
):
    response = owner_client.post(save_url(assessment, "latency"), {"latency": "batch"}, **HTMX)

    content = response.content.decode()
    assert response.status_code == 200
    assert re.search(r'<span class="save-status[^"]*" id="status-latency"', content)
    assert "Saved" in content
    assert "Not saved" not in content
    panel = re.search(r"<aside[^>]*>", content).group(0)
    assert 'id="verdict-panel"' in panel
    assert 'hx-swap-oob="true"' in panel
    assert "1 of 13 required questions answered" in content
    assert "<html" not in content


def test_htmx_save_updates_the_live_verdict(owner_client, complete_assessment):
    response = owner_client.post(
        save_url(complete_assessment, "behavior_needs"), {"behavior_needs": "none"}, **HTMX
    )

    assert response.status_code == 200
    assert "badge-rag" in response.content.decode()
    assert stored_answers(complete_assessment)["behavior_needs"] == ["none"]


def test_htmx_save_of_the_last_answer_offers_the_report(owner_client, assessment, complete_answers):
    set_answers(assessment, {q: v for q, v in complete_answers.items() if q != "regulated"})

    response = owner_client.post(save_url(assessment, "regulated"), {"regulated": "no"}, **HTMX)

    content = response.content.decode()
    assert "13 of 13 required questions answered" in content
    assert reverse("report", args=[assessment.pk]) in content


def test_htmx_save_sets_answers_last_changed(owner_client, assessment):
    owner_client.post(save_url(assessment, "latency"), {"latency": "batch"}, **HTMX)
    assessment.refresh_from_db()
    assert assessment.answers_changed_at is not None


@pytest.mark.parametrize(
    ("question_id", "values", "message"),
    [
        ("latency", ["slow"], "&#x27;slow&#x27; is not a valid choice"),
        ("latency", ["batch", "realtime"], "choose only one answer"),
        ("latency", [""], "choose an answer (it cannot be cleared)"),
        ("latency", [], "choose an answer (it cannot be cleared)"),
        ("knowledge_needs", ["made_up"], "not valid choices"),
        ("monthly_queries", ["twelve"], "enter a whole number"),
        ("monthly_queries", [str(10**13)], "must be between 0 and"),
    ],
    ids=["bad-choice", "two-singles", "empty", "missing", "bad-multi", "not-a-number", "huge"],
)
def test_htmx_save_of_an_invalid_value_is_422_not_saved_and_changes_nothing(
    owner_client, complete_assessment, question_id, values, message
):
    set_answers(complete_assessment, {"monthly_queries": 50000})
    before = stored_answers(complete_assessment)

    response = owner_client.post(
        save_url(complete_assessment, question_id), {question_id: values}, **HTMX
    )

    assert response.status_code == 422
    content = response.content.decode()
    assert "Not saved" in content
    assert message in content
    assert 'id="verdict-panel"' in content
    assert stored_answers(complete_assessment) == before


def test_htmx_save_rejects_none_mixed_with_other_choices(owner_client, complete_assessment):
    before = stored_answers(complete_assessment)

    response = owner_client.post(
        save_url(complete_assessment, "knowledge_needs"),
        {"knowledge_needs": ["none", "catalog"]},
        **HTMX,
    )

    assert response.status_code == 422
    content = response.content.decode()
    assert "Not saved" in content
    assert escape("“Nothing beyond what a base model knows” cannot be combined") in content
    assert stored_answers(complete_assessment) == before


def test_htmx_save_rejects_both_needs_none_as_nothing_to_solve(owner_client, assessment):
    set_answers(assessment, {"behavior_needs": ["none"]})

    response = owner_client.post(
        save_url(assessment, "knowledge_needs"), {"knowledge_needs": ["none"]}, **HTMX
    )

    assert response.status_code == 422
    content = response.content.decode()
    assert "Not saved" in content
    assert "nothing to solve" in content
    assert escape(NOTHING_TO_SOLVE) in content
    assert stored_answers(assessment) == {"behavior_needs": ["none"]}


def test_htmx_save_of_the_second_none_need_is_rejected_whichever_comes_first(
    owner_client, assessment
):
    set_answers(assessment, {"knowledge_needs": ["none"]})

    response = owner_client.post(
        save_url(assessment, "behavior_needs"), {"behavior_needs": ["none"]}, **HTMX
    )

    assert response.status_code == 422
    assert "nothing to solve" in response.content.decode()
    assert stored_answers(assessment) == {"knowledge_needs": ["none"]}


def test_htmx_save_can_clear_the_optional_monthly_queries(
    owner_client, complete_assessment, complete_answers
):
    set_answers(complete_assessment, {"monthly_queries": 50000})

    response = owner_client.post(
        save_url(complete_assessment, "monthly_queries"), {"monthly_queries": ""}, **HTMX
    )

    assert response.status_code == 200
    assert "Saved" in response.content.decode()
    assert stored_answers(complete_assessment) == complete_answers


def test_htmx_save_accepts_thousands_separators_in_monthly_queries(owner_client, assessment):
    response = owner_client.post(
        save_url(assessment, "monthly_queries"), {"monthly_queries": "1,200,000"}, **HTMX
    )
    assert response.status_code == 200
    assert stored_answers(assessment) == {"monthly_queries": 1200000}


def test_htmx_save_ignores_other_questions_in_the_request(owner_client, assessment):
    owner_client.post(
        save_url(assessment, "latency"), {"latency": "batch", "budget": "limited"}, **HTMX
    )
    assert stored_answers(assessment) == {"latency": "batch"}


def test_save_to_an_unknown_question_is_404(owner_client, assessment):
    response = owner_client.post(save_url(assessment, "favourite_colour"), {"x": "y"}, **HTMX)
    assert response.status_code == 404
    assert stored_answers(assessment) == {}


def test_save_question_by_get_is_not_allowed(owner_client, assessment):
    assert owner_client.get(save_url(assessment, "latency")).status_code == 405


def test_non_htmx_post_to_save_question_saves_and_redirects_to_the_question(
    owner_client, assessment
):
    response = owner_client.post(save_url(assessment, "latency"), {"latency": "batch"})

    assert response.status_code == 302
    assert response.url == questionnaire_url(assessment) + "#q-latency"
    assert stored_answers(assessment) == {"latency": "batch"}


def test_non_htmx_post_of_an_invalid_value_redirects_with_an_error_message(
    owner_client, assessment
):
    set_answers(assessment, {"latency": "batch"})

    response = owner_client.post(save_url(assessment, "latency"), {"latency": "slow"})

    assert response.status_code == 302
    assert response.url == questionnaire_url(assessment) + "#q-latency"
    assert stored_answers(assessment) == {"latency": "batch"}
    page = owner_client.get(response.url).content.decode()
    assert "Not saved:" in page
    assert "message-error" in page


def test_two_tabs_saving_different_questions_both_persist(owner, assessment):
    first_tab, second_tab = Client(), Client()
    first_tab.force_login(owner)
    second_tab.force_login(owner)
    # Both tabs load the (empty) questionnaire, then each saves a different question.
    assert first_tab.get(questionnaire_url(assessment)).status_code == 200
    assert second_tab.get(questionnaire_url(assessment)).status_code == 200

    first = first_tab.post(save_url(assessment, "latency"), {"latency": "batch"}, **HTMX)
    second = second_tab.post(save_url(assessment, "budget"), {"budget": "limited"}, **HTMX)

    assert first.status_code == second.status_code == 200
    assert stored_answers(assessment) == {"latency": "batch", "budget": "limited"}
    # The second tab's live panel counts the first tab's answer too.
    assert "2 of 13 required questions answered" in second.content.decode()


# --- CSRF --------------------------------------------------------------------------------


@pytest.fixture
def csrf_client(owner):
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    return client


def test_htmx_post_without_a_csrf_token_is_forbidden(csrf_client, assessment):
    csrf_client.get(questionnaire_url(assessment))

    response = csrf_client.post(save_url(assessment, "latency"), {"latency": "batch"}, **HTMX)

    assert response.status_code == 403
    assert stored_answers(assessment) == {}


def test_full_form_post_without_a_csrf_token_is_forbidden(
    csrf_client, assessment, complete_answers
):
    response = csrf_client.post(questionnaire_url(assessment), form_data(complete_answers))
    assert response.status_code == 403
    assert stored_answers(assessment) == {}


def test_htmx_post_with_the_csrf_header_from_the_cookie_succeeds(csrf_client, assessment):
    csrf_client.get(questionnaire_url(assessment))
    token = csrf_client.cookies["csrftoken"].value

    response = csrf_client.post(
        save_url(assessment, "latency"), {"latency": "batch"}, HTTP_X_CSRFTOKEN=token, **HTMX
    )

    assert response.status_code == 200
    assert "Saved" in response.content.decode()
    assert stored_answers(assessment) == {"latency": "batch"}


def test_htmx_post_with_the_csrf_header_from_the_page_succeeds(csrf_client, assessment):
    page = csrf_client.get(questionnaire_url(assessment)).content.decode()
    token = re.search(r"hx-headers='\{\"X-CSRFToken\": \"([^\"]+)\"\}'", page).group(1)

    response = csrf_client.post(
        save_url(assessment, "budget"), {"budget": "limited"}, HTTP_X_CSRFTOKEN=token, **HTMX
    )

    assert response.status_code == 200
    assert stored_answers(assessment) == {"budget": "limited"}


def test_full_form_post_with_the_token_from_the_page_succeeds(
    csrf_client, assessment, complete_answers
):
    page = csrf_client.get(questionnaire_url(assessment)).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)

    response = csrf_client.post(
        questionnaire_url(assessment),
        form_data(complete_answers) | {"csrfmiddlewaretoken": token},
    )

    assert response.status_code == 302
    assert stored_answers(assessment) == complete_answers


# --- Query budget ------------------------------------------------------------------------


@pytest.mark.parametrize("answered", ["one", "all"])
def test_questionnaire_runs_a_constant_number_of_queries(
    owner_client, assessment, complete_answers, answered, django_assert_max_num_queries
):
    answers = complete_answers if answered == "all" else {"latency": "batch"}
    Answer.objects.bulk_create(
        Answer(assessment=assessment, question_id=q, value=v) for q, v in answers.items()
    )

    with django_assert_max_num_queries(QUERY_BUDGET):
        response = owner_client.get(questionnaire_url(assessment))

    assert response.status_code == 200


def test_questionnaire_queries_do_not_grow_with_the_number_of_answers(
    owner_client, project, complete_answers
):
    one = V1AssessmentFactory(project=project, answers={"latency": "batch"})
    full = V1AssessmentFactory(project=project, answers=complete_answers)

    with CaptureQueriesContext(connection) as few:
        owner_client.get(questionnaire_url(one))
    with CaptureQueriesContext(connection) as many:
        owner_client.get(questionnaire_url(full))

    assert len(many) == len(few)


@pytest.mark.parametrize("typed", ["-3", "1.5", "99999999999999999999"])
def test_a_refused_number_comes_back_as_typed_under_its_error(
    owner_client, complete_assessment, complete_answers, typed
):
    data = form_data(complete_answers) | {"monthly_queries": typed}

    response = owner_client.post(questionnaire_url(complete_assessment), data)

    assert response.status_code == 422
    content = response.content.decode()
    assert f'name="monthly_queries" value="{typed}"' in content
    assert "[&#x27;" not in content  # never a Python list in a field


def test_the_page_says_how_answers_are_saved_with_and_without_javascript(owner_client, assessment):
    content = owner_client.get(questionnaire_url(assessment)).content.decode()
    # Shown by the stylesheet according to whether the autosave script runs (html.js).
    assert '<span class="with-js">Every answer is saved as soon as you choose it.</span>' in content
    assert '<span class="without-js">Choose your answers, then press “Save all answers”' in content
