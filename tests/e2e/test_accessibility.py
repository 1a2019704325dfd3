"""axe-core (shipped by the axe-playwright-python package) finds no accessibility violation
on any page a person sees, on a desktop and on a phone."""

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page

from assessments.examples import load_examples
from assessments.sharing import create_share_link
from tests.e2e.conftest import log_in
from tests.factories import V1AssessmentFactory

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}


def violations(page: Page) -> list[str]:
    results = Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
    ]


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_no_page_has_an_accessibility_violation(
    live_server, browser, owner_with_password, complete_answers, viewport
):
    load_examples()
    owned = V1AssessmentFactory(project__owner=owner_with_password, answers=complete_answers)
    _, token = create_share_link(owned, label="for the board")
    draft = V1AssessmentFactory(project__owner=owner_with_password, answers={"latency": "batch"})
    public = ["/", "/examples/support-bot/", "/examples/v2-support-bot-hybrid/",
              "/accounts/login/", "/accounts/signup/", "/accounts/password/reset/",
              f"/s/{token}/"]  # fmt: skip
    signed_in = ["/projects/", f"/projects/{owned.project.pk}/", f"/assessments/{draft.pk}/",
                 f"/assessments/{owned.pk}/", f"/assessments/{owned.pk}/report/",
                 "/projects/new/", "/projects/import/", "/accounts/email/",
                 "/accounts/password/change/", "/accounts/2fa/", "/accounts/sessions/",
                 "/accounts/reauthenticate/", "/accounts/logout/"]  # fmt: skip
    context = browser.new_context(viewport=viewport)
    try:
        page = context.new_page()
        found = {}
        for path in public:
            page.goto(live_server.url + path)
            found[path] = violations(page)
        log_in(page, live_server, signed_in[0], owner_with_password.username)
        for path in signed_in:
            page.goto(live_server.url + path)
            found[path] = violations(page)
        assert {path: v for path, v in found.items() if v} == {}
    finally:
        context.close()
