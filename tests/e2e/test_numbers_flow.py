"""Run the numbers in a real browser: the report's cost table and chart, the owner's
assumptions page with htmx (a change recalculates in place and is kept; reset puts the
defaults back; a bad value saves nothing) and without JavaScript (Save and recalculate
posts and comes back), the chart on a phone, and the memo's cost section as images."""

from __future__ import annotations

import io
import re
import subprocess

import pytest
from playwright.sync_api import Page, expect
from pypdf import PdfReader

from tests.conftest import scenario_answers
from tests.e2e.conftest import DESKTOP, log_in, save_screenshot
from tests.factories import AssessmentFactory, ProjectFactory, loaded

PHONE = {"width": 390, "height": 844}
HYBRID = "Hybrid (fine-tuning + RAG)"
APPROACHES = 5  # one row and one line in the chart for each
DEFAULT_OUTPUT = "300"  # assessments/estimator/v2.toml: assumptions.output_tokens.default
NEW_OUTPUT = "3000"


@pytest.fixture
def v2_assessment(owner_with_password):
    """The owner's complete rubric v2 assessment: the support bot (hybrid)."""
    project = ProjectFactory(owner=owner_with_password, name="Support assistant")
    return AssessmentFactory(project=project, answers=scenario_answers("v2-support-bot-hybrid"))


def report_path(assessment) -> str:
    return f"/assessments/{assessment.pk}/report/"


def numbers_path(assessment) -> str:
    return f"/assessments/{assessment.pk}/numbers/"


def monthly_cost(page: Page, label: str = HYBRID):
    """The "Per month" cell of one approach's row in the numbers table."""
    row = page.locator("section#numbers table.numbers-table tbody tr").filter(
        has=page.locator("th", has_text=label)
    )
    return row.locator("td[data-label='Per month']")


def chart_points(page: Page) -> list[str]:
    return page.locator("section#numbers svg.cost-chart polyline").evaluate_all(
        "lines => lines.map(line => line.getAttribute('points'))"
    )


def is_numbers_post(response) -> bool:
    return response.request.method == "POST" and "/numbers/" in response.url


def change_with_htmx(page: Page, selector: str, value: str, *, status: int = 200) -> None:
    """Type a value and leave the field: its change event posts the form and htmx swaps the
    numbers and the form in place."""
    with page.expect_response(is_numbers_post) as posted:
        page.fill(selector, value)
        page.press(selector, "Tab")
    assert posted.value.status == status


def test_change_an_assumption_in_place_keep_it_and_reset_it(
    live_server, page: Page, js_errors, artifacts_dir, owner_with_password, v2_assessment
):
    log_in(page, live_server, report_path(v2_assessment), owner_with_password.username)

    # The report: a row per approach, a line per approach in the chart.
    section = page.locator("section#numbers")
    expect(section).to_be_visible()
    expect(section.locator("table.numbers-table tbody tr")).to_have_count(APPROACHES)
    expect(section.locator("svg.cost-chart")).to_be_visible()
    expect(section.locator("svg.cost-chart polyline")).to_have_count(APPROACHES)
    expect(monthly_cost(page)).to_contain_text("$")
    for name in ("Show the sums", "Assumptions used"):
        expect(section.locator("summary", has_text=name)).to_be_visible()
    save_screenshot(section, str(artifacts_dir / "numbers-report-section.png"))

    section.get_by_role("link", name="Change the assumptions").click()
    expect(page).to_have_url(live_server.url + numbers_path(v2_assessment))
    form = page.locator("form.assumptions-form")
    expect(form).to_be_visible()
    expect(page.locator("#a-output_tokens")).to_have_value(DEFAULT_OUTPUT)
    expect(form.get_by_role("button", name="Reset all to the defaults")).to_have_count(0)
    before_cost = monthly_cost(page).inner_text()
    before_points = chart_points(page)

    # Ten times the output: the table and the chart change where they are, no new page.
    change_with_htmx(page, "#a-output_tokens", NEW_OUTPUT)
    expect(page).to_have_url(live_server.url + numbers_path(v2_assessment))
    expect(monthly_cost(page)).not_to_have_text(before_cost)
    expect(page.locator("#numbers-work .saved")).to_contain_text("Assumptions saved")
    expect(page.locator("table.numbers-table caption")).to_contain_text(
        "1 assumption changed from the defaults"
    )
    expect(page.locator("#a-output_tokens")).to_have_value(NEW_OUTPUT)
    after_cost = monthly_cost(page).inner_text()
    after_points = chart_points(page)
    assert len(after_points) == APPROACHES
    assert after_points != before_points
    assert loaded(v2_assessment).assumptions == {"output_tokens": int(NEW_OUTPUT)}
    save_screenshot(page, str(artifacts_dir / "numbers-page-changed.png"), full_page=True)

    # Kept in the database: a reload shows the value and the same numbers.
    page.reload()
    expect(page.locator("#a-output_tokens")).to_have_value(NEW_OUTPUT)
    expect(monthly_cost(page)).to_have_text(after_cost)
    assert chart_points(page) == after_points

    # Reset all: the defaults and the first numbers again.
    with page.expect_response(is_numbers_post) as posted:
        page.get_by_role("button", name="Reset all to the defaults").click()
    assert posted.value.status == 200
    expect(monthly_cost(page)).to_have_text(before_cost)
    expect(page.locator("#a-output_tokens")).to_have_value(DEFAULT_OUTPUT)
    expect(page.locator("#numbers-work .saved")).to_contain_text("Back to the defaults")
    expect(page.get_by_role("button", name="Reset all to the defaults")).to_have_count(0)
    assert chart_points(page) == before_points
    assert loaded(v2_assessment).assumptions == {}

    assert js_errors == []


@pytest.mark.parametrize("javascript", [True, False], ids=["javascript", "no-javascript"])
def test_a_bad_value_saves_nothing_and_says_why_next_to_the_field(
    live_server, browser, artifacts_dir, owner_with_password, v2_assessment, javascript
):
    context = browser.new_context(java_script_enabled=javascript, viewport=DESKTOP)
    context.set_default_timeout(10_000)
    errors: list[str] = []
    try:
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        log_in(page, live_server, numbers_path(v2_assessment), owner_with_password.username)
        before_cost = monthly_cost(page).inner_text()

        if javascript:
            change_with_htmx(page, "#a-output_tokens", "lots", status=422)
        else:
            page.fill("#a-output_tokens", "lots")
            with page.expect_response(is_numbers_post) as posted:
                page.get_by_role("button", name="Save and recalculate").click()
            assert posted.value.status == 422
        expect(page.locator("#numbers-work .form-errors")).to_contain_text("Nothing was saved")
        field = page.locator(".field.assumption").filter(has=page.locator("#a-output_tokens"))
        expect(field).to_have_class(re.compile(r"\bfield-invalid\b"))
        expect(field.locator("#a-output_tokens-error")).to_have_text("Output: enter a number")
        expect(page.locator("#a-output_tokens")).to_have_value("lots")  # what was typed
        expect(page.locator("#a-output_tokens")).to_have_attribute("aria-invalid", "true")
        expect(page.locator("#a-output_tokens")).to_have_attribute(
            "aria-describedby", "a-output_tokens-help a-output_tokens-error"
        )
        expect(monthly_cost(page)).to_have_text(before_cost)
        suffix = "" if javascript else "-no-js"
        save_screenshot(
            page.locator("form.assumptions-form"),
            str(artifacts_dir / f"numbers-bad-value{suffix}.png"),
        )
        assert loaded(v2_assessment).assumptions == {}

        # Nothing was kept: the stored (default) value comes back.
        page.goto(live_server.url + numbers_path(v2_assessment))
        expect(page.locator("#a-output_tokens")).to_have_value(DEFAULT_OUTPUT)
        expect(page.locator("#a-output_tokens-error")).to_have_count(0)
        expect(page.locator(".form-errors")).to_have_count(0)
        expect(monthly_cost(page)).to_have_text(before_cost)
        assert errors == []
    finally:
        context.close()


def test_without_javascript_save_and_recalculate_then_reset_one(
    live_server, browser, artifacts_dir, owner_with_password, v2_assessment
):
    context = browser.new_context(java_script_enabled=False, viewport=DESKTOP)
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        log_in(page, live_server, numbers_path(v2_assessment), owner_with_password.username)
        before_cost = monthly_cost(page).inner_text()

        page.fill("#a-output_tokens", NEW_OUTPUT)
        page.get_by_role("button", name="Save and recalculate").click()
        expect(page).to_have_url(live_server.url + numbers_path(v2_assessment))
        expect(page.locator(".messages")).to_contain_text("Assumptions saved")
        expect(page.locator("#a-output_tokens")).to_have_value(NEW_OUTPUT)
        expect(monthly_cost(page)).not_to_have_text(before_cost)
        assert loaded(v2_assessment).assumptions == {"output_tokens": int(NEW_OUTPUT)}
        save_screenshot(page, str(artifacts_dir / "numbers-page-saved-no-js.png"), full_page=True)

        # The field's own reset button puts its default back.
        page.get_by_role("button", name=f"Reset to {DEFAULT_OUTPUT} tokens (Output)").click()
        expect(page).to_have_url(live_server.url + numbers_path(v2_assessment))
        expect(page.locator(".messages")).to_contain_text("Back to the defaults")
        expect(page.locator("#a-output_tokens")).to_have_value(DEFAULT_OUTPUT)
        expect(monthly_cost(page)).to_have_text(before_cost)
        assert loaded(v2_assessment).assumptions == {}
    finally:
        context.close()


def test_the_chart_and_the_memo_as_images(
    live_server, page: Page, js_errors, artifacts_dir, tmp_path, owner_with_password, v2_assessment
):
    log_in(page, live_server, numbers_path(v2_assessment), owner_with_password.username)
    chart = page.locator("section#numbers svg.cost-chart")
    expect(chart).to_be_visible()
    save_screenshot(chart, str(artifacts_dir / "numbers-chart-desktop.png"))
    save_screenshot(page, str(artifacts_dir / "numbers-page-desktop.png"), full_page=True)

    # The memo, fetched with the page's session, and its pages rendered as images.
    response = page.request.get(f"{live_server.url}/assessments/{v2_assessment.pk}/memo.pdf")
    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"
    pdf = response.body()
    reader = PdfReader(io.BytesIO(pdf))
    texts = [re.sub(r"\s+", " ", p.extract_text()) for p in reader.pages]
    assert "5. Cost and latency" in " ".join(texts)
    cost_page = next(i for i, text in enumerate(texts, 1) if "5. Cost and latency" in text)
    path = tmp_path / "memo.pdf"
    path.write_bytes(pdf)
    prefix = artifacts_dir / "numbers-memo"
    for old in artifacts_dir.glob("numbers-memo-*.png"):
        old.unlink()
    subprocess.run(["pdftoppm", "-png", "-r", "60", str(path), str(prefix)], check=True, timeout=60)
    images = sorted(artifacts_dir.glob("numbers-memo-*.png"))
    assert len(images) == len(reader.pages), images
    # pdftoppm numbers the images from 1, zero-padded to the width of the page count.
    numbers = [int(image.stem.rsplit("-", 1)[1]) for image in images]
    assert numbers == list(range(1, len(reader.pages) + 1)), images
    assert cost_page in numbers
    assert all(image.stat().st_size > 1000 for image in images)
    assert js_errors == []


PHONE_PAGES = ["report", "numbers"]


@pytest.mark.parametrize("where", PHONE_PAGES)
def test_the_chart_fits_a_phone(
    live_server, browser, artifacts_dir, owner_with_password, v2_assessment, where
):
    context = browser.new_context(viewport=PHONE)
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        path = report_path(v2_assessment) if where == "report" else numbers_path(v2_assessment)
        log_in(page, live_server, path, owner_with_password.username)
        # A phone gets the narrow chart, drawn at its natural size (readable text).
        expect(page.locator("section#numbers svg.cost-chart")).to_be_hidden()
        chart = page.locator("section#numbers svg.cost-chart-narrow")
        chart.scroll_into_view_if_needed()
        expect(chart).to_be_visible()
        save_screenshot(chart, str(artifacts_dir / f"numbers-chart-phone-{where}.png"))
        save_screenshot(page, str(artifacts_dir / f"numbers-{where}-phone.png"), full_page=True)
        box = chart.bounding_box()
        assert box["width"] > 0 and box["height"] > 0, box
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box
        assert box["width"] >= 300, f"the chart's text shrinks below reading size: {box}"
        widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert widths[0] <= widths[1], f"the page scrolls sideways: {widths}"
    finally:
        context.close()


def test_a_recalculation_keeps_open_panels_open_and_a_reset_gives_focus_back(
    live_server, page: Page, js_errors, owner_with_password, v2_assessment
):
    log_in(page, live_server, numbers_path(v2_assessment), owner_with_password.username)
    sums = page.locator("section#numbers details.sums")
    sums.locator("summary").click()
    expect(sums).to_have_attribute("open", "")

    change_with_htmx(page, "#a-output_tokens", NEW_OUTPUT)
    expect(page.locator("#numbers-work .saved")).to_contain_text("Assumptions saved")
    expect(page.locator("section#numbers details.sums")).to_have_attribute("open", "")
    # Leaving the field with Tab recalculates; the page must not scroll it out of view.
    expect(page.locator("#a-output_tokens")).to_be_in_viewport()
    expect(page.locator("#numbers-status")).to_contain_text("Assumptions saved")

    reset = page.get_by_role("button", name=re.compile(r"^Reset to 300 tokens"))
    with page.expect_response(is_numbers_post):
        reset.focus()
        page.keyboard.press("Enter")
    expect(page.locator("#a-output_tokens")).to_have_value(DEFAULT_OUTPUT)
    expect(page.locator("#a-output_tokens")).to_be_focused()
    assert js_errors == []
