"""A report's body is rendered once per content and reused, but never shown stale or with
another viewer's controls."""

import re

import pytest
from django.template.loader import render_to_string
from django.test import Client
from django.urls import reverse
from django.utils import dateformat, timezone

from assessments import report_bodies
from assessments.forms import ShareLinkForm
from assessments.rubric import load_rubric
from assessments.scoring import score
from assessments.services import evaluate_assessment
from assessments.sharing import create_share_link
from assessments.views.reports import _share_form_fields
from tests.factories import V1AssessmentFactory, loaded, set_answers

pytestmark = pytest.mark.django_db

RUBRIC = load_rubric("v1")


@pytest.fixture
def renders(monkeypatch):
    """Counts the renderings of report bodies."""
    calls = []
    real = report_bodies._render

    def counting(*args, **kwargs):
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(report_bodies, "_render", counting)
    return calls


def verdict_of(page: str) -> str:
    return re.search(r'<h2 id="verdict-title"[^>]*>([^<]+)</h2>', page).group(1)


def test_the_same_content_is_rendered_once(owner_client, complete_assessment, renders):
    url = reverse("report", args=[complete_assessment.pk])
    first = owner_client.get(url).content.decode()
    second = owner_client.get(url).content.decode()
    assert len(renders) == 1
    [(_, body)] = report_bodies._bodies.values()
    assert 'id="verdict-title"' in body and body in first and body in second


def test_a_changed_answer_is_shown_at_once(
    owner_client, complete_assessment, complete_answers, renders
):
    url = reverse("report", args=[complete_assessment.pk])
    before = score(complete_answers, RUBRIC)
    label = RUBRIC.verdict_label
    assert verdict_of(owner_client.get(url).content.decode()) == label(before.verdict)
    flip = before.flips[0]  # a single change that changes the verdict
    set_answers(complete_assessment, {flip["question"]: flip["to"]})
    page = owner_client.get(url).content.decode()
    assert verdict_of(page) == label(flip["verdict"]) != label(before.verdict)
    assert len(renders) == 2


def test_an_answer_changed_back_is_shown_with_its_new_change_time(
    owner_client, complete_assessment, complete_answers, renders
):
    url = reverse("report", args=[complete_assessment.pk])
    flip = score(complete_answers, RUBRIC).flips[0]
    original = verdict_of(owner_client.get(url).content.decode())
    set_answers(complete_assessment, {flip["question"]: flip["to"]})
    owner_client.get(url)
    set_answers(complete_assessment, {flip["question"]: complete_answers[flip["question"]]})
    page = owner_client.get(url).content.decode()
    assert verdict_of(page) == original
    complete_assessment.refresh_from_db()
    changed = dateformat.format(timezone.localtime(complete_assessment.answers_changed_at), "c")
    assert f'<time datetime="{changed}">' in page
    assert len(renders) == 3


def test_the_owners_edit_links_never_reach_a_shared_or_example_view(
    owner_client, complete_assessment, renders
):
    report = reverse("report", args=[complete_assessment.pk])
    questionnaire = reverse("questionnaire", args=[complete_assessment.pk])
    _, token = create_share_link(complete_assessment, label="for the CFO")
    shared_url = reverse("shared_report", args=[token])

    owner_page = owner_client.get(report).content.decode()
    shared_page = Client().get(shared_url).content.decode()
    again = owner_client.get(report).content.decode()

    assert f'href="{questionnaire}#q-' in owner_page and f'href="{questionnaire}#q-' in again
    assert questionnaire not in shared_page
    assert verdict_of(shared_page) == verdict_of(owner_page)
    assert len(renders) == 2  # one body for the owner, one read-only body


def test_bodies_are_rendered_every_time_with_debug_on(complete_assessment, settings, renders):
    settings.DEBUG = True
    assessment = loaded(complete_assessment)
    evaluation = evaluate_assessment(assessment)
    first = report_bodies.render_report_body(assessment, evaluation, is_owner=True)
    second = report_bodies.render_report_body(assessment, evaluation, is_owner=True)
    assert first == second and len(renders) == 2


def test_the_cache_keeps_a_bounded_number_of_bodies(project, complete_answers, monkeypatch):
    monkeypatch.setattr(report_bodies, "REPORT_BODY_CACHE_SIZE", 2)
    for created in V1AssessmentFactory.create_batch(4, project=project, answers=complete_answers):
        assessment = loaded(created)
        evaluation = evaluate_assessment(assessment)
        report_bodies.render_report_body(assessment, evaluation, is_owner=True)
    assert len(report_bodies._bodies) == 2


def test_an_incomplete_evaluation_has_no_body(assessment):
    assessment = loaded(assessment)
    with pytest.raises(ValueError, match="complete"):
        report_bodies.render_report_body(assessment, evaluate_assessment(assessment), is_owner=True)


def test_the_remembered_blank_share_form_is_the_blank_form(settings):
    fresh = render_to_string("_form_fields.html", {"form": ShareLinkForm()})
    assert _share_form_fields(None) == fresh
    assert _share_form_fields(None) == fresh  # the remembered copy
    invalid = ShareLinkForm(data={"label": "x" * 81, "expiry": "5"})
    assert invalid.errors and _share_form_fields(invalid) != fresh
    assert "field-error" in _share_form_fields(invalid)
