"""A whole-form submission made from a stale page never silently overwrites newer answers."""

import re

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from assessments.models import Project
from assessments.services import start_assessment
from tests.factories import set_answers, stored_answers

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner_client(client):
    owner = User.objects.create_user("lead")
    client.force_login(owner)
    client.owner = owner
    return client


@pytest.fixture
def assessment(owner_client, complete_answers):
    assessment = start_assessment(Project.objects.create(owner=owner_client.owner, name="Bot"))
    set_answers(assessment, complete_answers)
    return assessment


def load_form(client, assessment) -> dict:
    page = client.get(reverse("questionnaire", args=[assessment.pk])).content.decode()
    return {"loaded_at": re.search(r'name="loaded_at" value="([^"]+)"', page).group(1)}


def form_data(answers):
    return {q: v if isinstance(v, list) else str(v) for q, v in answers.items()}


def test_a_change_made_elsewhere_after_loading_is_kept_and_the_user_is_told(
    owner_client, assessment, complete_answers
):
    loaded = load_form(owner_client, assessment)
    set_answers(assessment, {"latency": "realtime"})  # another tab, after this page loaded

    stale_submission = form_data(complete_answers) | {"budget": "limited"} | loaded
    response = owner_client.post(reverse("questionnaire", args=[assessment.pk]), stale_submission)

    page = response.content.decode()
    assert response.status_code == 409
    assert "Nothing was saved" in page
    assert "is now <strong>Real-time: voice, sub-second</strong>" in page
    assert re.search(r'name="latency" value="realtime" checked', page)
    assert re.search(r'name="budget" value="limited" checked', page), "other choices are kept"
    stored = stored_answers(assessment)
    assert stored["latency"] == "realtime"
    assert stored["budget"] == complete_answers["budget"]


def test_submitting_again_from_the_refreshed_form_saves(owner_client, assessment, complete_answers):
    loaded = load_form(owner_client, assessment)
    set_answers(assessment, {"latency": "realtime"})
    url = reverse("questionnaire", args=[assessment.pk])
    refreshed = owner_client.post(url, form_data(complete_answers) | loaded).content.decode()
    new_loaded = re.search(r'name="loaded_at" value="([^"]+)"', refreshed).group(1)

    data = form_data(complete_answers) | {"latency": "batch", "loaded_at": new_loaded}
    assert owner_client.post(url, data).status_code == 302
    assert stored_answers(assessment)["latency"] == "batch"


def test_this_pages_own_autosaves_are_not_conflicts(owner_client, assessment, complete_answers):
    loaded = load_form(owner_client, assessment)
    set_answers(assessment, {"latency": "batch"})  # autosaved from this very page
    data = form_data(complete_answers) | {"latency": "batch", "budget": "limited"} | loaded
    response = owner_client.post(reverse("questionnaire", args=[assessment.pk]), data)
    assert response.status_code == 302
    stored = stored_answers(assessment)
    assert (stored["latency"], stored["budget"]) == ("batch", "limited")


def test_answers_changed_elsewhere_but_not_touched_by_the_form_do_not_block_it(
    owner_client, assessment, complete_answers
):
    loaded = load_form(owner_client, assessment)
    set_answers(assessment, {"latency": "realtime"})
    data = form_data(complete_answers | {"latency": "realtime"}) | {"budget": "limited"} | loaded
    response = owner_client.post(reverse("questionnaire", args=[assessment.pk]), data)
    assert response.status_code == 302
    assert stored_answers(assessment)["budget"] == "limited"
