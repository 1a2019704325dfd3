"""The v2 questionnaire: questions asked only when their ask_if holds (redrawn by HTMX as
answers change, all shown with "Asked when" without JavaScript), progress over the asked
questions, and the live panel (lanes as they settle, the ladder, soft spots, first blocker)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from assessments.lanes.engine import verdict_for
from assessments.live import panel_for
from assessments.rubric import CURRENT_VERSION, load_rubric
from assessments.services import evaluate
from tests.factories import AssessmentFactory, set_answers, stored_answers
from tests.test_scoring_v2 import BASE, BEHAVIOUR_QUESTIONS, KNOWLEDGE_QUESTIONS, valid_answers

V2 = load_rubric("v2")
HTMX = {"HTTP_HX_REQUEST": "true"}
# Asked whatever the answers (no ask_if, required): 12 of the 22 questions.
ALWAYS_REQUIRED = 12
KNOWLEDGE_REQUIRED = 5  # knowledge_change, kb_size, access_control, kb_state, retrieval_possible
BEHAVIOUR_REQUIRED = 4


@pytest.fixture
def v2_assessment(project):
    return AssessmentFactory(project=project)


def fieldset(html: str, question_id: str) -> str:
    match = re.search(rf'<fieldset[^>]*id="q-{question_id}".*?</fieldset>', html, re.S)
    assert match, f"no fieldset for {question_id}"
    return match.group(0)


def is_asked(html: str, question_id: str) -> bool:
    opening = fieldset(html, question_id).split(">", 1)[0]
    return "not-asked" not in opening


def live(assessment):
    """The live panel of the answers stored now."""
    return panel_for(evaluate(stored_answers(assessment), V2, include_flips=False))


def autosave(client, assessment, question_id: str, *values: str):
    url = reverse("save_question", args=[assessment.pk, question_id])
    return client.post(url, {question_id: list(values)}, **HTMX)


def test_a_new_assessment_uses_the_current_rubric_v2(owner_client):
    response = owner_client.post(reverse("project_create"), {"name": "Docs bot"})
    assert response.status_code == 302
    page = owner_client.get(response["Location"], follow=True)
    assert CURRENT_VERSION == "v2"
    assert page.context["assessment"].rubric_version == "v2"


def test_before_any_answer_only_the_unconditional_questions_are_asked(owner_client, v2_assessment):
    html = owner_client.get(reverse("questionnaire", args=[v2_assessment.pk])).content.decode()
    for question_id in KNOWLEDGE_QUESTIONS + BEHAVIOUR_QUESTIONS:
        assert not is_asked(html, question_id)
        assert "Not asked with your answers so far" in fieldset(html, question_id)
    for question_id in ("knowledge_needs", "behavior_needs", "eval_set", "monthly_queries"):
        assert is_asked(html, question_id)
    assert f"0 of {ALWAYS_REQUIRED} required questions answered" in html


def test_every_conditional_question_says_when_it_is_asked(owner_client, v2_assessment):
    """Without JavaScript every question shows, so each says when it applies."""
    html = owner_client.get(reverse("questionnaire", args=[v2_assessment.pk])).content.decode()
    for question_id in KNOWLEDGE_QUESTIONS:
        assert "Asked when the model must know something" in fieldset(html, question_id)
    for question_id in BEHAVIOUR_QUESTIONS:
        assert "Asked when the model must behave differently" in fieldset(html, question_id)
    assert "Asked when" not in fieldset(html, "eval_set")


def test_picking_a_knowledge_need_brings_in_the_knowledge_questions(owner_client, v2_assessment):
    response = autosave(owner_client, v2_assessment, "knowledge_needs", "documents")

    html = response.content.decode()
    assert response.status_code == 200
    for question_id in KNOWLEDGE_QUESTIONS:
        assert 'hx-swap-oob="true"' in fieldset(html, question_id)
        assert is_asked(html, question_id)
    for question_id in BEHAVIOUR_QUESTIONS:
        assert f'id="q-{question_id}"' not in html  # untouched
    total = ALWAYS_REQUIRED + KNOWLEDGE_REQUIRED
    assert f"1 of {total} required questions answered" in html
    assert "New questions: Knowledge changes" in html


def test_removing_the_need_takes_the_questions_out_and_keeps_their_answers(
    owner_client, v2_assessment
):
    autosave(owner_client, v2_assessment, "knowledge_needs", "documents")
    autosave(owner_client, v2_assessment, "kb_size", "under_50k")

    response = autosave(owner_client, v2_assessment, "knowledge_needs", "none")

    html = response.content.decode()
    for question_id in KNOWLEDGE_QUESTIONS:
        assert not is_asked(html, question_id)
    assert stored_answers(v2_assessment)["kb_size"] == "under_50k"
    assert f"1 of {ALWAYS_REQUIRED} required questions answered" in html


def test_an_answer_that_changes_nothing_asked_redraws_no_question(owner_client, v2_assessment):
    response = autosave(owner_client, v2_assessment, "eval_set", "small")
    assert "<fieldset" not in response.content.decode()


def test_the_panel_shows_each_lane_waiting_then_settled(owner_client, v2_assessment):
    autosave(owner_client, v2_assessment, "knowledge_needs", "none")
    response = autosave(owner_client, v2_assessment, "behavior_needs", "tone")
    panel = live(v2_assessment)
    assert "waiting for" in response.content.decode()
    assert panel.lanes_text == "Knowledge: none · Behaviour: not settled yet"
    waiting = [w.question_id for w in panel.lanes[1].waiting]
    assert "ft_availability" in waiting
    assert panel.verdict == ""
    assert {r.id for r in panel.ladder if r.state == "possible"} == {"prompt_only", "fine_tune"}

    response = autosave(owner_client, v2_assessment, "ft_availability", "none")

    panel = live(v2_assessment)
    assert panel.lanes_text == "Knowledge: none · Behaviour: prompting"
    assert panel.verdict == "prompt_only"
    assert [r.state for r in panel.ladder].count("chosen") == 1
    html = response.content.decode()
    assert "Knowledge" in html and "prompting" in html
    assert "Prompting only" in html
    assert "the answers still to come can change readiness and confidence" in html


def test_the_panel_names_the_first_blocker_and_the_soft_spots(owner_client, v2_assessment):
    for question_id, value in (
        ("knowledge_needs", "none"),
        ("behavior_needs", "tone"),
        ("ft_availability", "hosted"),
        ("prompt_baseline", "far"),
        ("labeled_examples", "none"),
        ("eval_set", "none"),
    ):
        response = autosave(owner_client, v2_assessment, question_id, value)
    panel = live(v2_assessment)
    assert panel.verdict == "fine_tune"
    assert panel.readiness_label == "Not ready"
    assert panel.first_blocker.code == "no_eval_set"
    assert "baseline_not_on_eval_set" in [s.code for s in panel.soft_spots]
    html = response.content.decode()
    assert "First blocker" in html and "Why not higher" in html


def test_ready_is_only_said_once_nothing_is_left_to_answer():
    answers = {q: v for q, v in BASE.items() if q != "team_ml"}
    evaluation = evaluate(answers, V2, include_flips=False)
    panel = panel_for(evaluation)
    assert panel.verdict == "hybrid" and not panel.blockers
    assert panel.readiness_label == ""  # not known yet
    complete = panel_for(evaluate(BASE, V2, include_flips=False))
    assert complete.readiness_label == "Ready"


def test_before_the_last_answer_the_panel_says_no_blocker_so_far(owner_client, v2_assessment):
    set_answers(v2_assessment, {q: v for q, v in BASE.items() if q != "team_ml"})

    content = owner_client.get(reverse("questionnaire", args=[v2_assessment.pk])).content.decode()

    panel = content.split('id="verdict-panel"', 1)[1].split("</aside>", 1)[0]
    assert "No blocker so far" in panel
    assert ">Ready<" not in panel


def test_without_javascript_the_whole_form_saves_answers_to_questions_not_asked(
    owner_client, v2_assessment
):
    """An answer to a question that turns out not to apply is kept and ignored."""
    data: dict[str, Any] = {
        **{q: v for q, v in BASE.items() if not isinstance(v, list)},
        "knowledge_needs": ["none"],
        "behavior_needs": ["tone"],
    }
    data["monthly_queries"] = str(data["monthly_queries"])
    response = owner_client.post(reverse("questionnaire", args=[v2_assessment.pk]), data)

    assert response.status_code == 302
    assert response["Location"] == reverse("report", args=[v2_assessment.pk])
    assert stored_answers(v2_assessment)["kb_size"] == BASE["kb_size"]
    report = owner_client.get(response["Location"]).content.decode()
    assert "not asked" in report


def test_the_report_link_appears_only_when_the_asked_questions_are_answered(
    owner_client, v2_assessment
):
    for question_id, value in BASE.items():
        if question_id in KNOWLEDGE_QUESTIONS:
            continue  # not asked once knowledge_needs is none
        values = value if isinstance(value, list) else [str(value)]
        if question_id == "knowledge_needs":
            values = ["none"]
        response = autosave(owner_client, v2_assessment, question_id, *values)
    html = response.content.decode()
    total = ALWAYS_REQUIRED + BEHAVIOUR_REQUIRED
    assert f"{total} of {total} required questions answered" in html
    assert reverse("report", args=[v2_assessment.pk]) in html


@given(answers=valid_answers(), dropped=st.sets(st.sampled_from(list(V2.questions))))
def test_a_settled_verdict_is_the_verdict_of_every_completion(answers, dropped):
    """Whatever is still unanswered, a verdict the panel shows never changes when it is."""
    partial = {q: v for q, v in answers.items() if q not in dropped}
    evaluation = evaluate(partial, V2, include_flips=False)
    panel = panel_for(evaluation)
    if evaluation.problems or panel is None:
        return
    final = evaluate(answers, V2, include_flips=False).result.verdict
    if panel.verdict:
        assert panel.verdict == final
    assert final in {r.id for r in panel.ladder if r.state != "excluded"}
    for lane in evaluation.lanes.values():
        if lane.settled:
            assert evaluate(answers, V2, include_flips=False).result.lanes[lane.lane] == (
                lane.decision.value
            )


@given(answers=valid_answers(), dropped=st.sets(st.sampled_from(list(V2.questions))))
def test_the_panel_reasons_are_the_rules_that_chose_the_verdict(answers, dropped):
    partial = {q: v for q, v in answers.items() if q not in dropped}
    evaluation = evaluate(partial, V2, include_flips=False)
    panel = panel_for(evaluation)
    if panel is None or not panel.verdict:
        return
    lanes = {lane: p.decision.value for lane, p in evaluation.lanes.items()}
    assert verdict_for(lanes, V2) == panel.verdict
    assert [r.title for r in panel.reasons] == [
        f"{V2.lane(lane).label}: {V2.lane(lane).value_label(value)}"
        for lane, value in lanes.items()
    ]
