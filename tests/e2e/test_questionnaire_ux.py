"""Issue 11 in a real browser: what the screen shows is what is saved (pending saves finish
before leaving, a refused save shows the stored answer again), the live verdict as a sticky bar
on a phone, the focus ring around the whole answer card, the announced verdict and its skip link.

Screenshots are written to $UX_SHOTS_DIR (default /tmp/ux-shots)."""

import os
import re
import time
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from assessments.rubric import load_rubric
from assessments.views import questionnaire as questionnaire_views
from tests.e2e.conftest import DESKTOP, log_in, save_screenshot
from tests.factories import set_answers, stored_answers

pytestmark = [
    pytest.mark.e2e,
    # WhiteNoise warns that STATIC_ROOT is missing; the live server serves static files itself.
    pytest.mark.filterwarnings("ignore:No directory at:UserWarning"),
]

PHONE = {"width": 390, "height": 844}
RUBRIC = load_rubric("v1")
REQUIRED = len(RUBRIC.required_ids)
SHOTS = Path(os.environ.get("UX_SHOTS_DIR") or "/tmp/ux-shots")
SAVE_DELAY = 0.4  # seconds each autosave is held on the server: makes the race certain


# --- helpers ----------------------------------------------------------------------------------


def is_autosave_of(question_id: str):
    def predicate(response) -> bool:
        return response.request.method == "POST" and f"/questions/{question_id}/" in response.url

    return predicate


def autosave(page: Page, question_id: str, action, *, status: int = 200) -> None:
    with page.expect_response(is_autosave_of(question_id)) as response_info:
        action()
    assert response_info.value.status == status


def choice(page: Page, question_id: str, choice_id: str):
    return page.locator(f'input[name="{question_id}"][value="{choice_id}"]')


def shot(page: Page, name: str, *, full_page: bool = False) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    save_screenshot(page, str(SHOTS / f"{name}.png"), full_page=full_page)


def relative_luminance(rgb: tuple[float, float, float]) -> float:
    def channel(value: float) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(v) for v in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(one: tuple[float, float, float], other: tuple[float, float, float]) -> float:
    light, dark = sorted((relative_luminance(one), relative_luminance(other)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def parse_rgb(css: str) -> tuple[float, float, float]:
    match = re.match(r"rgba?\(([\d.]+),\s*([\d.]+),\s*([\d.]+)(?:,\s*([\d.]+))?\)", css)
    assert match, f"not an rgb colour: {css}"
    assert match.group(4) in (None, "1"), f"a translucent colour cannot be judged: {css}"
    return float(match.group(1)), float(match.group(2)), float(match.group(3))


# The first opaque background at or behind an element (what its outline is drawn over).
OPAQUE_BACKGROUND = """element => {
  for (let node = element; node; node = node.parentElement) {
    const colour = getComputedStyle(node).backgroundColor;
    if (colour && colour !== "transparent" && !colour.startsWith("rgba(0, 0, 0, 0)")) {
      return colour;
    }
  }
  return "rgb(255, 255, 255)";
}"""


@pytest.fixture
def slow_autosave(monkeypatch):
    """Every autosave is held SAVE_DELAY seconds before it is written (the live server runs in
    this process), as on a slow network or a busy server."""
    original = questionnaire_views.save_answers

    def held(*args, **kwargs):
        time.sleep(SAVE_DELAY)
        return original(*args, **kwargs)

    monkeypatch.setattr(questionnaire_views, "save_answers", held)


# --- 1. pending saves finish before leaving ---------------------------------------------------


def test_a_number_still_being_typed_is_saved_before_the_report_opens(
    live_server, page: Page, js_errors, owner_with_password, complete_assessment, slow_autosave
):
    path = f"/assessments/{complete_assessment.pk}/"
    log_in(page, live_server, path, owner_with_password.username)
    field = page.locator("#input-monthly_queries")
    status = page.locator("#status-monthly_queries")

    for run, value in enumerate([12345, 23456, 34567, 45678, 56789, 67890]):
        field.fill(str(value))  # typed: an input event, no change event yet
        expect(status).to_contain_text("Unsaved")
        report_link = page.get_by_role("link", name="Open the full report")
        if run % 2:
            # A script-free click: the field is never left, so no change event fires at all.
            report_link.dispatch_event("click")
        else:
            report_link.click()  # a real click: the field loses focus just before the click
        expect(page).to_have_url(re.compile(r"/assessments/\d+/report/$"))
        expect(page.locator("#answer-monthly_queries")).to_contain_text(f"{value:,}")
        assert stored_answers(complete_assessment)["monthly_queries"] == value
        page.go_back()
        expect(page).to_have_url(live_server.url + path)
        page.reload()
        expect(field).to_have_value(str(value))

    assert js_errors == []


def test_any_link_or_button_leaving_the_page_waits_for_a_choice_being_saved(
    live_server, page: Page, js_errors, owner_with_password, assessment, slow_autosave
):
    path = f"/assessments/{assessment.pk}/"
    log_in(page, live_server, path, owner_with_password.username)
    choice(page, "latency", "batch").check()  # the save is held on the server
    page.get_by_role("link", name=assessment.project.name).click()  # the breadcrumb
    expect(page).to_have_url(re.compile(r"/projects/\d+/$"))
    assert stored_answers(assessment) == {"latency": "batch"}

    page.goto(live_server.url + path)
    page.locator("#input-monthly_queries").fill("777")
    page.get_by_role("link", name="Projects", exact=True).first.click()
    expect(page).to_have_url(re.compile(r"/projects/$"))
    assert stored_answers(assessment)["monthly_queries"] == 777
    assert js_errors == []


def test_a_refused_number_keeps_the_page_and_says_why(
    live_server, page: Page, js_errors, owner_with_password, complete_assessment
):
    path = f"/assessments/{complete_assessment.pk}/"
    log_in(page, live_server, path, owner_with_password.username)
    page.locator("#input-monthly_queries").fill("-3")
    with page.expect_response(is_autosave_of("monthly_queries")) as response_info:
        page.get_by_role("link", name="Open the full report").dispatch_event("click")
    assert response_info.value.status == 422
    expect(page.locator("#status-monthly_queries")).to_contain_text("Not saved")
    expect(page).to_have_url(live_server.url + path)  # stayed: nothing left unsaved behind
    # The field shows what is stored (nothing), as every refused autosave does.
    expect(page.locator("#input-monthly_queries")).to_have_value("")
    assert "monthly_queries" not in stored_answers(complete_assessment)
    # Put right, the page works as before: links leave once nothing is pending (a refused
    # save used to leave a request counted as in flight for good, and every link waited).
    page.locator("#input-monthly_queries").fill("5000")
    page.locator("#input-monthly_queries").press("Enter")
    expect(page.locator("#status-monthly_queries")).to_contain_text("Saved")
    page.get_by_role("link", name="Open the full report").click()
    expect(page).to_have_url(live_server.url + f"/assessments/{complete_assessment.pk}/report/")
    assert js_errors == []


# --- 2. a refused save shows what is stored ---------------------------------------------------


def test_unticking_the_only_box_of_a_required_question_ticks_it_again(
    live_server, page: Page, js_errors, owner_with_password, assessment
):
    set_answers(assessment, {"knowledge_needs": ["documents"]})
    log_in(page, live_server, f"/assessments/{assessment.pk}/", owner_with_password.username)
    box = choice(page, "knowledge_needs", "documents")
    expect(box).to_be_checked()

    autosave(page, "knowledge_needs", box.uncheck, status=422)

    status = page.locator("#status-knowledge_needs")
    expect(status).to_contain_text("Not saved")
    expect(status).to_contain_text("cannot be cleared")
    expect(box).to_be_checked()  # what the server kept
    expect(page.locator("#q-knowledge_needs")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#input-knowledge_needs-documents")).to_be_focused()  # focus stays
    assert stored_answers(assessment) == {"knowledge_needs": ["documents"]}

    # The redrawn question still autosaves.
    autosave(page, "knowledge_needs", choice(page, "knowledge_needs", "catalog").check)
    expect(status).to_contain_text("Saved")
    expect(page.locator("#q-knowledge_needs")).not_to_have_attribute("aria-invalid", "true")
    assert stored_answers(assessment) == {"knowledge_needs": ["documents", "catalog"]}
    assert js_errors == []


def test_a_refused_both_needs_none_returns_the_box_to_its_stored_state(
    live_server, page: Page, js_errors, owner_with_password, assessment
):
    set_answers(assessment, {"knowledge_needs": ["none"], "behavior_needs": ["tone"]})
    log_in(page, live_server, f"/assessments/{assessment.pk}/", owner_with_password.username)

    # Ticking "none" clears "tone" in the browser; the server refuses "nothing to solve".
    autosave(page, "behavior_needs", choice(page, "behavior_needs", "none").check, status=422)

    expect(page.locator("#status-behavior_needs")).to_contain_text("nothing to solve")
    expect(choice(page, "behavior_needs", "none")).not_to_be_checked()
    expect(choice(page, "behavior_needs", "tone")).to_be_checked()
    assert stored_answers(assessment) == {"knowledge_needs": ["none"], "behavior_needs": ["tone"]}
    assert js_errors == []


# --- 8. the live verdict on a phone -----------------------------------------------------------


def _phone_checks(page: Page) -> None:
    bar = page.locator("summary.verdict-bar")
    first_question = page.locator("fieldset.question").first
    expect(bar).to_be_visible()
    expect(bar).to_contain_text("Live verdict")
    expect(bar).to_contain_text(f"4/{REQUIRED}")
    expect(bar.locator(".badge")).to_be_visible()
    # The first question starts above the fold; the whole panel is folded away.
    box = first_question.bounding_box()
    assert box["y"] + 80 < PHONE["height"], f"first question starts at {box['y']}px"
    expect(page.locator("#verdict-panel .panel-facts")).to_be_hidden()
    # A tap opens the panel under the bar, another closes it.
    bar.click()
    expect(page.locator("#verdict-details")).to_have_attribute("open", "")
    expect(page.locator("#verdict-panel .panel-facts")).to_be_visible()
    bar.click()
    expect(page.locator("#verdict-panel .panel-facts")).to_be_hidden()
    # The bar stays in view while answering further down.
    page.locator("#q-regulated").scroll_into_view_if_needed()
    bar_box = bar.bounding_box()
    assert 0 <= bar_box["y"] < 20 and bar_box["height"] < 120, bar_box


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_on_a_phone_the_verdict_is_a_sticky_bar_and_the_first_question_above_the_fold(
    live_server, browser, owner_with_password, assessment, javascript
):
    set_answers(
        assessment,
        {"knowledge_needs": ["documents"], "behavior_needs": ["tone"],
         "knowledge_change": "daily", "budget": "limited"},
    )  # fmt: skip
    context = browser.new_context(viewport=PHONE, java_script_enabled=javascript)
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        log_in(page, live_server, f"/assessments/{assessment.pk}/", owner_with_password.username)
        shot(page, f"questionnaire-phone-{'js' if javascript else 'nojs'}")
        _phone_checks(page)
        shot(page, f"questionnaire-phone-scrolled-{'js' if javascript else 'nojs'}")
        if javascript:
            # The bar follows every autosave and keeps its open/closed state.
            page.locator("summary.verdict-bar").click()
            autosave(page, "regulated", choice(page, "regulated", "yes").check)
            expect(page.locator("summary.verdict-bar")).to_contain_text(f"5/{REQUIRED}")
            expect(page.locator("#verdict-details")).to_have_attribute("open", "")
            shot(page, "questionnaire-phone-open")
    finally:
        context.close()


def test_on_a_desktop_the_panel_shows_beside_the_form_without_the_bar(
    live_server, page: Page, js_errors, owner_with_password, complete_assessment
):
    log_in(
        page, live_server, f"/assessments/{complete_assessment.pk}/", owner_with_password.username
    )
    panel = page.locator("#verdict-panel")
    expect(page.locator("summary.verdict-bar")).to_be_hidden()
    expect(panel.locator(".panel-facts")).to_be_visible()
    expect(panel.get_by_role("link", name="Open the full report")).to_be_visible()
    form_box = page.locator("form.questionnaire").bounding_box()
    panel_box = panel.bounding_box()
    assert panel_box["x"] > form_box["x"] + form_box["width"] - 1, "the panel is beside the form"
    # Still in view (sticky) far down the form.
    page.locator("#q-regulated").scroll_into_view_if_needed()
    assert 0 <= panel.bounding_box()["y"] < DESKTOP["height"]
    page.evaluate("window.scrollTo(0, 0)")
    shot(page, "questionnaire-desktop")
    assert js_errors == []


# --- 10. the focus ring -----------------------------------------------------------------------


def test_keyboard_focus_rings_the_whole_answer_card_with_enough_contrast(
    live_server, page: Page, js_errors, owner_with_password, assessment
):
    set_answers(assessment, {"knowledge_needs": ["documents"]})
    log_in(page, live_server, f"/assessments/{assessment.pk}/", owner_with_password.username)
    page.locator("body").focus()
    for _ in range(60):  # keyboard only: Tab until a radio button has the focus
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.type") == "radio":
            break
    else:
        pytest.fail("no radio button reached with Tab")
    radio = page.locator("input[type=radio]:focus")
    card = page.locator("label.choice:has(input[type=radio]:focus)")
    expect(card).to_have_count(1)

    style = card.evaluate(
        "el => { const s = getComputedStyle(el); return {style: s.outlineStyle, "
        "width: parseFloat(s.outlineWidth), colour: s.outlineColor, shadow: s.boxShadow}; }"
    )
    assert style["style"] == "solid" and style["width"] >= 2, style
    ring = parse_rgb(style["colour"])
    outside = parse_rgb(card.evaluate(f"el => ({OPAQUE_BACKGROUND})(el.parentElement)"))
    inside = parse_rgb(card.evaluate(OPAQUE_BACKGROUND))
    assert contrast(ring, outside) >= 3, (style["colour"], outside, contrast(ring, outside))
    assert contrast(ring, inside) >= 3, (style["colour"], inside, contrast(ring, inside))
    # The ring is the card's: the small radio inside draws none of its own.
    assert radio.evaluate("el => getComputedStyle(el).outlineStyle") == "none"

    # A chosen card (blue background) keeps the contrast too.
    page.keyboard.press("Space")
    chosen = page.locator("label.choice:has(input:focus)")
    expect(chosen.locator("input")).to_be_checked()
    chosen_inside = parse_rgb(chosen.evaluate(OPAQUE_BACKGROUND))
    assert contrast(ring, chosen_inside) >= 3
    page.set_viewport_size(DESKTOP)
    card.scroll_into_view_if_needed()
    shot(page, "focus-ring-desktop")

    # A mouse click shows no ring (only keyboard focus does).
    choice(page, "latency", "batch").click()
    assert (
        page.locator("label.choice:has(input[value=batch])").evaluate(
            "el => getComputedStyle(el).outlineStyle"
        )
        == "none"
    )
    assert js_errors == []


# --- 11. the announced verdict and its skip link ----------------------------------------------


def test_the_live_verdict_is_announced_in_one_sentence_per_change(
    live_server, page: Page, js_errors, owner_with_password, assessment
):
    set_answers(assessment, {"knowledge_needs": ["documents"], "knowledge_change": "daily"})
    log_in(page, live_server, f"/assessments/{assessment.pk}/", owner_with_password.username)
    region = page.locator("#verdict-announcement")
    expect(region).to_have_attribute("aria-live", "polite")
    expect(region).to_have_attribute("aria-atomic", "true")
    expect(region).to_have_text(f"No verdict yet. 2 of {REQUIRED} required questions answered.")
    # In the accessibility tree (not hidden from screen readers, only from the eye).
    expect(page.get_by_role("status").filter(has_text="No verdict yet.")).to_have_count(1)
    region.evaluate("el => { el.dataset.marker = 'same node'; }")

    autosave(page, "behavior_needs", choice(page, "behavior_needs", "tone").check)

    expect(region).to_have_text(
        f"Verdict: Hybrid, provisional. 3 of {REQUIRED} required questions answered."
    )
    # The same live region changed its text (a replaced region is not reliably announced).
    assert region.evaluate("el => el.dataset.marker") == "same node"
    assert "Verdict: Hybrid, provisional." in page.locator("body").aria_snapshot()
    assert js_errors == []


def test_a_skip_link_leads_from_the_top_of_the_page_to_the_live_verdict(
    live_server, page: Page, js_errors, owner_with_password, assessment
):
    log_in(page, live_server, f"/assessments/{assessment.pk}/", owner_with_password.username)
    page.set_viewport_size(PHONE)
    page.locator("#q-regulated").scroll_into_view_if_needed()
    page.evaluate("window.scrollTo(0, 0)")
    page.locator("body").focus()
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    skip = page.locator("a.skip-link:focus")
    expect(skip).to_have_text("Skip to the live verdict")
    expect(skip).to_be_visible()
    shot(page, "skip-link-phone")
    page.keyboard.press("Enter")
    expect(page.locator("#live-verdict")).to_be_focused()
    expect(page.locator("#live-verdict")).to_be_in_viewport()
    # The next Tab lands on the bar that opens the panel.
    page.keyboard.press("Tab")
    expect(page.locator("summary.verdict-bar")).to_be_focused()
    assert js_errors == []
