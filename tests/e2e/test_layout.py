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
