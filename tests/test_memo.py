"""The PDF decision memo: content, the store of rendered memos, safety and access."""

import io
import re
import threading
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from assessments import pdf as memo_module
from assessments.access import get_example_assessment
from assessments.examples import load_examples
from assessments.milestones import create_milestone
from assessments.models import Project, RenderedMemo
from assessments.pdf import (
    STATIC_BASE,
    RefusedURL,
    StaticOnlyFetcher,
    content_key,
    memo_filename,
    memo_pdf,
    prune_memos,
    static_bytes,
)
from assessments.services import evaluate_assessment
from tests.factories import ProjectFactory, V1AssessmentFactory, loaded, set_answers
from tests.test_concurrency import run_together

pytestmark = pytest.mark.django_db

SECTION_HEADINGS = [
    "Decision memo:",
    "1. Decision",
    "2. Context",
    "3. Decision drivers",
    "4. Options considered",
    "5. Rationale",
    "6. Risks and warnings",
    "7. What would change the decision",
    "8. Next steps",
    "Appendix: every answer",
]


@pytest.fixture
def memo_assessment(owner, complete_answers):
    """A complete assessment of a project whose name and description the memo must show."""
    return V1AssessmentFactory(
        project__owner=owner,
        project__name="Support Bot 2",
        project__description="Answers customers in our brand voice.",
        answers=complete_answers,
    )


def pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages)


def render(assessment) -> bytes:
    """The memo of the assessment as stored now, loaded as the memo views load it."""
    assessment = loaded(assessment)
    return memo_pdf(assessment, evaluate_assessment(assessment))


def test_memo_has_the_verdict_project_every_section_and_the_answers(memo_assessment):
    data = render(memo_assessment)
    assert data.startswith(b"%PDF")
    text = pdf_text(data)
    for heading in SECTION_HEADINGS:
        assert heading in text
    assert "Support Bot 2" in text
    assert "Use Hybrid" in text
    assert "Answers customers in our brand voice." in text
    for answer in ("Products, prices, a catalog", "Brand voice or tone", "1,000 or more"):
        assert answer in text
    assert "Rubric v1" in text
    assert re.search(r"Page 1 of \d", text)


def test_memo_embeds_its_fonts_and_draws_the_chart_as_vectors(memo_assessment):
    reader = PdfReader(io.BytesIO(render(memo_assessment)))
    fonts = []
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"]
            fonts.append(("/FontFile2" in descriptor, font["/BaseFont"]))
    assert fonts and all(embedded for embedded, _ in fonts)
    assert not any("/XObject" in page["/Resources"] and any(
        x.get_object()["/Subtype"] == "/Image" for x in page["/Resources"]["/XObject"].values()
    ) for page in reader.pages), "the chart is vector, not a bitmap"  # fmt: skip


def test_memo_is_rendered_once_per_content_and_a_changed_answer_makes_a_new_one(
    memo_assessment, monkeypatch
):
    calls = []
    real_render = memo_module.render_memo_pdf
    monkeypatch.setattr(
        memo_module, "render_memo_pdf", lambda ctx: calls.append(1) or real_render(ctx)
    )
    first = render(memo_assessment)
    assert render(memo_assessment) == first
    assert len(calls) == 1

    set_answers(memo_assessment, {"behavior_needs": ["none"]})
    changed = pdf_text(render(memo_assessment))
    assert len(calls) == 2
    assert "Use RAG" in changed
    assert "Use Hybrid" not in changed


def test_a_changed_template_rubric_or_presenter_gives_every_memo_a_new_key(
    memo_assessment, monkeypatch, tmp_path
):
    """No version to remember to bump: a deploy that changes what a memo is made from never
    serves a memo stored from the old files."""
    source = tmp_path / "memo.html"
    source.write_text("<p>first</p>")
    monkeypatch.setattr(memo_module, "APP_DIR", tmp_path)
    monkeypatch.setattr(memo_module, "MEMO_SOURCES", ((tmp_path, "*.html"),))
    assessment = loaded(memo_assessment)
    evaluation = evaluate_assessment(assessment)

    def key() -> str:
        memo_module.memo_sources_digest.cache_clear()
        return memo_module.content_key(assessment, evaluation)

    try:
        first = key()
        assert key() == first
        source.write_text("<p>second</p>")
        assert key() != first
    finally:
        memo_module.memo_sources_digest.cache_clear()


@pytest.fixture
def renders(monkeypatch):
    """Counts the memo renders; each gives a small stand-in PDF (the layout is not the point)."""
    calls = []

    def counted(context) -> bytes:
        calls.append(context["project"].name)
        return b"%PDF-stub " + context["project"].name.encode()

    monkeypatch.setattr(memo_module, "render_memo_pdf", counted)
    return calls


def test_a_rendered_memo_is_stored_in_the_database_under_its_content_key(memo_assessment, renders):
    assessment = loaded(memo_assessment)
    key = content_key(assessment, evaluate_assessment(assessment))
    pdf = render(memo_assessment)
    stored = RenderedMemo.objects.get()
    assert (stored.key, bytes(stored.pdf)) == (key, pdf)
    assert len(key) == 64 and int(key, 16) >= 0  # a SHA-256 in hex


def test_a_memo_stored_by_another_process_is_served_without_rendering(memo_assessment, renders):
    assessment = loaded(memo_assessment)
    key = content_key(assessment, evaluate_assessment(assessment))
    RenderedMemo.objects.create(key=key, pdf=b"%PDF rendered elsewhere")
    assert render(memo_assessment) == b"%PDF rendered elsewhere"
    assert renders == []


def test_changed_memo_files_never_serve_the_old_memo(memo_assessment, renders, monkeypatch):
    """A deploy that changes a template or the stylesheet changes memo_sources_digest(), so
    the same content has a new key: the memo is rendered again, the old row is not served."""
    render(memo_assessment)
    monkeypatch.setattr(memo_module, "memo_sources_digest", lambda: "a changed memo.css")
    RenderedMemo.objects.update(pdf=b"%PDF made by the old templates")
    assert render(memo_assessment) != b"%PDF made by the old templates"
    assert len(renders) == 2 and RenderedMemo.objects.count() == 2


def test_memos_not_served_for_the_keep_days_are_pruned_when_one_is_stored(
    owner, complete_answers, renders, settings
):
    settings.MEMO_KEEP_DAYS = 30
    old, recent, new = (
        V1AssessmentFactory(project__owner=owner, project__name=name, answers=complete_answers)
        for name in ("old", "recent", "new")
    )
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        render(old)
    with time_machine.travel(start + timedelta(days=10), tick=False):
        render(recent)
    with time_machine.travel(start + timedelta(days=30, seconds=1), tick=False):
        render(new)
    assert sorted(bytes(m.pdf) for m in RenderedMemo.objects.all()) == [
        b"%PDF-stub new",
        b"%PDF-stub recent",
    ]


def test_at_most_the_keep_count_most_recently_served_memos_are_kept(
    owner, complete_answers, renders, settings
):
    settings.MEMO_KEEP_COUNT = 2
    first, second, third = (
        V1AssessmentFactory(project__owner=owner, project__name=name, answers=complete_answers)
        for name in ("first", "second", "third")
    )
    start = timezone.now()
    for day, assessment in enumerate((first, second)):
        with time_machine.travel(start + timedelta(days=day), tick=False):
            render(assessment)
    with time_machine.travel(start + timedelta(days=2), tick=False):
        render(first)  # served again: now the most recently served
        render(third)
    kept = sorted(bytes(m.pdf) for m in RenderedMemo.objects.all())
    assert kept == [b"%PDF-stub first", b"%PDF-stub third"]


def test_serving_a_memo_notes_it_at_most_once_a_day(memo_assessment, renders):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        render(memo_assessment)
    with time_machine.travel(start + timedelta(hours=23), tick=False):
        render(memo_assessment)
        assert RenderedMemo.objects.get().last_served_at == start
    with time_machine.travel(start + timedelta(days=1), tick=False):
        render(memo_assessment)
        assert RenderedMemo.objects.get().last_served_at == start + timedelta(days=1)
    prune_memos(start + timedelta(days=30))
    assert RenderedMemo.objects.count() == 1  # served 29 days before: kept


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL's concurrency")
@pytest.mark.django_db(transaction=True)
def test_two_processes_rendering_the_same_memo_at_once_both_get_it(complete_answers, monkeypatch):
    """Both miss the store, both render, both store: the second insert is no error."""
    assessment = V1AssessmentFactory(project__name="Raced", answers=complete_answers)
    both_rendered = threading.Barrier(2, timeout=30)

    def render_in_step(context) -> bytes:
        both_rendered.wait()  # neither stores before both have looked and missed
        return b"%PDF-stub raced"

    monkeypatch.setattr(memo_module, "render_memo_pdf", render_in_step)
    outcomes = run_together([lambda: render(assessment)] * 2)
    assert outcomes == [("ok", b"%PDF-stub raced")] * 2
    assert RenderedMemo.objects.count() == 1


def test_the_memo_sources_cover_the_rubrics_templates_stylesheet_and_code():
    memo_module.memo_sources_digest.cache_clear()
    files = {path.name for root, pattern in memo_module.MEMO_SOURCES for path in root.glob(pattern)}
    assert {"v1.toml", "v2.toml", "memo.html", "memo_v2.html", "memo.css", "presenters.py"} <= files


def test_project_text_is_escaped_and_cannot_make_the_renderer_fetch(owner, complete_answers):
    hostile = (
        '<img src="file:///etc/passwd"><link rel="stylesheet" href="http://example.com/x.css">'
        "<style>@import url(file:///etc/hostname);</style>"
    )
    project = ProjectFactory(owner=owner, name="<b>Bold</b> & co", description=hostile)
    assessment = V1AssessmentFactory(project=project, answers=complete_answers)
    fetched = []
    real_fetch = StaticOnlyFetcher.fetch

    def spy(self, url, headers=None):
        fetched.append(url)
        return real_fetch(self, url, headers)

    original = StaticOnlyFetcher.fetch
    StaticOnlyFetcher.fetch = spy
    try:
        text = pdf_text(render(assessment))
    finally:
        StaticOnlyFetcher.fetch = original
    assert fetched and all(url.startswith(STATIC_BASE) for url in fetched)
    assert "<b>Bold</b> & co" in text
    assert "file:///etc/passwd" in text  # shown as text, never loaded


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "http://example.com/evil.css",
        "https://advisor-static.invalid.evil.com/static/css/memo.css",
        STATIC_BASE + "../../settings.py",
        STATIC_BASE + "/etc/passwd",
        STATIC_BASE + "does/not/exist.css",
        "data:text/css,body{}",
    ],
)
def test_the_fetcher_refuses_anything_but_our_static_files(url):
    with pytest.raises(RefusedURL):
        static_bytes(url)
    with pytest.raises(RefusedURL):
        StaticOnlyFetcher().fetch(url)


def test_the_fetcher_serves_our_static_files():
    response = StaticOnlyFetcher().fetch(STATIC_BASE + "css/memo.css")
    assert b"@page" in response.read()
    assert response.content_type == "text/css"


def test_filename_is_project_slug_memo_and_date(memo_assessment):
    today = timezone.localdate()
    assert memo_filename(memo_assessment, today) == f"support-bot-2-decision-memo-{today}.pdf"


def test_a_milestones_memo_is_named_after_the_milestone_too(memo_assessment):
    """Two milestones' memos downloaded the same day must not overwrite each other."""
    today = timezone.localdate()
    board = create_milestone(loaded(memo_assessment), name="Board review: Q3")
    assert memo_filename(board, today) == f"support-bot-2-board-review-q3-decision-memo-{today}.pdf"


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        # 89 characters of words: the whole slug up to 80, cut after the last whole word.
        (
            "Customer support assistant for enterprise accounts in regulated markets across Europe",
            "customer-support-assistant-for-enterprise-accounts-in-regulated-markets-across",
        ),
        ("x" * 100, "x" * 80),  # one word longer than the limit: cut at the limit
        ("Short name", "short-name"),
        ("✓✓✓", "project"),
    ],
)
def test_a_long_project_name_keeps_its_words_up_to_a_sensible_length(name, slug):
    today = timezone.localdate()
    assessment = V1AssessmentFactory(project__name=name)
    assert memo_filename(assessment, today) == f"{slug}-decision-memo-{today}.pdf"


def test_the_memo_states_the_decision_as_proposed_and_readiness_apart(memo_assessment):
    text = pdf_text(render(memo_assessment))
    assert "Status: Proposed" in text
    assert "Readiness: Ready" in text


def test_owner_downloads_the_memo_and_others_get_404(memo_assessment, owner, other_user):
    url = reverse("memo", args=[memo_assessment.pk])
    client = Client()
    client.force_login(owner)
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        f'attachment; filename="support-bot-2-decision-memo-{timezone.localdate()}.pdf"'
    )
    client.force_login(other_user)
    assert client.get(url).status_code == 404
    assert Client().get(url).status_code == 302


def test_incomplete_assessment_has_no_memo(owner_client, assessment):
    assert owner_client.get(reverse("memo", args=[assessment.pk])).status_code == 404


def test_example_memo_is_public():
    load_examples()
    response = Client().get(reverse("example_memo", args=["support-bot"]))
    assert response.status_code == 200
    assert "Use Hybrid" in pdf_text(response.content)


FOOTER_LINES = 2  # the running footer: project name, page number
MIN_LINES_ON_THE_LAST_PAGE = 6


def test_no_memo_ends_on_a_page_of_a_few_stray_lines(db):
    """Every worked example, v1 and v2: the last page carries a real part of the memo (the
    last rows of the appendix move over together), never two or three stray lines."""
    load_examples()
    for project in Project.objects.examples():
        assessment = get_example_assessment(project.example_key)
        pages = PdfReader(io.BytesIO(render(assessment))).pages
        lines = [line for line in pages[-1].extract_text().splitlines() if line.strip()]
        assert len(lines) - FOOTER_LINES >= MIN_LINES_ON_THE_LAST_PAGE, (project.example_key, lines)
