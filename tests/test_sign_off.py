"""Sign-off by stakeholders: a reader of a shared page responds (approve, approve with
conditions, object) without an account; the response belongs to the milestone the link shows;
the project team sees responses on the report and in the memos."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from assessments.milestones import create_milestone
from assessments.models import Membership, Milestone, SignOff
from assessments.pdf import content_key, memo_pdf
from assessments.services import evaluate_assessment, save_assumptions
from assessments.sharing import (
    STALE_PAGE,
    LinkGone,
    Response,
    changed_stamp,
    create_share_link,
    record_sign_off,
    revoke_share_link,
)
from tests.factories import (
    AssessmentFactory,
    UserFactory,
    V1AssessmentFactory,
    loaded,
    set_answers,
)
from tests.test_memo import pdf_text

pytestmark = pytest.mark.django_db

SHARED_HEADERS = {
    "Referrer-Policy": "same-origin",
    "X-Robots-Tag": "noindex, nofollow",
    "Cache-Control": "no-store",
}
VALID = {
    "name": "Dana Chief",
    "role": "CFO",
    "decision": "approve_with_conditions",
    "comment": "Only if the budget holds.\nReview in Q3.",
}
HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)> & “quotes”'


@pytest.fixture
def snapshot(complete_assessment):
    """A snapshot link (the default) to the owner's complete assessment, and its token."""
    return create_share_link(complete_assessment, label="for the CFO")


@pytest.fixture
def live(complete_assessment):
    """A link to the latest answers, and its token."""
    return create_share_link(complete_assessment, label="live", milestone=None)


def respond_url(token: str) -> str:
    return reverse("shared_respond", args=[token])


def seen_on_page(client: Client, token: str) -> str:
    """The hidden stamp the shared page's sign-off form carries ('' for a snapshot)."""
    page = client.get(reverse("shared_report", args=[token])).content.decode()
    match = re.search(r'name="seen" value="([^"]*)"', page)
    return match.group(1) if match else ""


def respond(client: Client, token: str, htmx: bool = False, **fields):
    data = {**VALID, "seen": seen_on_page(client, token), **fields}
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post(respond_url(token), data, headers=headers)


def assert_shared_headers(response):
    for header, value in SHARED_HEADERS.items():
        assert response[header] == value


# --- Responding -------------------------------------------------------------------------------


def test_a_reader_responds_without_javascript_and_is_thanked_on_the_shared_page(snapshot):
    link, token = snapshot
    client = Client()

    response = respond(client, token)

    assert response.status_code == 303
    # Back to the panel: on a long page the thanks (or an error) is where the reader is.
    assert response["Location"] == reverse("shared_report", args=[token]) + "#sign-off"
    assert_shared_headers(response)
    sign_off = SignOff.objects.get()
    assert sign_off.milestone == link.milestone and sign_off.share_link == link
    assert (sign_off.name, sign_off.role, sign_off.decision) == (
        "Dana Chief",
        "CFO",
        SignOff.Decision.CONDITIONS,
    )
    assert sign_off.comment == "Only if the budget holds.\nReview in Q3."
    page = client.get(response["Location"]).content.decode()
    assert page.count("Thank you: your response is recorded.") == 1  # in the panel only
    assert re.search(r'<section id="sign-off".*Thank you: your response', page, re.S)
    assert (
        "Responses sent through this link are visible to everyone with this link and to the "
        "project team."
    ) in page
    assert "<strong>Dana Chief</strong>, CFO: " in page
    assert "Approve with conditions" in page
    assert "Only if the budget holds.<br>Review in Q3." in page


def test_with_htmx_the_sign_off_panel_is_swapped_in_place(snapshot):
    _, token = snapshot
    response = respond(Client(), token, htmx=True, decision="approve", comment="")
    page = response.content.decode()
    assert response.status_code == 200
    assert page.lstrip().startswith('<section id="sign-off"')
    assert "Thank you: your response is recorded." in page
    assert "<strong>Dana Chief</strong>, CFO: " in page
    assert_shared_headers(response)
    assert SignOff.objects.get().decision == SignOff.Decision.APPROVE


def test_the_shared_page_carries_a_form_that_works_without_javascript(snapshot):
    _, token = snapshot
    page = Client().get(reverse("shared_report", args=[token])).content.decode()
    form = re.search(r'<form method="post" action="([^"]+)" class="sign-off-form"', page)
    assert form and form.group(1) == respond_url(token) + "#sign-off"
    assert 'name="csrfmiddlewaretoken"' in page
    for decision in SignOff.Decision:
        assert f'value="{decision.value}"' in page and decision.label in page
    assert "No responses yet." in page


BAD_FIELDS = [
    ("name", {"name": ""}, "This field is required."),
    ("name", {"name": "   \x07\u200b  "}, "Enter your name."),
    ("name", {"name": "n" * 81}, "at most 80 characters"),
    ("role", {"role": "r" * 81}, "at most 80 characters"),
    ("decision", {"decision": ""}, "This field is required."),
    ("decision", {"decision": "maybe"}, "Select a valid choice"),
    ("comment", {"comment": "c" * 2001}, "at most 2000 characters"),
    ("comment", {"comment": "a\x00b"}, "Null characters are not allowed."),
    ("comment", {"decision": "object", "comment": ""}, "say why you object"),
    ("comment", {"decision": "approve_with_conditions", "comment": " "}, "on which conditions"),
]


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
@pytest.mark.parametrize(("field", "data", "message"), BAD_FIELDS)
def test_each_bad_field_is_refused_naming_it_and_nothing_is_saved(
    snapshot, htmx, field, data, message
):
    _, token = snapshot
    response = respond(Client(), token, htmx=htmx, **data)
    assert response.status_code == 422
    page = response.content.decode()
    error = re.search(rf'<div id="id_{field}_error">(.*?)</div>', page, re.S)
    assert error and message in error.group(1), page[:2000]
    assert not SignOff.objects.exists()
    assert_shared_headers(response)
    if not htmx:
        assert "Decision matrix" in page  # the whole shared page, with the errors


def test_hostile_text_is_shown_escaped_and_control_characters_are_stripped(
    snapshot, owner_client, complete_assessment
):
    _, token = snapshot
    client = Client()
    respond(
        client,
        token,
        name="Eve\u202e\x1b[31m <b>bold</b>",
        role="<i>CTO</i>",
        decision="object",
        comment=HOSTILE + "\r\nsecond\x07 line\x1b",
    )
    sign_off = SignOff.objects.get()
    assert sign_off.name == "Eve[31m <b>bold</b>"
    assert sign_off.comment == HOSTILE + "\nsecond line"
    for page in (
        client.get(reverse("shared_report", args=[token])).content.decode(),
        owner_client.get(reverse("report", args=[complete_assessment.pk])).content.decode(),
    ):
        assert "<script>alert" not in page and "<img src=x" not in page
        assert "<b>bold</b>" not in page and "<i>CTO</i>" not in page
        assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
        assert "&lt;b&gt;bold&lt;/b&gt;" in page
        assert "&amp; “quotes”<br>second line" in page


@pytest.mark.parametrize("state", ["unknown", "revoked", "expired"])
def test_revoked_expired_and_unknown_links_accept_no_response(snapshot, state):
    link, token = snapshot
    client = Client()
    seen = seen_on_page(client, token)
    if state == "unknown":
        token = "y" * 43
    elif state == "revoked":
        revoke_share_link(link)
    else:
        link.expires_at = timezone.now() - timedelta(seconds=1)
        link.save()
    response = client.post(respond_url(token), {**VALID, "seen": seen})
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()
    assert_shared_headers(response)
    assert not SignOff.objects.exists()


def test_responding_is_a_post_only(snapshot):
    _, token = snapshot
    assert Client().get(respond_url(token)).status_code == 405


def test_responding_needs_the_csrf_token_of_the_shared_page(snapshot):
    _, token = snapshot
    client = Client(enforce_csrf_checks=True)
    assert client.post(respond_url(token), VALID).status_code == 403
    assert not SignOff.objects.exists()
    page = client.get(reverse("shared_report", args=[token])).content.decode()
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    response = client.post(respond_url(token), {**VALID, "csrfmiddlewaretoken": csrf})
    assert response.status_code == 303
    assert SignOff.objects.count() == 1


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_responses_are_limited_per_link_and_address(settings, complete_assessment, snapshot, htmx):
    settings.SHARE_RESPONSE_LIMIT = 2
    _, token = snapshot
    _, other_token = create_share_link(complete_assessment, label="other")
    reader = Client(REMOTE_ADDR="203.0.113.9")
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        assert respond(reader, token).status_code == 303
        assert respond(reader, token, comment="bad" * 1000).status_code == 422  # counted too
    with time_machine.travel(start + timedelta(seconds=60), tick=False):
        refused = respond(reader, token, htmx=htmx)
    assert refused.status_code == 429
    assert refused["Retry-After"] == str(settings.SHARE_RESPONSE_WINDOW - 60)
    assert "Too many responses were sent through this link" in refused.content.decode()
    assert_shared_headers(refused)
    if htmx:
        assert refused.content.decode().lstrip().startswith('<section id="sign-off"')
    assert SignOff.objects.count() == 1
    # Another address, or another link, is not affected.
    assert respond(Client(REMOTE_ADDR="198.51.100.7"), token).status_code == 303
    assert respond(reader, other_token).status_code == 303
    assert SignOff.objects.count() == 3


def test_a_link_takes_a_limited_number_of_responses_from_all_addresses_together(
    settings, complete_assessment, snapshot
):
    """A client rotating its address (an IPv6 /64 holds billions) still cannot flood the
    memo's sign-off block through one link; other links are not affected."""
    settings.SHARE_LINK_RESPONSE_LIMIT = 2
    _, token = snapshot
    _, other_token = create_share_link(complete_assessment, label="other")
    for address in ("2001:db8::1", "2001:db8::2"):
        assert respond(Client(REMOTE_ADDR=address), token).status_code == 303

    refused = respond(Client(REMOTE_ADDR="2001:db8::3"), token)

    assert refused.status_code == 429
    assert respond(Client(REMOTE_ADDR="2001:db8::3"), other_token).status_code == 303
    assert SignOff.objects.count() == 3


# --- Links to the latest answers ---------------------------------------------------------------


def test_a_response_through_a_live_link_is_pinned_to_a_milestone_of_the_answers_read(
    live, complete_assessment
):
    link, token = live
    assert not Milestone.objects.exists()

    assert respond(Client(), token).status_code == 303

    first = SignOff.objects.get()
    assert first.share_link == link
    milestone = first.milestone
    assert milestone.assessment_id == complete_assessment.pk
    assert milestone.answers == loaded(complete_assessment).answer_values
    # Named for what was read and through which link; made by no member.
    assert milestone.name.startswith("As read through “live”, ")
    assert milestone.origin == Milestone.Origin.RESPONSE and milestone.made_by.startswith(
        "Advisor, when a reader responded"
    )
    # A second response to the same answers joins the same milestone.
    assert respond(Client(), token, name="Sam").status_code == 303
    assert Milestone.objects.count() == 1
    assert set(SignOff.objects.values_list("milestone", flat=True)) == {milestone.pk}
    # After an edit, a response is to a new milestone; the earlier ones stay as they were.
    set_answers(complete_assessment, {"behavior_needs": ["none"]})
    assert respond(Client(), token, name="Kim").status_code == 303
    assert Milestone.objects.count() == 2
    kim = SignOff.objects.get(name="Kim")
    assert kim.milestone != milestone
    assert kim.milestone.answers["behavior_needs"] == ["none"]
    assert milestone.answers["behavior_needs"] != ["none"]


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_a_live_page_read_before_an_edit_cannot_be_responded_to(live, complete_assessment, htmx):
    _, token = live
    client = Client()
    seen = seen_on_page(client, token)
    with time_machine.travel(timezone.now() + timedelta(minutes=1)):
        set_answers(complete_assessment, {"behavior_needs": ["none"]})

    response = client.post(
        respond_url(token), {**VALID, "seen": seen}, headers={"HX-Request": "true"} if htmx else {}
    )

    assert response.status_code == 409
    page = response.content.decode()
    assert STALE_PAGE in page
    assert not SignOff.objects.exists() and not Milestone.objects.exists()
    # The form keeps what was typed and now carries the answers shown now.
    assert 'value="Dana Chief"' in page
    fresh = changed_stamp(loaded(complete_assessment))
    assert f'name="seen" value="{fresh}"' in page and fresh != seen
    # The page shows the answers now (with htmx too: the whole page is swapped in, not the
    # panel alone, or a second click would approve answers never shown).
    assert "Use RAG" not in page and "RAG" in page
    if htmx:
        assert (response["HX-Retarget"], response["HX-Reselect"]) == ("#main", "#main")
    assert client.post(respond_url(token), {**VALID, "seen": fresh}).status_code == 303


def test_a_live_page_read_before_the_cost_assumptions_changed_cannot_be_responded_to(
    project, complete_v2_answers
):
    """The assumptions change the page's numbers without changing when the answers did."""
    assessment = AssessmentFactory(project=project, answers=complete_v2_answers)
    _, token = create_share_link(assessment, milestone=None)
    client = Client()
    seen = seen_on_page(client, token)
    save_assumptions(loaded(assessment), {"top_k": 8}, {})

    response = client.post(respond_url(token), {**VALID, "seen": seen})

    assert response.status_code == 409
    assert not SignOff.objects.exists()


def test_a_live_response_without_the_stamp_is_refused(live):
    _, token = live
    response = Client().post(respond_url(token), VALID)
    assert response.status_code == 409
    assert not SignOff.objects.exists()


def test_record_sign_off_for_a_snapshot_needs_no_stamp(snapshot):
    link, _ = snapshot
    sign_off = record_sign_off(link, Response("A", "", "approve", ""))
    assert sign_off.milestone == link.milestone


def test_an_incomplete_report_has_no_sign_off(project):
    draft = V1AssessmentFactory(project=project, answers={"latency": "batch"})
    _, token = create_share_link(draft)
    client = Client()
    assert (
        'id="sign-off"' not in client.get(reverse("shared_report", args=[token])).content.decode()
    )
    assert respond(client, token).status_code == 409
    assert not SignOff.objects.exists()


def test_a_live_page_lists_the_responses_to_its_current_answers_only(live, complete_assessment):
    _, token = live
    respond(Client(), token, name="Before the edit")
    set_answers(complete_assessment, {"behavior_needs": ["none"]})
    page = Client().get(reverse("shared_report", args=[token])).content.decode()
    assert "Before the edit" not in page
    respond(Client(), token, name="After the edit")
    page = Client().get(reverse("shared_report", args=[token])).content.decode()
    assert "After the edit" in page and "Before the edit" not in page
    assert "1 earlier response through this link was to answers that have changed since" in page


def test_a_snapshot_page_lists_only_its_own_milestones_responses(snapshot, complete_assessment):
    _, token = snapshot
    _, other = create_share_link(complete_assessment, label="another snapshot")
    respond(Client(), token, name="Through the first")
    page = Client().get(reverse("shared_report", args=[other])).content.decode()
    assert "Through the first" not in page


def test_a_page_lists_only_the_responses_sent_through_its_own_link(snapshot, complete_assessment):
    """Two links to one milestone (say, one for the board, one for a vendor): a response
    through one is not shown to the readers of the other, on the page or in its memo."""
    link, token = snapshot
    _, vendor_token = create_share_link(
        complete_assessment, label="vendor", milestone=link.milestone
    )
    respond(Client(), token, name="Board member", decision="object", comment="Internal worry")

    vendor_page = Client().get(reverse("shared_report", args=[vendor_token])).content.decode()
    own_page = Client().get(reverse("shared_report", args=[token])).content.decode()

    assert "Internal worry" not in vendor_page and "Internal worry" in own_page


# --- The team sees them -------------------------------------------------------------------------


def sign_off_section(page: str) -> str:
    match = re.search(r'<section id="sign-offs".*?</section>', page, re.S)
    return match.group(0) if match else ""


def test_members_see_responses_grouped_by_milestone_and_whether_they_still_match(
    owner_client, owner, snapshot, complete_assessment
):
    _, token = snapshot
    respond(Client(), token, comment=HOSTILE)
    viewer = UserFactory(username="vic")
    Membership.objects.create(
        project=complete_assessment.project, user=viewer, role="viewer", added_by=owner
    )
    viewer_client = Client()
    viewer_client.force_login(viewer)
    for client in (owner_client, viewer_client):
        section = sign_off_section(
            client.get(reverse("report", args=[complete_assessment.pk])).content.decode()
        )
        assert "Shared: for the CFO" in section
        assert "The current answers still match this milestone." in section
        assert (
            "<strong>Dana Chief</strong>, CFO" in section and "Approve with conditions" in section
        )
        assert "&lt;script&gt;" in section and "<script>" not in section

    set_answers(complete_assessment, {"behavior_needs": ["none"]})
    section = sign_off_section(
        owner_client.get(reverse("report", args=[complete_assessment.pk])).content.decode()
    )
    assert "The answers have changed since this milestone" in section


def test_a_report_without_responses_has_no_sign_off_section(owner_client, complete_assessment):
    page = owner_client.get(reverse("report", args=[complete_assessment.pk])).content.decode()
    assert 'id="sign-offs"' not in page


def test_the_report_and_shared_page_query_counts_do_not_grow_with_responses(
    owner_client, snapshot, complete_assessment, django_assert_max_num_queries
):
    link, token = snapshot
    report = reverse("report", args=[complete_assessment.pk])
    shared = reverse("shared_report", args=[token])
    record_sign_off(link, Response("First", "", "approve", ""))
    with CaptureQueriesContext(connection) as report_one:
        owner_client.get(report)
    with CaptureQueriesContext(connection) as shared_one:
        Client().get(shared)
    for n in range(5):
        record_sign_off(link, Response(f"Reader {n}", "", "object", "no"))
        other = create_milestone(complete_assessment)
        record_sign_off(
            create_share_link(complete_assessment, milestone=other)[0],
            Response(f"Other {n}", "", "approve", ""),
        )
    with django_assert_max_num_queries(len(report_one)):
        page = owner_client.get(report).content.decode()
    assert sign_off_section(page).count('class="sign-off-item') == 11
    with django_assert_max_num_queries(len(shared_one)):
        page = Client().get(shared).content.decode()
    assert page.count('class="sign-off-item') == 6


# --- Memos ---------------------------------------------------------------------------------------


def test_the_milestone_memo_lists_its_responses(owner_client, snapshot):
    link, token = snapshot
    respond(Client(), token, comment="Only if the budget holds.")
    response = owner_client.get(reverse("milestone_memo", args=[link.milestone_id]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    text = pdf_text(response.content)
    assert "Sign-off" in text
    assert "Dana Chief" in text and "CFO" in text and "Approve with conditions" in text
    assert "Only if the budget holds." in text
    assert "Milestone “Shared: for the CFO”" in text
    # The shared link's memo is the same milestone's memo.
    shared = Client().get(reverse("shared_memo", args=[token]))
    assert "Dana Chief" in pdf_text(shared.content)


def test_the_assessment_memo_lists_responses_to_milestones_of_its_current_answers(
    owner_client, snapshot, complete_assessment
):
    _, token = snapshot
    memo = reverse("memo", args=[complete_assessment.pk])
    text = pdf_text(owner_client.get(memo).content)
    assert "No responses yet. To sign on paper:" in text and "SIGNATURE" in text.upper()

    respond(Client(), token, comment="Only if the budget holds.")
    text = pdf_text(owner_client.get(memo).content)
    assert "Dana Chief" in text and "Only if the budget holds." in text
    assert "SIGNATURE" not in text.upper()

    set_answers(complete_assessment, {"behavior_needs": ["none"]})
    text = pdf_text(owner_client.get(memo).content)
    assert "Dana Chief" not in text and "No responses yet" in text


def test_a_milestone_memo_has_its_own_key_and_a_new_response_makes_a_new_memo(
    snapshot, complete_assessment
):
    link, _ = snapshot
    assessment = loaded(complete_assessment)
    milestone = Milestone.objects.get(pk=link.milestone_id)
    evaluation = evaluate_assessment(milestone)
    assert content_key(milestone, evaluation) != content_key(
        assessment, evaluate_assessment(assessment)
    )
    before = content_key(milestone, evaluation)
    record_sign_off(link, Response("A", "", "approve", ""))
    after = content_key(Milestone.objects.get(pk=link.milestone_id), evaluation)
    assert after != before
    assert content_key(Milestone.objects.get(pk=link.milestone_id), evaluation) == after
    first = memo_pdf(milestone, evaluation)
    assert memo_pdf(Milestone.objects.get(pk=link.milestone_id), evaluation) == first


def test_an_accepted_milestone_memo_says_accepted(owner, snapshot):
    link, _ = snapshot
    milestone = Milestone.objects.get(pk=link.milestone_id)
    evaluation = evaluate_assessment(milestone)
    assert "Status: Proposed" in pdf_text(memo_pdf(milestone, evaluation))
    milestone.accepted_at, milestone.accepted_by = timezone.now(), owner
    milestone.save(update_fields=["accepted_at", "accepted_by"])
    assert "Status: Accepted (" in pdf_text(memo_pdf(milestone, evaluation))


def test_milestone_memo_access_follows_the_project_roles(
    client, owner, other_user, snapshot, complete_assessment
):
    link, _ = snapshot
    url = reverse("milestone_memo", args=[link.milestone_id])
    assert client.get(url).status_code == 302  # to sign in
    client.force_login(other_user)
    assert client.get(url).status_code == 404
    Membership.objects.create(
        project=complete_assessment.project, user=other_user, role="viewer", added_by=owner
    )
    assert client.get(url).status_code == 200
    assert client.post(url).status_code == 405


def test_an_incomplete_milestone_has_no_memo(owner_client, project):
    draft = V1AssessmentFactory(project=project, answers={"latency": "batch"})
    milestone = create_milestone(draft)
    assert owner_client.get(reverse("milestone_memo", args=[milestone.pk])).status_code == 404


def test_a_rubric_v2_milestone_memo_lists_its_responses_too(project, complete_v2_answers):
    assessment = AssessmentFactory(project=project, answers=complete_v2_answers)
    link, _ = create_share_link(assessment, label="board")
    record_sign_off(
        link, Response("Omar", "Head of data", "object", "Latency budget is unrealistic.")
    )
    milestone = Milestone.objects.get(pk=link.milestone_id)
    text = pdf_text(memo_pdf(milestone, evaluate_assessment(milestone)))
    assert "Omar" in text and "Head of data" in text and "Object" in text
    assert "Latency budget is unrealistic." in text


@pytest.mark.parametrize("which", ["snapshot", "live"])
def test_a_link_revoked_while_a_response_is_on_its_way_records_nothing(request, which):
    """The view found the link active; the owner revoked it before the response was written:
    the link's row is read again under its lock, and nothing is recorded."""
    link, _ = request.getfixturevalue(which)
    revoke_share_link(link)
    response = Response("Dana", "", "approve", "")

    with pytest.raises(LinkGone):
        record_sign_off(link, response, seen=changed_stamp(loaded(link.assessment)))

    assert not SignOff.objects.exists()
