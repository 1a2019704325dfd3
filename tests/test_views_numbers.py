"""Run the numbers on the pages: the report, a share link, a worked example and the memo
show them; the owner edits the assumptions (with and without htmx), and a bad value saves
nothing and says which assumption is wrong."""

from __future__ import annotations

import io
import re

import pytest
from django.urls import reverse
from pypdf import PdfReader

from assessments.estimator import current_book_id, load_config
from assessments.examples import load_examples
from assessments.models import Assessment, Project
from assessments.services import start_assessment
from assessments.sharing import create_share_link
from tests.conftest import scenario_answers
from tests.factories import AssessmentFactory, V1AssessmentFactory, loaded

pytestmark = pytest.mark.django_db

CONFIG = load_config("v2")
APPROACH_LABELS = ("Prompting only", "Long context", "RAG", "Fine-tuning", "Hybrid")


@pytest.fixture
def v2_assessment(project, complete_v2_answers) -> Assessment:
    return AssessmentFactory(project=project, answers=complete_v2_answers)


def numbers_url(assessment: Assessment) -> str:
    return reverse("assessment_numbers", args=[assessment.pk])


def numbers_section(content: str) -> str:
    match = re.search(r'<section id="numbers".*?</section>', content, flags=re.S)
    assert match, "no numbers section"
    return match.group(0)


def row_of(section: str, label: str) -> str:
    match = re.search(rf"<tr[^>]*>\s*<th scope=\"row\">{re.escape(label)}.*?</tr>", section, re.S)
    assert match, f"no row for {label}"
    return match.group(0)


def test_the_report_shows_every_approach_with_its_cost_latency_and_budget_fit(
    owner_client, v2_assessment
):
    content = owner_client.get(reverse("report", args=[v2_assessment.pk])).content.decode()
    section = numbers_section(content)
    for label in APPROACH_LABELS:
        assert label in section
    assert "20,000 queries a month" in section
    assert f"book {current_book_id()}" in section
    assert 'class="cost-chart"' in section and "<polyline" in section
    assert "The chart as a table" in section and "Show the sums" in section
    assert "Verdict" in row_of(section, "Hybrid (fine-tuning + RAG)")
    # Ruled-out approaches stay, greyed, with the rubric's reason.
    assert "is-infeasible" in row_of(section, "Prompting only")
    assert "Ruled out:" in row_of(section, "Prompting only")
    assert "Change the assumptions" in section


def test_the_shared_page_and_the_example_show_the_numbers_without_controls(client, v2_assessment):
    _, token = create_share_link(v2_assessment, label="for the CFO")
    shared = client.get(reverse("shared_report", args=[token])).content.decode()
    section = numbers_section(shared)
    assert "Assumptions used" in section
    assert "Change the assumptions" not in section
    load_examples()
    example = Project.objects.examples().get(example_key="v2-distill-router")
    page = client.get(reverse("example_report", args=[example.example_key])).content.decode()
    assert "3,000,000 queries a month" in numbers_section(page)


def test_a_v1_report_has_no_numbers_and_its_page_says_why(owner_client, complete_assessment):
    report = owner_client.get(reverse("report", args=[complete_assessment.pk])).content.decode()
    assert 'id="numbers"' not in report
    page = owner_client.get(numbers_url(complete_assessment))
    assert page.status_code == 200
    assert "No numbers yet" in page.content.decode()


def test_an_unfinished_assessment_has_no_numbers_yet(owner_client, project):
    draft = AssessmentFactory(project=project, answers={"knowledge_needs": ["documents"]})
    content = owner_client.get(numbers_url(draft)).content.decode()
    assert "answer the remaining questions first" in content


def test_the_owner_changes_an_assumption_and_the_numbers_follow(owner_client, v2_assessment):
    before = numbers_section(owner_client.get(numbers_url(v2_assessment)).content.decode())
    response = owner_client.post(numbers_url(v2_assessment), {"output_tokens": "3000"})
    assert response.status_code == 302
    assert loaded(v2_assessment).assumptions == {"output_tokens": 3000}
    page = owner_client.get(response.url).content.decode()
    after = numbers_section(page)
    assert row_of(after, "Hybrid (fine-tuning + RAG)") != row_of(
        before, "Hybrid (fine-tuning + RAG)"
    )
    assert "1 assumption changed from the defaults" in after
    assert "Assumptions saved" in page


def test_htmx_gets_the_form_and_the_numbers_in_place(owner_client, v2_assessment):
    response = owner_client.post(
        numbers_url(v2_assessment), {"cache_hit_rate": "20%"}, headers={"HX-Request": "true"}
    )
    content = response.content.decode()
    assert response.status_code == 200
    assert content.lstrip().startswith('<div id="numbers-work"')
    assert "<html" not in content
    assert loaded(v2_assessment).assumptions == {"cache_hit_rate": 0.2}
    assert 'value="20%"' in content


@pytest.mark.parametrize("htmx", [False, True])
def test_a_bad_value_saves_nothing_and_names_the_assumption(owner_client, v2_assessment, htmx):
    headers = {"HX-Request": "true"} if htmx else {}
    response = owner_client.post(
        numbers_url(v2_assessment),
        {"output_tokens": "lots", "top_k": "8"},
        headers=headers,
    )
    content = response.content.decode()
    assert response.status_code == 422
    assert "Nothing was saved" in content
    assert "Output: enter a number." in content
    assert 'value="lots"' in content  # what was typed comes back
    assert 'aria-invalid="true"' in content
    assert loaded(v2_assessment).assumptions == {}


def test_reset_one_or_all_goes_back_to_the_defaults(owner_client, v2_assessment):
    url = numbers_url(v2_assessment)
    owner_client.post(url, {"output_tokens": "3000", "top_k": "8"})
    owner_client.post(url, {"reset": "top_k", "output_tokens": "3000", "top_k": "8"})
    assert loaded(v2_assessment).assumptions == {"output_tokens": 3000}
    owner_client.post(url, {"reset": "all"})
    assert loaded(v2_assessment).assumptions == {}


def test_a_value_equal_to_its_default_is_not_kept(owner_client, v2_assessment):
    default = CONFIG.assumptions["instruction_tokens"].default
    owner_client.post(numbers_url(v2_assessment), {"instruction_tokens": str(default)})
    assert loaded(v2_assessment).assumptions == {}


def test_someone_else_cannot_see_or_change_the_numbers(client, other_user, v2_assessment):
    client.force_login(other_user)
    assert client.get(numbers_url(v2_assessment)).status_code == 404
    assert client.post(numbers_url(v2_assessment), {"output_tokens": "9"}).status_code == 404
    assert loaded(v2_assessment).assumptions == {}


def test_the_memo_has_the_cost_section_and_its_sources(owner_client, v2_assessment):
    response = owner_client.get(reverse("memo", args=[v2_assessment.pk]))
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    text = re.sub(r"\s+", " ", text)
    assert "5. Cost and latency" in text
    assert "Hybrid (fine-tuning + RAG)" in text
    assert "the cost sums and their sources" in text
    assert "https://" in text


def test_changed_assumptions_give_another_memo(owner_client, v2_assessment):
    url = reverse("memo", args=[v2_assessment.pk])
    first = owner_client.get(url).content
    owner_client.post(numbers_url(v2_assessment), {"output_tokens": "3000"})
    assert owner_client.get(url).content != first


def test_a_new_assessment_keeps_the_assumptions_and_takes_the_newest_prices(v2_assessment):
    Assessment.objects.filter(pk=v2_assessment.pk).update(
        assumptions={"top_k": 8}, price_book="2000-01"
    )
    following = start_assessment(v2_assessment.project, source=loaded(v2_assessment))
    assert following.assumptions == {"top_k": 8}
    assert following.price_book == current_book_id()


def test_a_v1_assessment_re_assessed_starts_from_the_defaults(complete_assessment):
    Assessment.objects.filter(pk=complete_assessment.pk).update(assumptions={"top_k": 8})
    following = start_assessment(complete_assessment.project, source=loaded(complete_assessment))
    assert following.assumptions == {}


def test_the_report_s_queries_do_not_grow_with_the_numbers(
    owner_client, v2_assessment, django_assert_max_num_queries
):
    owner_client.get(reverse("report", args=[v2_assessment.pk]))
    with django_assert_max_num_queries(12):
        owner_client.get(reverse("report", args=[v2_assessment.pk]))
    with django_assert_max_num_queries(8):
        owner_client.get(numbers_url(v2_assessment))


def test_a_v1_factory_assessment_records_a_price_book_too(project):
    assert V1AssessmentFactory(project=project).price_book == current_book_id()


def test_a_reset_keeps_what_else_was_typed_and_a_bad_value_blocks_both(owner_client, v2_assessment):
    url = numbers_url(v2_assessment)
    owner_client.post(url, {"top_k": "8"})
    # Without JavaScript a Reset button posts the whole form: the other edit is kept.
    owner_client.post(url, {"reset": "top_k", "top_k": "8", "output_tokens": "900"})
    assert loaded(v2_assessment).assumptions == {"output_tokens": 900}
    refused = owner_client.post(url, {"reset": "output_tokens", "output_tokens": "900",
                                      "chunk_tokens": "lots"})  # fmt: skip
    assert refused.status_code == 422
    assert loaded(v2_assessment).assumptions == {"output_tokens": 900}


def test_when_the_verdict_does_not_work_out_the_note_says_so_first(owner_client, project):
    # Policy assistant: RAG is the verdict. 200,000 tokens of few-shot examples make RAG's
    # first token miss the 5 s budget; the hybrid, sent no examples, still fits.
    assessment = AssessmentFactory(project=project, answers=scenario_answers("v2-policy-assistant"))
    owner_client.post(numbers_url(assessment), {"few_shot_tokens": "200k"})
    report = owner_client.get(reverse("report", args=[assessment.pk])).content.decode()
    note = re.search(r'class="notice cheapest-note">([^<]*)', numbers_section(report)).group(1)
    assert note.startswith("The verdict, RAG, does not work out at these numbers:")
    assert "budget" in note and "is the cheapest possible" in note


def test_a_price_book_no_longer_in_the_app_falls_back_to_the_newest(owner_client, v2_assessment):
    Assessment.objects.filter(pk=v2_assessment.pk).update(price_book="1999-01")
    section = numbers_section(
        owner_client.get(reverse("report", args=[v2_assessment.pk])).content.decode()
    )
    assert f"book {current_book_id()}" in section
