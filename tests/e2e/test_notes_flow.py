"""Notes and "does not apply" in the browser: a note saves itself as it is typed (no click),
survives a reload, an optional question is marked "does not apply" with a reason, the report
shows both; and without JavaScript the whole form saves notes too."""

import re

from playwright.sync_api import expect

from assessments.models import Assessment
from tests.e2e.conftest import log_in, save_screenshot
from tests.factories import AssessmentFactory, ProjectFactory

REQUIRED = "latency"
OPTIONAL = "answers_differ_6mo"  # v2's optional question, asked when knowledge is needed


def notes_of(assessment) -> dict:
    return Assessment.objects.with_answers().get(pk=assessment.pk).note_values


def test_notes_autosave_survive_a_reload_and_show_on_the_report(
    live_server, page, owner_with_password, complete_v2_answers, artifacts_dir, js_errors
):
    assessment = AssessmentFactory(
        project=ProjectFactory(owner=owner_with_password, name="Notes"),
        answers=complete_v2_answers,
    )
    path = f"/assessments/{assessment.pk}/"
    log_in(page, live_server, path, owner_with_password.username)

    # Type a note: it saves itself once the typing stops, without any click.
    block = page.locator(f"#note-{REQUIRED}")
    block.locator("summary").click()  # open the disclosure
    block.locator("textarea").press_sequentially("Support chat: answers within a second.")
    expect(page.locator(f"#note-status-{REQUIRED}")).to_contain_text("Note saved")
    assert notes_of(assessment)[REQUIRED]["text"] == "Support chat: answers within a second."

    page.reload()
    expect(page.locator(f"#note-{REQUIRED} textarea")).to_have_value(
        "Support chat: answers within a second."
    )
    expect(page.locator(f"#note-{REQUIRED} details")).to_have_attribute("open", "")

    # An optional question does not apply: the reason goes in its note, the box is ticked,
    # the answer goes and the question is set aside (still usable to take the mark off).
    optional = page.locator(f"#note-{OPTIONAL}")
    optional.locator("summary").click()
    optional.locator("textarea").fill("Our catalog is rebuilt from scratch every season.")
    optional.get_by_role("checkbox", name=re.compile("^Does not apply")).check()
    expect(page.locator(f"#q-{OPTIONAL}")).to_have_class(re.compile(r"\bis-not-applicable\b"))
    expect(page.locator(f"#note-status-{OPTIONAL}")).to_contain_text("Note saved")
    expect(page.locator(f"#q-{OPTIONAL} input:checked")).to_have_count(0)
    save_screenshot(page.locator(f"#q-{OPTIONAL}"), str(artifacts_dir / "notes-not-applicable.png"))
    assert notes_of(assessment)[OPTIONAL] == {
        "text": "Our catalog is rebuilt from scratch every season.",
        "not_applicable": True,
    }

    page.goto(live_server.url + f"/assessments/{assessment.pk}/report/")
    answers = page.locator("#answers-title").locator("xpath=..")
    expect(answers.locator(f"#answer-{REQUIRED}")).to_contain_text(
        "Support chat: answers within a second."
    )
    expect(answers.locator(f"#answer-{OPTIONAL}")).to_contain_text(
        "Does not apply — Our catalog is rebuilt from scratch every season."
    )
    save_screenshot(answers, str(artifacts_dir / "notes-on-the-report.png"))
    assert js_errors == []


def test_without_javascript_the_whole_form_saves_the_notes(
    live_server, browser, owner_with_password, complete_v2_answers
):
    assessment = AssessmentFactory(
        project=ProjectFactory(owner=owner_with_password, name="No JS"),
        answers=complete_v2_answers,
    )
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        path = f"/assessments/{assessment.pk}/"
        log_in(page, live_server, path, owner_with_password.username)

        page.locator(f"#note-{REQUIRED}").locator("summary").click()
        page.locator(f"#note-{REQUIRED} textarea").fill("Measured on the staging bot.")
        page.locator(f"#note-{OPTIONAL}").locator("summary").click()
        page.locator(f"#note-{OPTIONAL} textarea").fill("Nothing we sell changes.")
        page.locator(f"#note-{OPTIONAL}").get_by_role(
            "checkbox", name=re.compile("^Does not apply")
        ).check()
        page.get_by_role("button", name="Save all answers").click()

        # Complete: the save lands on the report, which shows both.
        expect(page).to_have_url(re.compile(rf"/assessments/{assessment.pk}/report/$"))
        expect(page.locator(f"#answer-{REQUIRED}")).to_contain_text("Measured on the staging bot.")
        expect(page.locator(f"#answer-{OPTIONAL}")).to_contain_text(
            "Does not apply — Nothing we sell changes."
        )
    finally:
        context.close()
    assert notes_of(assessment) == {
        REQUIRED: {"text": "Measured on the staging bot.", "not_applicable": False},
        OPTIONAL: {"text": "Nothing we sell changes.", "not_applicable": True},
    }
    assert OPTIONAL not in Assessment.objects.with_answers().get(pk=assessment.pk).answer_values
