"""Share links: read-only reports by unguessable link, revocable, expiring, rate limited."""

import hashlib
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
from assessments.models import Answer, Milestone, ShareLink
from assessments.rubric import load_rubric
from assessments.services import start_assessment
from assessments.sharing import create_share_link, hash_token, resolve_token, revoke_share_link
from tests.factories import (
    AssessmentFactory,
    ProjectFactory,
    V1AssessmentFactory,
    loaded,
    set_answers,
    stored_answers,
)
from tests.test_memo import pdf_text

pytestmark = pytest.mark.django_db

SHARED_HEADERS = {
    "Referrer-Policy": "same-origin",
    "X-Robots-Tag": "noindex, nofollow",
    "Cache-Control": "no-store",
}


def create_link_via_page(client, assessment, **data):
    response = client.post(
        reverse("share_create", args=[assessment.pk]), {"label": "", "expiry": "never", **data}
    )
    match = re.search(r'id="new-share-url" readonly value="([^"]+)"', response.content.decode())
    return response, (match.group(1).replace("http://testserver", "") if match else None)


def assert_shared_headers(response):
    for header, value in SHARED_HEADERS.items():
        assert response[header] == value


def test_owner_creates_a_link_and_sees_it_once(owner_client, complete_assessment):
    response, url = create_link_via_page(
        owner_client, complete_assessment, label="for the CFO", expiry="7"
    )
    assert response.status_code == 200
    assert url.startswith("/s/")
    link = ShareLink.objects.get()
    assert link.label == "for the CFO"
    assert link.expires_at - timezone.now() == pytest.approx(
        timedelta(days=7), abs=timedelta(minutes=1)
    )

    page = owner_client.get(reverse("report", args=[complete_assessment.pk])).content.decode()
    assert url not in page
    assert "for the CFO" in page


def test_token_has_at_least_128_bits_and_only_its_hash_is_stored(complete_assessment):
    link, token = create_share_link(complete_assessment)
    assert len(token) >= 22  # 128 bits in URL-safe base64
    stored = ShareLink.objects.filter(pk=link.pk).values().get()
    assert token not in str(stored)
    assert stored["token_hash"] == hashlib.sha256(token.encode()).hexdigest()
    other_link, other_token = create_share_link(complete_assessment)
    assert other_token != token


def test_anonymous_visitor_reads_the_report_without_controls_or_owner_identity(
    complete_assessment, owner
):
    # A link to the latest answers: its label names nothing the reader sees (a new snapshot
    # is named after it, see test_sign_off.py).
    _, token = create_share_link(complete_assessment, label="for the board", milestone=None)
    response = Client().get(reverse("shared_report", args=[token]))
    page = response.content.decode()

    assert response.status_code == 200
    assert_shared_headers(response)
    assert "Hybrid" in page and "Decision matrix" in page and "All answers" in page
    assert "Answers last changed" in page
    assert owner.username not in page
    assert "for the board" not in page
    assert "Share this report" not in page
    assert "Edit answers" not in page
    assert reverse("questionnaire", args=[complete_assessment.pk]) not in page
    assert reverse("shared_memo", args=[token]) in page
    assert not re.search(r'(href|src)="https?://', page), "the shared page links to no third party"


def test_viewing_counts_views_and_changes_nothing_else(complete_assessment):
    _, token = create_share_link(complete_assessment)
    answers_before = list(Answer.objects.values_list("question_id", "value", "updated_at"))
    client = Client()
    client.get(reverse("shared_report", args=[token]))
    client.get(reverse("shared_report", args=[token]))
    link = ShareLink.objects.get()
    assert link.view_count == 2
    assert link.last_viewed_at is not None
    assert list(Answer.objects.values_list("question_id", "value", "updated_at")) == answers_before


@pytest.mark.parametrize("state", ["unknown", "revoked", "expired"])
def test_unknown_revoked_and_expired_links_get_the_same_plain_404(complete_assessment, state):
    link, token = create_share_link(complete_assessment, expires_in_days=7)
    if state == "unknown":
        token = "x" * 43
    elif state == "revoked":
        link.revoked_at = timezone.now()
        link.save()
    else:
        link.expires_at = timezone.now() - timedelta(seconds=1)
        link.save()
    for name in ("shared_report", "shared_memo"):
        response = Client().get(reverse(name, args=[token]))
        assert response.status_code == 404
        assert_shared_headers(response)
        assert "Page not found" in response.content.decode()
        assert "Hybrid" not in response.content.decode()


def test_owner_revokes_one_link_and_it_shows_404_while_others_keep_working(
    owner_client, complete_assessment
):
    first, first_token = create_share_link(complete_assessment, label="first")
    _, second_token = create_share_link(complete_assessment, label="second")
    response = owner_client.post(reverse("share_revoke", args=[complete_assessment.pk, first.pk]))
    assert response.status_code == 302
    assert Client().get(reverse("shared_report", args=[first_token])).status_code == 404
    assert Client().get(reverse("shared_report", args=[second_token])).status_code == 200
    assert resolve_token(first_token) is None


def test_revoking_over_htmx_returns_the_share_panel(owner_client, complete_assessment):
    link, _ = create_share_link(complete_assessment, label="for legal")
    response = owner_client.post(
        reverse("share_revoke", args=[complete_assessment.pk, link.pk]), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert 'id="share"' in response.content.decode()
    assert "Revoked" in response.content.decode()


def test_bad_share_form_input_creates_nothing(owner_client, complete_assessment):
    response, url = create_link_via_page(owner_client, complete_assessment, expiry="forever")
    assert response.status_code == 422
    assert url is None
    response, _ = create_link_via_page(owner_client, complete_assessment, label="x" * 500)
    assert response.status_code == 422
    assert not ShareLink.objects.exists()


def test_other_users_and_anonymous_cannot_create_list_or_revoke_links(
    complete_assessment, other_user
):
    link, _ = create_share_link(complete_assessment, label="secret label")
    client = Client()
    client.force_login(other_user)
    assert client.post(reverse("share_create", args=[complete_assessment.pk])).status_code == 404
    revoke = reverse("share_revoke", args=[complete_assessment.pk, link.pk])
    assert client.post(revoke).status_code == 404
    assert Client().post(revoke).status_code == 302  # to the login page
    link.refresh_from_db()
    assert link.revoked_at is None
    assert ShareLink.objects.count() == 1


def test_a_link_of_one_assessment_cannot_be_revoked_through_another(
    owner_client, owner, complete_assessment
):
    other = V1AssessmentFactory(project__owner=owner, project__name="Other")
    link, _ = create_share_link(complete_assessment)
    revoke = reverse("share_revoke", args=[other.pk, link.pk])
    assert owner_client.post(revoke).status_code == 404


def test_repeated_bad_tokens_from_one_client_are_refused(settings, complete_assessment):
    settings.SHARE_BAD_TOKEN_LIMIT = 5
    _, token = create_share_link(complete_assessment)
    client = Client(REMOTE_ADDR="203.0.113.9")
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        for attempt in range(5):
            assert client.get(reverse("shared_report", args=[f"guess{attempt}"])).status_code == 404
    with time_machine.travel(start + timedelta(seconds=60), tick=False):
        refused = client.get(reverse("shared_report", args=[token]))
    assert refused.status_code == 429
    assert refused["Retry-After"] == str(settings.SHARE_BAD_TOKEN_WINDOW - 60)  # the time left
    assert_shared_headers(refused)
    # Another client is not affected.
    assert (
        Client(REMOTE_ADDR="198.51.100.7").get(reverse("shared_report", args=[token])).status_code
        == 200
    )


def test_shared_link_is_not_a_way_into_the_owner_pages(complete_assessment):
    _, token = create_share_link(complete_assessment)
    client = Client()
    assert client.get(reverse("shared_report", args=[token])).status_code == 200
    for name in ("report", "questionnaire", "memo"):
        response = client.get(reverse(name, args=[complete_assessment.pk]))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))


def test_a_link_is_stored_under_the_hash_of_its_token_only(complete_assessment):
    _, token = create_share_link(complete_assessment)
    assert ShareLink.objects.filter(token_hash=hash_token(token)).exists()
    assert not ShareLink.objects.filter(token_hash=token).exists()


def test_a_head_request_is_not_counted_as_a_view(complete_assessment):
    _, token = create_share_link(complete_assessment)
    assert Client().head(reverse("shared_report", args=[token])).status_code == 200
    assert ShareLink.objects.get().view_count == 0


# --- Revoking asks first, can be undone for a while, stays listed until dismissed -----------


def share_url(name, link):
    return reverse(name, args=[link.assessment_id, link.pk])


def panel_rows(page: str) -> str:
    match = re.search(r'<table class="table share-links">.*?</table>', page, re.S)
    return match.group(0) if match else ""


def report_page(client, assessment) -> str:
    return client.get(reverse("report", args=[assessment.pk])).content.decode()


def test_the_revoke_button_leads_to_a_confirmation_page_that_changes_nothing(
    owner_client, complete_assessment
):
    link, token = create_share_link(complete_assessment, label="for the CFO")
    page = report_page(owner_client, complete_assessment)
    # Without JavaScript the Revoke button is a GET form to the confirmation page.
    assert re.search(
        rf'<form method="get" action="{share_url("share_revoke", link)}"', panel_rows(page)
    )

    response = owner_client.get(share_url("share_revoke", link))

    page = response.content.decode()
    assert response.status_code == 200
    assert "Revoke “for the CFO”?" in page
    assert re.search(rf'<form method="post" action="{share_url("share_revoke", link)}"', page)
    assert "csrfmiddlewaretoken" in page and "Yes, revoke" in page
    assert "10 minutes" in page  # how long it can be undone
    assert reverse("report", args=[complete_assessment.pk]) + "#share" in page  # Cancel
    link.refresh_from_db()
    assert link.revoked_at is None
    assert Client().get(reverse("shared_report", args=[token])).status_code == 200


def test_over_htmx_the_confirm_step_is_rendered_in_the_panel(owner_client, complete_assessment):
    link, _ = create_share_link(complete_assessment, label="for legal")
    other, _ = create_share_link(complete_assessment, label="for ops")

    response = owner_client.get(share_url("share_revoke", link), headers={"HX-Request": "true"})

    page = response.content.decode()
    assert response.status_code == 200
    assert page.lstrip().startswith('<section id="share"')  # the panel only
    assert "HX-Request" in response["Vary"]
    assert page.count("Yes, revoke") == 1  # for this link only
    assert re.search(rf'hx-post="{share_url("share_revoke", link)}"', page)
    assert re.search(rf'hx-get="{share_url("share_revoke", other)}"', page)
    assert "Cancel" in page and "window.confirm" not in page and "<script" not in page
    cancelled = owner_client.get(
        share_url("share_revoke", link) + "?cancel=1", headers={"HX-Request": "true"}
    )
    assert cancelled.status_code == 200 and "Yes, revoke" not in cancelled.content.decode()
    link.refresh_from_db()
    assert link.revoked_at is None


def test_confirming_a_link_already_revoked_goes_back_to_the_panel(
    owner_client, complete_assessment
):
    link, _ = create_share_link(complete_assessment)
    revoke_share_link(link)
    response = owner_client.get(share_url("share_revoke", link))
    assert response.status_code == 302
    assert response["Location"] == reverse("report", args=[complete_assessment.pk]) + "#share"


def test_a_revoked_link_stays_listed_with_undo_and_dismiss(owner_client, complete_assessment):
    link, _ = create_share_link(complete_assessment, label="for the CFO")
    response = owner_client.post(share_url("share_revoke", link), follow=True)
    page = response.content.decode()
    assert "You can undo this for 10 minutes" in page
    rows = panel_rows(page)
    link.refresh_from_db()
    assert f"Revoked {timezone.localtime(link.revoked_at):%-d %b %Y}" in rows
    assert f'action="{share_url("share_undo", link)}"' in rows
    assert f'action="{share_url("share_dismiss", link)}"' in rows


def test_undo_within_the_window_restores_the_same_link(owner_client, complete_assessment):
    link, token = create_share_link(complete_assessment, label="for the CFO")
    owner_client.post(share_url("share_revoke", link))
    assert Client().get(reverse("shared_report", args=[token])).status_code == 404

    with time_machine.travel(timezone.now() + timedelta(seconds=599), tick=False):
        response = owner_client.post(share_url("share_undo", link), follow=True)

    assert "restored: the same link works again" in response.content.decode()
    link.refresh_from_db()
    assert link.revoked_at is None and link.dismissed_at is None
    assert resolve_token(token) == link
    assert Client().get(reverse("shared_report", args=[token])).status_code == 200
    rows = panel_rows(response.content.decode())
    assert "Revoked" not in rows and share_url("share_revoke", link) in rows


def test_undo_over_htmx_swaps_the_panel(owner_client, complete_assessment):
    link, token = create_share_link(complete_assessment, label="for legal")
    owner_client.post(share_url("share_revoke", link), headers={"HX-Request": "true"})
    response = owner_client.post(share_url("share_undo", link), headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert 'id="share"' in response.content.decode()
    assert resolve_token(token) == ShareLink.objects.get(pk=link.pk)


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_undo_after_the_window_is_refused_and_changes_nothing(
    owner_client, complete_assessment, htmx
):
    link, token = create_share_link(complete_assessment, label="for the CFO")
    revoke_share_link(link)
    before = ShareLink.objects.filter(pk=link.pk).values().get()
    headers = {"HX-Request": "true"} if htmx else {}

    with time_machine.travel(link.revoked_at + timedelta(seconds=600), tick=False):
        response = owner_client.post(share_url("share_undo", link), headers=headers)
        if not htmx:
            assert response.status_code == 302
            response = owner_client.get(response["Location"])
        page = response.content.decode()

    assert response.status_code == (409 if htmx else 200)
    assert "Too late to undo" in page and "10 minutes" in page
    assert ShareLink.objects.filter(pk=link.pk).values().get() == before
    assert Client().get(reverse("shared_report", args=[token])).status_code == 404
    # It is still listed, no longer with Undo, still with Dismiss.
    rows = panel_rows(page)
    assert "Revoked" in rows
    assert share_url("share_undo", link) not in rows
    assert share_url("share_dismiss", link) in rows


def test_the_undo_window_is_the_setting(settings, owner_client, complete_assessment):
    settings.SHARE_UNDO_SECONDS = 60
    link, _ = create_share_link(complete_assessment)
    revoke_share_link(link)
    with time_machine.travel(link.revoked_at + timedelta(seconds=61), tick=False):
        response = owner_client.post(share_url("share_undo", link), follow=True)
    assert "restored for 1 minute only" in response.content.decode()
    link.refresh_from_db()
    assert link.revoked_at is not None


def test_dismissing_hides_a_revoked_link_for_good(owner_client, complete_assessment):
    link, token = create_share_link(complete_assessment, label="old one")
    create_share_link(complete_assessment, label="kept")
    revoke_share_link(link)

    response = owner_client.post(share_url("share_dismiss", link), follow=True)

    page = response.content.decode()
    assert "dismissed from the list" in page
    assert "old one" not in panel_rows(page) and "kept" in panel_rows(page)
    link.refresh_from_db()
    assert link.dismissed_at is not None and link.revoked_at is not None
    # A dismissed link cannot be undone, even inside the window.
    before = ShareLink.objects.filter(pk=link.pk).values().get()
    refused = owner_client.post(share_url("share_undo", link), follow=True)
    assert "was dismissed: it cannot be restored" in refused.content.decode()
    assert ShareLink.objects.filter(pk=link.pk).values().get() == before
    assert Client().get(reverse("shared_report", args=[token])).status_code == 404


def test_dismissing_the_only_link_removes_the_table(owner_client, complete_assessment):
    link, _ = create_share_link(complete_assessment, label="old one")
    revoke_share_link(link)
    response = owner_client.post(share_url("share_dismiss", link), headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert panel_rows(response.content.decode()) == ""


@pytest.mark.parametrize("name", ["share_undo", "share_dismiss"])
def test_undo_and_dismiss_of_an_active_link_are_refused(owner_client, complete_assessment, name):
    link, token = create_share_link(complete_assessment)
    before = ShareLink.objects.filter(pk=link.pk).values().get()
    response = owner_client.post(share_url(name, link), headers={"HX-Request": "true"})
    assert response.status_code == 409
    assert 'role="alert"' in response.content.decode()
    assert ShareLink.objects.filter(pk=link.pk).values().get() == before
    assert resolve_token(token) == link


@pytest.mark.parametrize("name", ["share_revoke", "share_undo", "share_dismiss"])
def test_other_users_get_404_for_confirm_undo_and_dismiss(complete_assessment, other_user, name):
    link, _ = create_share_link(complete_assessment, label="secret label")
    if name != "share_revoke":
        revoke_share_link(link)
    before = list(ShareLink.objects.values())
    client = Client()
    client.force_login(other_user)
    url = share_url(name, link)
    assert client.post(url).status_code == 404
    assert client.post(url, headers={"HX-Request": "true"}).status_code == 404
    assert client.get(url).status_code == (404 if name == "share_revoke" else 405)
    assert Client().post(url).status_code == 302  # to the login page
    assert list(ShareLink.objects.values()) == before


@pytest.mark.parametrize("name", ["share_undo", "share_dismiss"])
def test_undo_and_dismiss_only_through_the_links_own_assessment(
    owner_client, owner, complete_assessment, name
):
    other = V1AssessmentFactory(project__owner=owner, project__name="Other")
    link, _ = create_share_link(complete_assessment)
    revoke_share_link(link)
    before = list(ShareLink.objects.values())
    assert owner_client.post(reverse(name, args=[other.pk, link.pk])).status_code == 404
    assert list(ShareLink.objects.values()) == before


@pytest.mark.parametrize("name", ["share_revoke", "share_undo", "share_dismiss"])
def test_revoke_undo_and_dismiss_need_the_csrf_token(owner, complete_assessment, name):
    link, _ = create_share_link(complete_assessment)
    if name != "share_revoke":
        revoke_share_link(link)
    before = list(ShareLink.objects.values())
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    assert client.post(share_url(name, link)).status_code == 403
    assert list(ShareLink.objects.values()) == before


# --- What a link shows: a snapshot (the default), a milestone saved earlier, the latest ------


def shared_page(token) -> str:
    return Client().get(reverse("shared_report", args=[token])).content.decode()


def token_of(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[-1]


def test_a_new_link_shows_a_snapshot_that_later_edits_do_not_change(
    owner_client, owner, complete_assessment
):
    response, url = create_link_via_page(owner_client, complete_assessment, label="for the CFO")
    assert response.status_code == 200
    link = ShareLink.objects.get()
    milestone = link.milestone
    assert milestone is not None and link.is_snapshot
    assert milestone.name == "Shared: for the CFO"
    assert milestone.created_by == owner
    assert milestone.answers == stored_answers(complete_assessment)

    set_answers(complete_assessment, {"behavior_needs": ["none"]})  # now RAG, not Hybrid
    assert "Use RAG" in pdf_text(
        owner_client.get(reverse("memo", args=[complete_assessment.pk])).content
    )

    page = shared_page(token_of(url))
    assert "A snapshot: “Shared: for the CFO”, saved" in page
    assert "Later edits to the project do not change this page." in page
    assert "Hybrid" in page and "always shows the latest answers" not in page
    memo = Client().get(reverse("shared_memo", args=[token_of(url)]))
    assert memo.status_code == 200
    assert "Use Hybrid" in pdf_text(memo.content)


def test_a_link_to_the_latest_answers_follows_edits_and_says_so(owner_client, complete_assessment):
    _, url = create_link_via_page(owner_client, complete_assessment, shows="latest")
    link = ShareLink.objects.get()
    assert link.milestone is None and not link.is_snapshot
    assert not Milestone.objects.exists()
    page = shared_page(token_of(url))
    assert "This page always shows the latest answers. They last changed" in page
    assert "Hybrid" in page

    set_answers(complete_assessment, {"behavior_needs": ["none"]})

    page = shared_page(token_of(url))
    changed = timezone.localtime(loaded(complete_assessment).answers_changed_at)
    assert f"They last changed {changed:%-d %b %Y, %H:%M}" in page
    assert "Use RAG" in pdf_text(Client().get(reverse("shared_memo", args=[token_of(url)])).content)


def test_a_link_may_show_a_milestone_saved_earlier(owner_client, owner, complete_assessment):
    earlier = create_milestone(complete_assessment, name="Board review", by=owner)
    set_answers(complete_assessment, {"behavior_needs": ["none"]})
    page = report_page(owner_client, complete_assessment)
    assert f'<option value="m{earlier.pk}">Board review, ' in page

    _, url = create_link_via_page(owner_client, complete_assessment, shows=f"m{earlier.pk}")

    assert ShareLink.objects.get().milestone == earlier
    assert Milestone.objects.count() == 1  # no new snapshot
    page = shared_page(token_of(url))
    assert "A snapshot: “Board review”" in page and "Hybrid" in page


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_a_milestone_of_another_assessment_is_refused_naming_the_field(
    owner_client, owner, complete_assessment, complete_answers, htmx
):
    other = V1AssessmentFactory(project__owner=owner, answers=complete_answers)
    foreign = create_milestone(other, name="Other project's")
    headers = {"HX-Request": "true"} if htmx else {}

    response = owner_client.post(
        reverse("share_create", args=[complete_assessment.pk]),
        {"label": "", "expiry": "never", "shows": f"m{foreign.pk}"},
        headers=headers,
    )

    assert response.status_code == 422
    page = response.content.decode()
    field = re.search(r'<div class="field field-invalid">.*?</div>\s*</div>', page, re.S)
    assert field and "What the link shows" in field.group(0)
    assert "Select a valid choice" in field.group(0)
    assert not ShareLink.objects.exists()
    assert list(Milestone.objects.all()) == [foreign]
    with pytest.raises(ValueError):
        create_share_link(complete_assessment, milestone=foreign)
    assert not ShareLink.objects.exists()


def test_a_link_and_its_snapshot_are_made_together_or_not_at_all(complete_assessment, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(ShareLink.objects, "create", broken)
    with pytest.raises(RuntimeError):
        create_share_link(complete_assessment, label="for the CFO")
    assert not Milestone.objects.exists()


def shows_cell(page: str, label: str) -> str:
    row = re.search(rf"<th scope=\"row\">{re.escape(label)}</th>(.*?)</tr>", panel_rows(page), re.S)
    assert row, label
    cell = re.search(
        r'<td data-label="Shows" class="share-shows">(.*?)</td>\s*<td>', row.group(1), re.S
    )
    assert cell, row.group(1)
    return cell.group(1)


def test_the_list_says_what_each_link_shows_and_whether_the_project_changed_since(
    owner_client, owner, complete_assessment, complete_answers
):
    snapshot, _ = create_share_link(complete_assessment, label="snap")
    create_share_link(complete_assessment, label="live", milestone=None)
    page = report_page(owner_client, complete_assessment)
    assert "Snapshot “Shared: snap”" in shows_cell(page, "snap")
    assert "unchanged since" in shows_cell(page, "snap")
    assert "changed since this snapshot" not in shows_cell(page, "snap")
    changed_at = timezone.localtime(loaded(complete_assessment).answers_changed_at)
    assert f"Shows the latest answers (last changed {changed_at:%-d %b %Y, %H:%M})" in shows_cell(
        page, "live"
    )

    set_answers(complete_assessment, {"behavior_needs": ["none"]})

    cell = shows_cell(report_page(owner_client, complete_assessment), "snap")
    assert "The project has changed since this snapshot" in cell
    compare = reverse("project_compare", args=[complete_assessment.project_id])
    query = f"left=m{snapshot.milestone_id}&right=a{complete_assessment.pk}"
    assert f'href="{compare}?{query.replace("&", "&amp;")}"' in cell
    # The link opens the comparison of that snapshot (not the page's default pair).
    compared = owner_client.get(f"{compare}?{query}").content.decode()
    assert f'<option value="m{snapshot.milestone_id}" selected>' in compared


def test_a_newer_assessment_of_the_project_means_the_project_changed_since(
    owner_client, complete_assessment, complete_answers
):
    snapshot, _ = create_share_link(complete_assessment, label="snap")
    with time_machine.travel(timezone.now() + timedelta(minutes=5)):
        newer = V1AssessmentFactory(project=complete_assessment.project, answers=complete_answers)
    cell = shows_cell(report_page(owner_client, complete_assessment), "snap")
    assert "The project has changed since this snapshot" in cell
    assert f"?left=m{snapshot.milestone_id}&amp;right=a{newer.pk}" in cell


def test_the_share_panel_makes_as_many_queries_for_many_links_as_for_one(
    owner_client, complete_assessment, django_assert_max_num_queries
):
    create_share_link(complete_assessment, label="first")
    with CaptureQueriesContext(connection) as one:
        report_page(owner_client, complete_assessment)
    for n in range(5):
        create_share_link(complete_assessment, label=f"snap {n}")
        create_share_link(complete_assessment, label=f"live {n}", milestone=None)
    with django_assert_max_num_queries(len(one)):
        page = report_page(owner_client, complete_assessment)
    assert page.count("unchanged since") == 6


def test_a_link_to_the_latest_answers_follows_the_project_to_a_new_assessment(
    owner_client, owner, complete_v2_answers
):
    """A link to "always the latest answers" shows the project's: after a new assessment is started
    and changed, the link shows (and takes responses to) the new answers, and the older
    assessment's list of links says where the link now looks."""
    project = ProjectFactory(owner=owner)
    first = AssessmentFactory(project=project, answers=complete_v2_answers)
    _, token = create_share_link(first, label="live", milestone=None)
    with time_machine.travel(timezone.now() + timedelta(minutes=5)):
        second = start_assessment(project)
        set_answers(second, {"eval_set": "large"})

    page = Client().get(reverse("shared_report", args=[token])).content.decode()
    cell = shows_cell(report_page(owner_client, first), "live")

    large = load_rubric("v2").questions["eval_set"].describe("large")
    assert large in page
    assert "now those of" in cell and reverse("report", args=[second.pk]) in cell
