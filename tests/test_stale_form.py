"""A whole-form submission made from a stale page never silently overwrites newer answers."""

import re

import pytest
from django.urls import reverse

from tests.factories import set_answers, stored_answers

pytestmark = pytest.mark.django_db


def questionnaire_url(assessment) -> str:
    return reverse("questionnaire", args=[assessment.pk])


def load_form(client, assessment) -> dict:
    page = client.get(questionnaire_url(assessment)).content.decode()
    return {"loaded_at": re.search(r'name="loaded_at" value="([^"]+)"', page).group(1)}


def form_data(answers):
    return {q: v if isinstance(v, list) else str(v) for q, v in answers.items()}


def test_a_change_made_elsewhere_after_loading_is_kept_and_the_user_is_told(
    owner_client, complete_assessment, complete_answers
):
    loaded = load_form(owner_client, complete_assessment)
    set_answers(complete_assessment, {"latency": "realtime"})  # another tab, after loading

    stale_submission = form_data(complete_answers) | {"budget": "limited"} | loaded
    response = owner_client.post(questionnaire_url(complete_assessment), stale_submission)

    page = response.content.decode()
    assert response.status_code == 409
    assert "Nothing was saved" in page
    assert "is now <strong>Real-time: voice, sub-second</strong>" in page
    assert re.search(r'name="latency" value="realtime" checked', page)
    assert re.search(r'name="budget" value="limited" checked', page), "other choices are kept"
    stored = stored_answers(complete_assessment)
    assert stored["latency"] == "realtime"
    assert stored["budget"] == complete_answers["budget"]


def test_submitting_again_from_the_refreshed_form_saves(
    owner_client, complete_assessment, complete_answers
):
    loaded = load_form(owner_client, complete_assessment)
    set_answers(complete_assessment, {"latency": "realtime"})
    url = questionnaire_url(complete_assessment)
    refreshed = owner_client.post(url, form_data(complete_answers) | loaded).content.decode()
    new_loaded = re.search(r'name="loaded_at" value="([^"]+)"', refreshed).group(1)

    data = form_data(complete_answers) | {"latency": "batch", "loaded_at": new_loaded}
    assert owner_client.post(url, data).status_code == 302
    assert stored_answers(complete_assessment)["latency"] == "batch"


def test_this_pages_own_autosaves_are_not_conflicts(
    owner_client, complete_assessment, complete_answers
):
    loaded = load_form(owner_client, complete_assessment)
    set_answers(complete_assessment, {"latency": "batch"})  # autosaved from this very page
    data = form_data(complete_answers) | {"latency": "batch", "budget": "limited"} | loaded
    response = owner_client.post(questionnaire_url(complete_assessment), data)
    assert response.status_code == 302
    stored = stored_answers(complete_assessment)
    assert (stored["latency"], stored["budget"]) == ("batch", "limited")


def test_answers_changed_elsewhere_but_not_touched_by_the_form_do_not_block_it(
    owner_client, complete_assessment, complete_answers
):
    loaded = load_form(owner_client, complete_assessment)
    set_answers(complete_assessment, {"latency": "realtime"})
    data = form_data(complete_answers | {"latency": "realtime"}) | {"budget": "limited"} | loaded
    response = owner_client.post(questionnaire_url(complete_assessment), data)
    assert response.status_code == 302
    assert stored_answers(complete_assessment)["budget"] == "limited"
