"""Share links: read-only reports by unguessable link, revocable, expiring, rate limited."""

import hashlib
import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from assessments.models import Answer, ShareLink
from assessments.sharing import create_share_link, hash_token, resolve_token
from tests.factories import AssessmentFactory

pytestmark = pytest.mark.django_db

SHARED_HEADERS = {
    "Referrer-Policy": "no-referrer",
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
    _, token = create_share_link(complete_assessment, label="for the board")
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
    other = AssessmentFactory(project__owner=owner, project__name="Other")
    link, _ = create_share_link(complete_assessment)
    revoke = reverse("share_revoke", args=[other.pk, link.pk])
    assert owner_client.post(revoke).status_code == 404


def test_repeated_bad_tokens_from_one_client_are_refused(settings, complete_assessment):
    settings.SHARE_BAD_TOKEN_LIMIT = 5
    _, token = create_share_link(complete_assessment)
    client = Client(REMOTE_ADDR="203.0.113.9")
    for attempt in range(5):
        assert client.get(reverse("shared_report", args=[f"guess{attempt}"])).status_code == 404
    refused = client.get(reverse("shared_report", args=[token]))
    assert refused.status_code == 429
    assert refused["Retry-After"] == str(settings.SHARE_BAD_TOKEN_WINDOW)
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
        assert response["Location"].startswith(reverse("login"))


def test_a_link_is_stored_under_the_hash_of_its_token_only(complete_assessment):
    _, token = create_share_link(complete_assessment)
    assert ShareLink.objects.filter(token_hash=hash_token(token)).exists()
    assert not ShareLink.objects.filter(token_hash=token).exists()


def test_a_head_request_is_not_counted_as_a_view(complete_assessment):
    _, token = create_share_link(complete_assessment)
    assert Client().head(reverse("shared_report", args=[token])).status_code == 200
    assert ShareLink.objects.get().view_count == 0
