"""Share-token guessing, imports and memo renders are limited by quotas counted in the
database (assessments.limits): a refused request gets 429 with the real wait, in Retry-After
and in words, and changes nothing; a window lasts exactly as long as it says, past the 300 s a
cache's default timeout once cut it to. The clock is moved, never waited for."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import QuotaCounter
from assessments import pdf
from assessments.models import Project, RenderedMemo, ShareLink
from assessments.sharing import create_share_link
from assessments.transfer import export_project
from tests.factories import ExampleProjectFactory, V1AssessmentFactory

pytestmark = pytest.mark.django_db

LIMIT = 2
WINDOW = 900
ADDRESS, OTHER_ADDRESS = "203.0.113.9", "198.51.100.7"


@pytest.fixture(autouse=True)
def small_quotas(settings):
    settings.SHARE_BAD_TOKEN_LIMIT = settings.IMPORT_LIMIT = settings.MEMO_RENDER_LIMIT = LIMIT
    settings.SHARE_BAD_TOKEN_WINDOW = settings.IMPORT_WINDOW = WINDOW
    settings.MEMO_RENDER_WINDOW = WINDOW


@pytest.fixture(autouse=True)
def quick_memos(monkeypatch):
    """Memos render their content key's project name only: the layout is test_memo.py's."""
    monkeypatch.setattr(pdf, "render_memo_pdf", lambda ctx: b"%PDF " + ctx["project"].name.encode())


@dataclass
class Limited:
    """One limited action: attempt(n) makes the n-th attempt (each one that counts: a new
    guess, import or memo), answered `allowed` unless refused."""

    attempt: Callable[[int], object]
    allowed: int
    refusal: str  # part of the message a refused client reads


def _upload(content: bytes) -> io.BytesIO:
    upload = io.BytesIO(content)
    upload.name = "export.json"
    return upload


@pytest.fixture
def export(complete_assessment) -> bytes:
    return json.dumps(export_project(complete_assessment.project)).encode()


@pytest.fixture
def complete_assessments(owner, complete_answers):
    """Assessments of distinct content (each memo a new render), by attempt number."""
    return [
        V1AssessmentFactory(project__owner=owner, project__name=f"P{n}", answers=complete_answers)
        for n in range(LIMIT + 3)
    ]


def share_guesses(client_for) -> Limited:
    client = client_for(ADDRESS)
    return Limited(
        lambda n: client.get(reverse("shared_report", args=[f"guess{n}"])),
        404,
        "Too many links from your network could not be found",
    )


def imports(owner_client, export) -> Limited:
    return Limited(
        lambda n: owner_client.post(reverse("project_import"), {"file": _upload(export)}),
        302,
        "Nothing was imported",
    )


def owner_memos(owner_client, assessments) -> Limited:
    return Limited(
        lambda n: owner_client.get(reverse("memo", args=[assessments[n].pk])),
        200,
        "Too many PDF memos were made",
    )


def shared_memos(client_for, assessments) -> Limited:
    tokens = [create_share_link(a)[1] for a in assessments]
    client = client_for(ADDRESS)
    return Limited(
        lambda n: client.get(reverse("shared_memo", args=[tokens[n]])),
        200,
        "Too many PDF memos were made",
    )


def example_memos(client_for, complete_answers) -> Limited:
    keys = []
    for n in range(LIMIT + 3):
        example = ExampleProjectFactory(name=f"Example {n}", example_key=f"example-{n}")
        V1AssessmentFactory(project=example, answers=complete_answers)
        keys.append(example.example_key)
    client = client_for(ADDRESS)
    return Limited(
        lambda n: client.get(reverse("example_memo", args=[keys[n]])),
        200,
        "Too many PDF memos were made",
    )


KINDS = ["share guesses", "imports", "owner memos", "shared memos", "example memos"]


@pytest.fixture
def client_for():
    return lambda address: Client(REMOTE_ADDR=address)


@pytest.fixture(params=KINDS)
def limited(request, client_for, owner_client, complete_answers) -> Limited:
    value = request.getfixturevalue
    return {
        "share guesses": lambda: share_guesses(client_for),
        "imports": lambda: imports(owner_client, value("export")),
        "owner memos": lambda: owner_memos(owner_client, value("complete_assessments")),
        "shared memos": lambda: shared_memos(client_for, value("complete_assessments")),
        "example memos": lambda: example_memos(client_for, complete_answers),
    }[request.param]()


def state() -> tuple:
    """What a refused request must leave as it was."""
    counters = sorted(QuotaCounter.objects.values_list("scope", "count"))
    return counters, Project.objects.count(), RenderedMemo.objects.count()


def test_past_the_limit_a_client_waits_the_real_time_left_and_nothing_is_done(limited):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        for n in range(LIMIT):
            assert limited.attempt(n).status_code == limited.allowed
        before = state()
    with time_machine.travel(start + timedelta(seconds=120), tick=False):
        refused = limited.attempt(LIMIT)
        assert refused.status_code == 429
        assert refused["Retry-After"] == str(WINDOW - 120)
        page = refused.content.decode()
        assert limited.refusal in page and "13 minutes" in page  # 780 s, rounded up
        assert state() == before


def test_a_window_outlasts_300_seconds_and_ends_exactly_when_it_says(limited):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        for n in range(LIMIT):
            limited.attempt(n)
    for n, (elapsed, wait) in enumerate([(301, WINDOW - 301), (WINDOW - 1, 1)], start=LIMIT):
        with time_machine.travel(start + timedelta(seconds=elapsed), tick=False):
            refused = limited.attempt(n)
            assert (refused.status_code, refused["Retry-After"]) == (429, str(wait))
    with time_machine.travel(start + timedelta(seconds=WINDOW), tick=False):
        assert limited.attempt(LIMIT + 2).status_code == limited.allowed


# --- Share tokens --------------------------------------------------------------------------


def test_a_refused_guesser_cannot_open_even_a_real_link_and_adds_no_view(
    client_for, complete_assessment
):
    link, token = create_share_link(complete_assessment)
    guesser = share_guesses(client_for)
    for n in range(LIMIT):
        guesser.attempt(n)
    refused = client_for(ADDRESS).get(reverse("shared_report", args=[token]))
    assert refused.status_code == 429
    assert refused["Referrer-Policy"] == "same-origin"  # still kept out of referrers
    assert ShareLink.objects.get(pk=link.pk).view_count == 0
    opened = client_for(OTHER_ADDRESS).get(reverse("shared_report", args=[token]))
    assert opened.status_code == 200  # another address is not affected


def test_opening_a_real_link_is_not_counted_as_a_guess(client_for, complete_assessment):
    _, token = create_share_link(complete_assessment)
    reader = client_for(ADDRESS)
    for _ in range(LIMIT + 2):
        assert reader.get(reverse("shared_report", args=[token])).status_code == 200


# --- Imports -------------------------------------------------------------------------------


def test_an_import_past_the_limit_is_refused_before_the_file_is_read(owner_client, export):
    for _ in range(LIMIT):
        imported = owner_client.post(reverse("project_import"), {"file": _upload(export)})
        assert imported.status_code == 302
    # Not even looked at: a file that is not JSON would otherwise get its 422.
    refused = owner_client.post(reverse("project_import"), {"file": _upload(b"not json")})
    assert refused.status_code == 429
    assert "not valid JSON" not in refused.content.decode()


def test_every_import_attempt_counts_even_a_refused_file(owner_client, export):
    for _ in range(LIMIT):
        bad = owner_client.post(reverse("project_import"), {"file": _upload(b"not json")})
        assert bad.status_code == 422
    assert (
        owner_client.post(reverse("project_import"), {"file": _upload(export)}).status_code == 429
    )


def test_imports_are_counted_per_user(owner_client, other_user, export):
    for _ in range(LIMIT):
        owner_client.post(reverse("project_import"), {"file": _upload(export)})
    other = Client(REMOTE_ADDR="127.0.0.1")  # the same address as the owner's client
    other.force_login(other_user)
    assert other.post(reverse("project_import"), {"file": _upload(export)}).status_code == 302


def test_the_import_page_itself_is_never_limited(owner_client, export):
    for _ in range(LIMIT):
        owner_client.post(reverse("project_import"), {"file": _upload(export)})
    assert owner_client.get(reverse("project_import")).status_code == 200


# --- Memo renders --------------------------------------------------------------------------


def test_a_memo_already_rendered_is_served_past_the_limit_and_not_counted(
    owner_client, complete_assessments
):
    memos = owner_memos(owner_client, complete_assessments)
    for n in range(LIMIT):
        memos.attempt(n)
    before = state()
    again = memos.attempt(0)
    assert again.status_code == 200 and again.content == b"%PDF P0"
    assert state() == before
    assert memos.attempt(LIMIT).status_code == 429


def test_memo_renders_of_shared_links_are_counted_per_address(client_for, complete_assessments):
    memos = shared_memos(client_for, complete_assessments)
    for n in range(LIMIT):
        memos.attempt(n)
    assert memos.attempt(LIMIT).status_code == 429
    token = create_share_link(complete_assessments[LIMIT])[1]
    other = client_for(OTHER_ADDRESS).get(reverse("shared_memo", args=[token]))
    assert other.status_code == 200


def test_an_owners_renders_do_not_use_up_anyone_elses(
    owner_client, complete_assessments, client_for
):
    memos = owner_memos(owner_client, complete_assessments)
    for n in range(LIMIT):
        memos.attempt(n)
    token = create_share_link(complete_assessments[LIMIT])[1]
    assert client_for("127.0.0.1").get(reverse("shared_memo", args=[token])).status_code == 200
