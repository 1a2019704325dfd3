"""Small things a polished page does, checked in the browser: the footer stays at the
bottom of a short page, and the import page's file field looks like the other fields."""

from playwright.sync_api import Page, expect

from tests.e2e.conftest import log_in


def test_the_footer_stays_at_the_bottom_of_a_short_page(live_server, page: Page):
    page.goto(live_server.url + "/accounts/login/")
    footer = page.locator(".site-footer")
    expect(footer).to_be_visible()
    box = footer.bounding_box()
    window_height = page.viewport_size["height"]
    assert abs(box["y"] + box["height"] - window_height) <= 1, (box, window_height)


def test_the_import_file_field_is_styled_like_the_other_fields(
    live_server, page: Page, owner_with_password
):
    log_in(page, live_server, "/projects/import/", owner_with_password.username)
    field = page.locator("input[type=file]")
    expect(field).to_be_visible()
    style = field.evaluate(
        "el => { const s = getComputedStyle(el);"
        " return [s.borderTopStyle, s.borderTopLeftRadius, s.fontFamily]; }"
    )
    body_font = page.evaluate("getComputedStyle(document.body).fontFamily")
    assert style == ["dashed", "6px", body_font]


def test_on_a_phone_the_score_chart_fits_the_screen(live_server, browser):
    from assessments.examples import load_examples

    load_examples()
    context = browser.new_context(viewport={"width": 390, "height": 844})
    try:
        page = context.new_page()
        page.goto(live_server.url + "/examples/support-bot/")
        expect(page.locator("svg.score-chart")).to_be_hidden()
        chart = page.locator("svg.score-chart-narrow")
        expect(chart).to_be_visible()
        box = chart.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390, box
        # Every label and value whole inside the chart (an SVG clips what overflows it),
        # at a readable size.
        for text in chart.locator("text").all():
            text_box = text.bounding_box()
            assert text_box["x"] >= box["x"], text_box
            assert text_box["x"] + text_box["width"] <= box["x"] + box["width"], text_box
            assert text_box["height"] >= 12, text_box
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
    finally:
        context.close()
