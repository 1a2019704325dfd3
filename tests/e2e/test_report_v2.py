"""A rubric v2 worked example's report in the browser: on a desktop and on a 390 px phone,
the ladder chart fits, nothing scrolls sideways, and screenshots land in the artifacts."""

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import save_screenshot

# (example, its verdict's label, its knowledge lane): the longest verdict label is here too.
EXAMPLES = [
    ("v2-support-bot-hybrid", "Hybrid (fine-tuning + RAG)", "Knowledge: retrieval"),
    (
        "v2-offline-car-manual",
        "Hybrid (fine-tuning + knowledge in the prompt)",
        "Knowledge: in the prompt",
    ),
]


@pytest.fixture
def v2_examples(transactional_db):
    from assessments.examples import load_examples

    load_examples()


@pytest.mark.parametrize(("key", "verdict", "knowledge"), EXAMPLES, ids=[e[0] for e in EXAMPLES])
@pytest.mark.parametrize(
    ("name", "viewport", "chart_class"),
    [
        ("desktop", {"width": 1280, "height": 800}, "ladder-chart"),
        ("phone", {"width": 390, "height": 844}, "ladder-chart-narrow"),
    ],
)
def test_a_v2_example_report(
    live_server,
    browser,
    v2_examples,
    artifacts_dir,
    name,
    viewport,
    chart_class,
    key,
    verdict,
    knowledge,
):
    context = browser.new_context(viewport=viewport)
    try:
        page = context.new_page()
        page.goto(live_server.url + f"/examples/{key}/")
        expect(page.locator("h2.verdict-name")).to_have_text(verdict)
        expect(page.locator(".lanes-line")).to_contain_text(knowledge)
        expect(page.locator(".lanes-line")).to_contain_text("Behaviour: fine-tuning")
        expect(page.locator(".ladder .rung")).to_have_count(5)
        for section in ("why", "flips", "matrix", "ladder", "next-steps", "answers"):
            expect(page.locator(f"section#{section}")).to_be_visible()
        other = "ladder-chart-narrow" if chart_class == "ladder-chart" else "ladder-chart"
        expect(page.locator(f"svg.{other}")).to_be_hidden()
        chart = page.locator(f"svg.{chart_class}")
        expect(chart).to_be_visible()
        box = chart.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"], box
        for text in chart.locator("text").all():
            text_box = text.bounding_box()
            assert text_box["x"] >= box["x"] - 0.5, text_box
            assert text_box["x"] + text_box["width"] <= box["x"] + box["width"] + 0.5, text_box
            assert text_box["height"] >= 12, text_box
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
        shot = f"{key}-{name}"
        save_screenshot(page, str(artifacts_dir / f"report-{shot}.png"), full_page=True)
        save_screenshot(chart, str(artifacts_dir / f"report-ladder-{shot}.png"))
        banner = page.locator(".verdict-banner")
        save_screenshot(banner, str(artifacts_dir / f"report-banner-{shot}.png"))
        answers = page.locator("section#answers")
        save_screenshot(answers, str(artifacts_dir / f"report-answers-{shot}.png"))
    finally:
        context.close()
