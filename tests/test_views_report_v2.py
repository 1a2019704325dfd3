"""The rubric v2 report, memo and worked examples: what /examples/<key>/ shows for each v2
case (and so the owner page and a share link, which render the same body)."""

from __future__ import annotations

import io
import json
import re

import pytest
from django.urls import reverse
from django.utils.html import escape
from pypdf import PdfReader

from assessments.charts import FONT_SIZE, GLYPH_WIDTH, LADDER_NARROW, LADDER_WIDE
from assessments.examples import SCENARIOS_V2_FILE, load_examples
from assessments.models import Project
from assessments.presenters import LanesReport, present_report
from assessments.rubric import load_rubric
from assessments.services import evaluate_assessment
from tests.factories import loaded

pytestmark = pytest.mark.django_db

RUBRIC = load_rubric("v2")
SCENARIOS = json.loads(SCENARIOS_V2_FILE.read_text(encoding="utf-8"))["scenarios"]
KEYS = [s["id"] for s in SCENARIOS]
EXPECT = {s["id"]: s["expect"] for s in SCENARIOS}
SECTIONS = ["why", "flips", "matrix", "ladder", "numbers", "next-steps", "answers"]
QUERY_BUDGET = 12


@pytest.fixture
def examples():
    load_examples()
    return {p.example_key: p for p in Project.objects.examples().with_assessments()}


def section(content: str, section_id: str) -> str:
    match = re.search(rf'<section id="{section_id}".*?</section>', content, flags=re.S)
    assert match, f"no section {section_id}"
    return match.group(0)


def banner(content: str) -> str:
    return re.search(r'<section class="verdict-banner.*?</section>', content, re.S).group(0)


def text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def report_of(project: Project) -> LanesReport:
    assessment = project.current_assessment
    evaluation = evaluate_assessment(assessment)
    report = present_report(evaluation.result, evaluation.rubric, evaluation.answers)
    assert isinstance(report, LanesReport)
    return report


@pytest.mark.parametrize("key", KEYS)
def test_every_v2_example_report(client, examples, key, django_assert_max_num_queries):
    expect = EXPECT[key]
    with django_assert_max_num_queries(QUERY_BUDGET):
        response = client.get(reverse("example_report", args=[key]))
    assert response.status_code == 200
    content = response.content.decode()
    report = report_of(examples[key])

    # The banner: the verdict's rubric label, both lanes, the ladder, confidence, readiness.
    top = banner(content)
    assert f'verdict-banner verdict-v2 verdict-{expect["verdict"]}"' in top
    assert f">{escape(RUBRIC.verdict_label(expect['verdict'], expect['lanes']))}</h2>" in top
    for lane_id, value in expect["lanes"].items():
        lane = RUBRIC.lane(lane_id)
        assert f"{lane.label}: <strong>{escape(lane.value_label(value))}</strong>" in top
    rungs = re.findall(r'<li class="rung rung-(\w+)"', top)
    assert len(rungs) == 5 and rungs.count("chosen") == 1
    assert rungs.index("chosen") == [a.id for a in RUBRIC.approaches].index(expect["verdict"])
    assert top.count("<s>") == rungs.count("ruled_out")
    assert RUBRIC.confidence_label(expect["confidence"]) in top
    assert RUBRIC.readiness_label(expect["readiness"]) in top
    assert "Confidence: why not higher" in top
    for spot in report.soft_spots:
        assert escape(spot.fix) in top
    for blocker in report.blockers:
        assert escape(blocker.fix) in top
    assert [b.code for b in report.blockers] == expect["blockers"]

    for section_id in SECTIONS:
        section(content, section_id)

    # Why: one point per deciding rule, naming the answers it read; then the effects.
    why = section(content, "why")
    assert why.count('class="rationale-lane_rule"') == 2
    for point in report.deciding:
        assert f"Rule {point.code}" in why
        for ref in point.answers:
            assert f'href="#answer-{ref.question_id}"' in why
    for point in report.effects:
        assert f'id="{point.kind}-{point.code}"' in why
    # Nothing in Why argues for another verdict: another approach is named only in the
    # summary's "Not needed here" clause, which says why.
    summary = re.search(r'<p class="why-summary">(.*?)</p>', why, re.S).group(1)
    rest = why.replace(summary, "").replace(escape(report.verdict_label), "")
    rest = re.sub(r'<span class="answer-refs">.*?</span></span>', "", rest, flags=re.S)
    rest = re.sub(r"<a [^>]*>.*?</a>", "", rest, flags=re.S)  # the answers cited
    others = [a.label for a in RUBRIC.approaches if a.id != expect["verdict"]]
    assert not [label for label in others if escape(label) in rest]
    named = [
        label
        for label in others
        if escape(label) in summary.replace(escape(report.verdict_label), "")
    ]
    if named:
        assert "Not needed here" in summary

    # What would change it: actions first, then situations, every verdict a what-if.
    flips = section(content, "flips")
    assert flips.index("Things you can do") < flips.index("If the situation were different")
    assert "not this report&#x27;s verdict" in flips or "not this report's verdict" in flips
    assert flips.count("→ <span class=") == len(report.actions) + len(report.situations)
    # Each reads as the rubric's sentence, linked to the answer it changes, in that order.
    shown = re.findall(r'<li><a href="#answer-(\w+)">(.*?)</a> <span class="nowrap">→', flips)
    assert shown == [
        (flip.question_id, escape(flip.text)) for flip in (*report.actions, *report.situations)
    ]
    assert all(flip.kind == "action" for flip in report.actions)
    assert all(flip.kind == "situation" for flip in report.situations)

    # The matrix: eight signals, each with the lane it informs; a raised signal leaning to
    # another verdict says so.
    matrix = section(content, "matrix")
    assert matrix.count("<tr class=") == 8
    assert matrix.count(" lane <span") == 8
    for signal in report.signals:
        if signal.leans_elsewhere:
            assert (
                "the seed&#x27;s lean, not this verdict" in matrix
                or "the seed's lean, not this verdict" in matrix
            )

    # No 0-100 scores; the ladder chart in both layouts, with its text equivalent.
    assert "of 100" not in content and "/ 100" not in content
    ladder = section(content, "ladder")
    assert 'id="ladder-chart"' in ladder and 'id="ladder-chart-narrow"' in ladder
    assert ladder.count('<tr class="rung-') == 5

    # All answers: each asked answer says what it did; answers to questions not asked say so.
    answers = section(content, "answers")
    rows = re.findall(
        r'<div id="answer-(\w+)".*?<span class="answer-effect">(.*?)</span>', answers, re.S
    )
    shown = dict(rows)
    assessment_answers = examples[key].current_assessment.answer_values
    assert set(shown) == set(assessment_answers)
    for question_id, effect in shown.items():
        if question_id in report.result.not_asked:
            assert effect == "Not asked"
        else:
            assert effect, question_id
    assert any("Decided the" in effect for effect in shown.values())


def test_an_answer_with_no_effect_says_so_and_one_only_checked_says_what_checked_it(examples):
    report = report_of(examples["v2-offline-car-manual"])
    rows = {row.question_id: row for s in report.answers for row in s.answers}
    assert rows["monthly_queries"].effect_text == "recorded, no effect on this outcome"
    assert rows["kb_state"].effect_text == "checked for readiness and warnings: nothing raised"
    assert rows["retrieval_possible"].effect_text.startswith("decided the Knowledge lane (K1)")


def test_a_raised_signal_leaning_to_another_verdict_says_so(client, examples):
    content = client.get(reverse("example_report", args=["v2-offline-car-manual"])).content.decode()
    matrix = text(section(content, "matrix"))
    assert "Latency-sensitive, no retrieval possible ● Raised Knowledge lane" in matrix
    assert (
        "the seed's lean, not this verdict: here the Knowledge lane is in the prompt by rule K1"
        in matrix.replace("&#x27;", "'")
    )


def test_gallery_shows_v2_examples_first_with_their_verdicts(client, examples):
    content = client.get(reverse("home")).content.decode()
    cards = re.findall(r'<li class="card">(.*?)</li>', content, re.S)
    versions = [re.search(r'rubric-version">(v\d)<', card).group(1) for card in cards]
    assert versions == ["v2"] * 12 + ["v1"] * 10
    for card, scenario in zip(cards, SCENARIOS, strict=False):
        expected = scenario["expect"]
        label = RUBRIC.verdict_label(expected["verdict"], expected.get("lanes"))
        assert escape(label) in card


def test_load_examples_with_v2_is_idempotent(examples):
    projects = Project.objects.filter(is_example=True)
    state = sorted(
        projects.values_list("example_key", "assessments__pk", "assessments__rubric_version")
    )
    assert load_examples() == (0, 0)
    assert (
        sorted(
            projects.values_list("example_key", "assessments__pk", "assessments__rubric_version")
        )
        == state
    )
    assert {v for _, _, v in state} == {"v1", "v2"}
    assert sum(1 for k, _, v in state if v == "v2" and k.startswith("v2-")) == 12
    assert all(p.owner is None for p in projects)


def test_a_changed_v2_scenario_is_refreshed(tmp_path, examples):
    data = json.loads(SCENARIOS_V2_FILE.read_text(encoding="utf-8"))
    data["scenarios"][0]["answers"]["budget"] = "limited"
    changed = tmp_path / "scenarios-v2.json"
    changed.write_text(json.dumps(data), encoding="utf-8")
    assert load_examples(changed) == (0, 1)
    project = Project.objects.with_assessments().get(example_key=data["scenarios"][0]["id"])
    assert project.current_assessment.answer_values["budget"] == "limited"
    assert project.current_assessment.rubric_version == "v2"
    assert load_examples(changed) == (0, 0)


@pytest.mark.parametrize("layout", [LADDER_WIDE, LADDER_NARROW])
@pytest.mark.parametrize("key", KEYS)
def test_the_ladder_chart_fits_its_width(examples, key, layout):
    report = report_of(examples[key])
    chart = report.chart if layout is LADDER_WIDE else report.chart_narrow
    assert chart.width <= (590 if layout is LADDER_WIDE else 340)
    for rung in chart.rungs:
        for line in rung.lines:
            assert len(line.text) * FONT_SIZE * GLYPH_WIDTH <= chart.width
        assert rung.status_x + len(rung.status_text) * FONT_SIZE * GLYPH_WIDTH <= chart.width


def test_the_v2_memo_has_the_adr_shape_and_the_same_content(examples):
    project = examples["v2-support-bot-hybrid"]
    assessment = loaded(project.current_assessment)
    from assessments.pdf import memo_pdf

    data = memo_pdf(assessment, evaluate_assessment(assessment))
    reader = PdfReader(io.BytesIO(data))
    content = "\n".join(page.extract_text() for page in reader.pages)
    flat = re.sub(r"\s+", " ", content)
    for heading in ["1. Decision", "2. Context", "3. Decision drivers", "4. Options considered",
                    "5. Cost and latency", "6. Rationale", "7. Risks and warnings",
                    "8. What would change the decision", "9. Next steps",
                    "Appendix: every answer", "Appendix: the cost sums"]:  # fmt: skip
        assert heading in flat
    assert "Use Hybrid (fine-tuning + RAG)." in flat
    assert "Knowledge: retrieval · Behaviour: fine-tuning" in flat
    for approach in RUBRIC.approaches:
        assert approach.label in flat
    assert "of 100" not in flat and "/100" not in flat
    assert "Things the team can do" in flat and "If the situation were different" in flat
    # The flips as sentences (this case: prompting close to the bar, hosted fine-tuning).
    assert "Improve prompting until it meets your bar → RAG" in flat
    assert "If you could not fine-tune the model you would use → RAG" in flat
    assert "Confidence: why not higher" in flat
    assert "Recorded, no effect on this outcome" in flat or "Decided the" in flat
    # The ladder chart is vectors, not an image.
    assert b"/Subtype /Image" not in data
