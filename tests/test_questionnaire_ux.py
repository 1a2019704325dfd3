"""Issue 11 through the test client: the estimated time to finish, a refused autosave that
redraws the question from what is stored, the announced verdict sentence, the phone bar and
the skip link (their behaviour in a browser is in tests/e2e/test_questionnaire_ux.py)."""

import re

import pytest
from django.urls import reverse

from assessments.rubric import load_rubric
from assessments.views.questionnaire import SECONDS_PER_QUESTION, time_left_text
from tests.factories import set_answers, stored_answers

pytestmark = pytest.mark.django_db

RUBRIC = load_rubric("v1")
REQUIRED = len(RUBRIC.required_ids)
HTMX = {"HTTP_HX_REQUEST": "true"}


def save_url(assessment, question_id: str) -> str:
    return reverse("save_question", args=[assessment.pk, question_id])


def page(owner_client, assessment) -> str:
    response = owner_client.get(reverse("questionnaire", args=[assessment.pk]))
    assert response.status_code == 200
    return response.content.decode()


def element(content: str, element_id: str) -> str:
    """The opening tag of the element with this id."""
    match = re.search(rf'<[a-z]+[^>]*\bid="{element_id}"[^>]*>', content)
    assert match, f"no element #{element_id}"
    return match.group(0)


# --- 13. the estimated time to finish ---------------------------------------------------------


@pytest.mark.parametrize(
    ("left", "text"),
    [
        (0, ""),
        (1, "About 1 minute left"),
        (3, "About 1 minute left"),
        (4, "About 2 minutes left"),
        (13, "About 5 minutes left"),
    ],
)
def test_time_left_is_rounded_up_to_whole_minutes(left, text):
    assert SECONDS_PER_QUESTION == 20
    assert time_left_text(left) == text


def test_the_questionnaire_shows_the_time_left_for_the_required_questions(owner_client, assessment):
    assert "About 5 minutes left" in page(owner_client, assessment)  # 13 left, 20 s each

    set_answers(assessment, {"knowledge_needs": ["documents"], "latency": "batch",
                             "budget": "limited", "eval_set": "yes",
                             "monthly_queries": 5000})  # fmt: skip
    # Only the three required answers count: 10 left, 200 s (were the two optional ones
    # counted too, 8 would be left: "About 3 minutes").
    assert "About 4 minutes left" in page(owner_client, assessment)


def test_a_finished_questionnaire_shows_no_time_left(owner_client, complete_assessment):
    assert "minutes left" not in page(owner_client, complete_assessment)
    assert "minute left" not in page(owner_client, complete_assessment)


def test_the_time_left_follows_each_autosave(owner_client, assessment):
    response = owner_client.post(save_url(assessment, "latency"), {"latency": "batch"}, **HTMX)
    assert "About 4 minutes left" in response.content.decode()  # 12 left: 240 s


# --- 2. a refused autosave redraws the question from what is stored ---------------------------


def test_a_refused_autosave_redraws_the_question_with_the_stored_choice(owner_client, assessment):
    set_answers(assessment, {"knowledge_needs": ["documents"]})

    response = owner_client.post(save_url(assessment, "knowledge_needs"), {}, **HTMX)

    assert response.status_code == 422
    assert response["HX-Retarget"] == "#q-knowledge_needs"
    assert response["HX-Reswap"] == "outerHTML"
    content = response.content.decode()
    fieldset = re.search(r'<fieldset[^>]*id="q-knowledge_needs".*?</fieldset>', content, re.S)
    assert fieldset, "the response redraws the question"
    fieldset = fieldset.group(0)
    assert 'aria-invalid="true"' in fieldset and "has-error" in fieldset
    assert "Not saved" in fieldset and "cannot be cleared" in fieldset
    assert re.search(r'<input[^>]*value="documents" checked', fieldset), "stored box ticked"
    assert not re.search(r'<input[^>]*value="catalog" checked', fieldset)
    assert 'hx-post="' + save_url(assessment, "knowledge_needs") + '"' in fieldset
    assert stored_answers(assessment) == {"knowledge_needs": ["documents"]}


def test_a_refused_nothing_to_solve_redraws_the_box_unticked(owner_client, assessment):
    set_answers(assessment, {"knowledge_needs": ["none"], "behavior_needs": ["tone"]})

    response = owner_client.post(
        save_url(assessment, "behavior_needs"), {"behavior_needs": ["none"]}, **HTMX
    )

    assert response.status_code == 422
    content = response.content.decode()
    assert "nothing to solve" in content
    assert re.search(r'<input[^>]*value="tone" checked', content)
    assert not re.search(r'<input[^>]*name="behavior_needs" value="none" checked', content)


def test_a_successful_autosave_sends_only_the_status_not_the_question(owner_client, assessment):
    response = owner_client.post(save_url(assessment, "latency"), {"latency": "batch"}, **HTMX)

    assert response.status_code == 200
    assert "HX-Retarget" not in response
    assert "<fieldset" not in response.content.decode()


def test_every_choice_has_an_id_so_focus_survives_a_redraw(owner_client, assessment):
    content = page(owner_client, assessment)
    inputs = re.findall(r'<input type="(?:radio|checkbox)"[^>]*>', content)
    assert inputs
    ids = [re.search(r'id="([^"]+)"', tag).group(1) for tag in inputs]
    assert len(set(ids)) == len(ids)


# --- 11. the announced verdict and its skip link ----------------------------------------------


def test_the_verdict_sentence_is_a_polite_live_region(owner_client, assessment):
    set_answers(assessment, {"knowledge_needs": ["documents"], "behavior_needs": ["tone"]})
    content = page(owner_client, assessment)

    tag = element(content, "verdict-announcement")
    assert 'aria-live="polite"' in tag and 'role="status"' in tag
    assert re.search(
        r'id="verdict-announcement"[^>]*>Verdict: \w[\w -]*, provisional\. '
        rf"2 of {REQUIRED} required questions answered\.</p>",
        content,
    )


def test_an_autosave_changes_the_sentence_inside_the_same_live_region(owner_client, assessment):
    set_answers(assessment, {"knowledge_needs": ["documents"]})

    response = owner_client.post(
        save_url(assessment, "behavior_needs"), {"behavior_needs": ["tone"]}, **HTMX
    )

    content = response.content.decode()
    # innerHTML: the region stays in the page, only its words change, so it is announced.
    assert 'hx-swap-oob="innerHTML"' in element(content, "verdict-announcement")
    assert f"provisional. 2 of {REQUIRED} required questions answered." in content
    assert 'hx-swap-oob="true"' in element(content, "verdict-bar-text")


def test_no_verdict_yet_is_said_as_such(owner_client, assessment):
    content = page(owner_client, assessment)
    assert f"No verdict yet. 0 of {REQUIRED} required questions answered.</p>" in content


def test_a_skip_link_leads_to_the_live_verdict(owner_client, assessment):
    content = page(owner_client, assessment)
    assert '<a class="skip-link" href="#live-verdict">Skip to the live verdict</a>' in content
    assert 'tabindex="-1"' in element(content, "live-verdict")
    # After "Skip to content", before the header.
    assert content.index("Skip to content") < content.index("Skip to the live verdict")
    assert content.index("Skip to the live verdict") < content.index('class="site-header"')


def test_other_pages_have_no_live_verdict_skip_link(owner_client, project):
    response = owner_client.get(project.get_absolute_url())
    assert "Skip to the live verdict" not in response.content.decode()


# --- 8. the phone bar works without JavaScript ------------------------------------------------


def test_the_panel_folds_into_a_details_bar_with_verdict_and_count(owner_client, assessment):
    set_answers(assessment, {"knowledge_needs": ["documents"], "behavior_needs": ["tone"]})
    content = page(owner_client, assessment)

    details = re.search(r'<details[^>]*id="verdict-details"[^>]*>(.*?)</details>', content, re.S)
    assert details, "the panel sits in a <details>"
    assert " open" not in element(content, "verdict-details")  # folded until tapped (phone)
    summary = re.search(r'<summary class="verdict-bar">(.*?)</summary>', details.group(1), re.S)
    assert summary
    assert "badge" in summary.group(1)
    assert f"2/{REQUIRED}" in summary.group(1)
    assert 'id="verdict-panel"' in details.group(1)
