"""Rubric v2's long verdict labels ("Long context (the knowledge in the prompt)", "Hybrid
(fine-tuning + RAG)") fit where they are shown: the phone's sticky verdict bar keeps its count
on screen, the live panel's ladder badge wraps, and the home gallery's badges stay inside
their cards; nothing on the page scrolls sideways."""

import pytest
from playwright.sync_api import expect

from assessments.examples import load_examples
from tests.conftest import scenario_answers
from tests.e2e.conftest import log_in, save_screenshot
from tests.factories import AssessmentFactory, ProjectFactory

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
LONG_CONTEXT = "v2-handbook-small"  # a worked example whose verdict is long_context
SLACK = 0.5  # px: sub-pixel rounding of bounding boxes
KIND = {False: "complete", True: "provisional"}

# Every badge under `root` with its own box and its container's (`box` selector).
BADGES_IN_BOXES = """([box, badge]) => [...document.querySelectorAll(box)].flatMap(container => {
  const c = container.getBoundingClientRect();
  return [...container.querySelectorAll(badge)].map(b => {
    const r = b.getBoundingClientRect();
    return {text: b.textContent.trim(), box: [c.left, c.top, c.right, c.bottom],
            badge: [r.left, r.top, r.right, r.bottom],
            clipped: b.scrollWidth > b.clientWidth + 1};
  });
})"""


def inside(inner, outer) -> bool:
    return (
        inner["x"] >= outer["x"] - SLACK
        and inner["y"] >= outer["y"] - SLACK
        and inner["x"] + inner["width"] <= outer["x"] + outer["width"] + SLACK
        and inner["y"] + inner["height"] <= outer["y"] + outer["height"] + SLACK
    )


def overlap(a, b) -> bool:
    return (
        a["x"] + SLACK < b["x"] + b["width"]
        and b["x"] + SLACK < a["x"] + a["width"]
        and a["y"] + SLACK < b["y"] + b["height"]
        and b["y"] + SLACK < a["y"] + a["height"]
    )


def assert_badges_inside(page, box: str, badge: str = ".badge") -> list[dict]:
    found = page.evaluate(BADGES_IN_BOXES, [box, badge])
    assert found, f"no {badge} in any {box}"
    for item in found:
        (bl, bt, br, bb), (cl, ct, cr, cb) = item["badge"], item["box"]
        assert bl >= cl - SLACK and br <= cr + SLACK, item
        assert bt >= ct - SLACK and bb <= cb + SLACK, item
        assert not item["clipped"], f"the text runs out of its badge: {item}"
    return found


def assert_no_sideways_scroll(page, width: int) -> None:
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= width, f"the page is {scroll_width}px wide in a {width}px window"


@pytest.mark.parametrize("provisional", [False, True], ids=["complete", "provisional"])
def test_on_a_phone_the_sticky_bar_keeps_the_count_of_a_long_verdict_on_screen(
    live_server, browser, owner_with_password, artifacts_dir, provisional
):
    answers = scenario_answers(LONG_CONTEXT)
    if provisional:
        del answers["error_cost"]  # a required answer that settles no lane: still long context
    assessment = AssessmentFactory(
        project=ProjectFactory(owner=owner_with_password, name="Handbook"), answers=answers
    )
    context = browser.new_context(viewport=PHONE)
    try:
        page = context.new_page()
        log_in(page, live_server, f"/assessments/{assessment.pk}/", owner_with_password.username)
        bar = page.locator("summary.verdict-bar")
        expect(bar).to_be_visible()
        expect(bar.locator(".badge-long_context")).to_contain_text("Long context (the knowledge")
        expect(bar.locator(".provisional")).to_have_count(1 if provisional else 0)
        bar_box = bar.bounding_box()
        assert bar_box["x"] >= 0 and bar_box["x"] + bar_box["width"] <= PHONE["width"], bar_box
        badge_box = bar.locator(".badge").bounding_box()
        kept = [".bar-count", ".bar-toggle"] + ([".provisional"] if provisional else [])
        for selector in kept:
            part = bar.locator(selector)
            expect(part).to_be_visible()
            box = part.bounding_box()
            assert inside(box, bar_box), (selector, box, bar_box)
            assert box["x"] + box["width"] <= PHONE["width"], (selector, box)
            assert not overlap(box, badge_box), (selector, box, badge_box)
        expect(bar.locator(".bar-count")).to_contain_text("answered")
        assert_no_sideways_scroll(page, PHONE["width"])
        save_screenshot(page, str(artifacts_dir / f"v2-long-verdict-bar-{KIND[provisional]}.png"))

        # Opened, the panel's ladder shows the chosen rung's whole label, wrapped in its box.
        bar.click()
        chosen = page.locator(".live-ladder .rung-chosen .badge")
        expect(chosen).to_be_visible()
        assert_badges_inside(page, ".live-ladder .rung-chosen")
        assert_badges_inside(page, "#verdict-panel")
        assert_no_sideways_scroll(page, PHONE["width"])
        save_screenshot(page, str(artifacts_dir / f"v2-long-verdict-panel-{KIND[provisional]}.png"))
    finally:
        context.close()


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_every_gallery_badge_stays_inside_its_card(
    live_server, browser, transactional_db, artifacts_dir, viewport
):
    load_examples()
    context = browser.new_context(viewport=viewport)
    try:
        page = context.new_page()
        page.goto(live_server.url + "/")
        expect(page.locator(".card-grid .badge-long_context").first).to_be_visible()
        found = assert_badges_inside(page, ".card-grid .card")
        assert any(item["text"].endswith("Long context (the knowledge in the prompt)")
                   for item in found)  # fmt: skip
        assert_no_sideways_scroll(page, viewport["width"])
        save_screenshot(
            page, str(artifacts_dir / f"home-gallery-{viewport['width']}.png"), full_page=True
        )
    finally:
        context.close()


def test_on_a_phone_the_v2_report_fits_a_long_verdict(live_server, browser, transactional_db):
    load_examples()
    context = browser.new_context(viewport=PHONE)
    try:
        page = context.new_page()
        page.goto(live_server.url + f"/examples/{LONG_CONTEXT}/")
        expect(page.locator(".verdict-banner")).to_contain_text("Long context")
        assert_badges_inside(page, "main")
        for box_selector in [".verdict-banner", ".report-section"]:
            for element in page.locator(box_selector).all():
                box = element.bounding_box()
                assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box
        assert_no_sideways_scroll(page, PHONE["width"])
    finally:
        context.close()


def test_on_a_phone_the_project_list_shows_each_project_as_a_block_nothing_cut(
    live_server, browser, owner_with_password, complete_v2_answers, artifacts_dir
):
    project = ProjectFactory(owner=owner_with_password, name="Support assistant")
    AssessmentFactory(project=project, answers=complete_v2_answers)
    context = browser.new_context(viewport=PHONE)
    try:
        page = context.new_page()
        log_in(page, live_server, "/projects/", owner_with_password.username)
        expect(page.locator(".project-list")).to_contain_text("Hybrid (fine-tuning + RAG)")
        wrap = page.locator(".table-wrap")
        assert wrap.evaluate("w => w.scrollWidth <= w.clientWidth"), "the table scrolls sideways"
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        assert_badges_inside(page, ".project-list td")
        label = page.locator(".project-list td").last.evaluate(
            "td => getComputedStyle(td, '::before').content"
        )
        assert "Last change" in label, label  # each cell named, the header row being hidden
        save_screenshot(page, str(artifacts_dir / "projects-phone.png"), full_page=True)
    finally:
        context.close()
