"""The pages run under a strict Content-Security-Policy without a single violation."""

import pytest
from playwright.sync_api import expect

from assessments.examples import load_examples
from assessments.models import Assessment
from tests.e2e.conftest import PASSWORD
from tests.factories import V1AssessmentFactory, set_answers


def test_public_pages_run_without_csp_violations(live_server, page, js_errors):
    load_examples()
    for path in (
        "/",
        "/examples/support-bot/",
        "/accounts/login/",
        "/accounts/signup/",
        "/accounts/password/reset/",
    ):
        response = page.goto(live_server.url + path)
        assert "'unsafe-inline'" not in response.headers["content-security-policy"]
    expect(page.locator("h1")).to_be_visible()
    assert js_errors == []


def test_signed_in_pages_run_without_csp_violations(
    live_server, page, js_errors, owner_with_password, complete_answers, complete_v2_answers
):
    page.goto(live_server.url + "/accounts/login/")
    page.fill("input[name=login]", owner_with_password.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("main form button[type=submit]")
    page.goto(live_server.url + "/projects/new/")
    page.fill("input[name=name]", "CSP check")
    page.click("main form button[type=submit]")
    page.check("input[name=latency][value=batch]")
    expect(page.locator("#status-latency")).to_contain_text("Saved")
    # A need redraws the questions it opens (an out-of-band swap of whole fieldsets).
    page.check("input[name=knowledge_needs][value=documents]")
    expect(page.locator("#q-kb_size")).to_be_visible()
    page.goto(live_server.url + "/projects/")
    # The report with its SVG chart and the share panel (HTMX form) too.
    assessment = Assessment.objects.get(project__name="CSP check")
    set_answers(assessment, complete_v2_answers)
    page.goto(f"{live_server.url}/assessments/{assessment.pk}/report/")
    expect(page.locator("svg.ladder-chart")).to_be_visible()
    # A rubric v1 report has a chart of its own.
    v1 = V1AssessmentFactory(project=assessment.project, answers=complete_answers)
    page.goto(f"{live_server.url}/assessments/{v1.pk}/report/")
    expect(page.locator("svg.score-chart")).to_be_visible()
    page.fill("input[name=label]", "for CSP")
    page.click("#share button[type=submit]")
    expect(page.locator("#new-share-url")).to_be_visible()
    assert js_errors == []


@pytest.mark.expect_csp_violation
def test_an_injected_inline_script_is_blocked_and_reported(live_server, page):
    page.goto(live_server.url + "/accounts/login/")
    page.evaluate(
        """() => { const s = document.createElement('script');
                   s.textContent = 'window.__injected = true';
                   document.body.appendChild(s); }"""
    )
    page.wait_for_timeout(200)
    assert page.evaluate("() => window.__injected === undefined")
