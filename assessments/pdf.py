"""The PDF decision memo: our template rendered by WeasyPrint, stored in the database by
content (RenderedMemo), so every web process serves a memo rendered by any of them.

WeasyPrint may fetch only our own static files: the fetcher below serves them from disk and
refuses every other URL, so nothing a user types can make the server read a file or call out.
"""

from __future__ import annotations

import hashlib
import json
import mimetypes
from collections.abc import Callable
from datetime import date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.text import slugify
from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

from assessments.milestones import superseded_by
from assessments.models import Assessment, Milestone, RenderedMemo, SignOff
from assessments.numbers import numbers_view
from assessments.presenters import present_report
from assessments.services import Evaluation
from assessments.sharing import matching_sign_offs

MEMO_TEMPLATE = "assessments/memo.html"
# The memo's template by the engine of the rubric the assessment was scored with.
MEMO_TEMPLATES = {"weights": MEMO_TEMPLATE, "lanes": "assessments/memo_v2.html"}
# What a memo is made from besides its answers and project: the code that presents it, the
# rubrics' texts, the templates and the stylesheet. Their digest is part of every memo's key,
# so a deploy that changes any of them never serves a memo made by the old ones.
APP_DIR = Path(__file__).resolve().parent
MEMO_SOURCES = (
    (APP_DIR, "**/*.py"),
    (APP_DIR / "rubric", "*.toml"),
    (APP_DIR / "estimator", "*.toml"),
    (APP_DIR / "pricing", "*.toml"),
    (APP_DIR.parent / "templates", "**/*.html"),
    (APP_DIR.parent / "templates", "**/*.svg"),
    (APP_DIR.parent / "static" / "css", "memo.css"),
)
# The answers that frame the decision, shown in the memo's "Context".
KEY_ANSWER_IDS = (
    "knowledge_needs", "behavior_needs", "knowledge_change", "kb_state", "labeled_examples",
    "prompt_baseline", "retrieval_possible", "latency", "budget", "attribution", "regulated",
)  # fmt: skip
# A base URL that resolves nowhere: relative URLs in the memo become STATIC_BASE + path.
STATIC_BASE = "https://advisor-static.invalid/static/"


class RefusedURL(ValueError):
    pass


class StaticOnlyFetcher(URLFetcher):
    """Serves `STATIC_BASE/<path>` from our static files; refuses everything else."""

    def __init__(self) -> None:
        super().__init__(allowed_protocols=(), allow_redirects=False)

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
        return URLFetcherResponse(url, body=static_bytes(url), headers={
            "Content-Type": mimetypes.guess_type(url)[0] or "application/octet-stream"
        })  # fmt: skip


def static_bytes(url: str) -> bytes:
    if not url.startswith(STATIC_BASE):
        raise RefusedURL(f"the memo may only load our static files, not {url[:80]!r}")
    relative = url[len(STATIC_BASE) :].split("?")[0].split("#")[0]
    if not relative or ".." in Path(relative).parts or relative.startswith("/"):
        raise RefusedURL(f"not a static file path: {relative[:80]!r}")
    found = finders.find(relative)
    if not found:
        raise RefusedURL(f"no such static file: {relative[:80]!r}")
    return Path(found).read_bytes()


def is_milestone(subject: Assessment | Milestone) -> bool:
    return isinstance(subject, Milestone)


def memo_sign_offs(subject: Assessment | Milestone) -> list[SignOff]:
    """The responses the memo's sign-off block lists: a milestone's own; for an assessment
    (loaded with answers), those given to its milestones that hold its current answers."""
    if is_milestone(subject):
        return list(subject.sign_offs.all())
    return matching_sign_offs(subject)


def memo_status(subject: Assessment | Milestone) -> str:
    """The ADR status in the memo's header: accepted only when the owner marked the
    milestone so."""
    accepted_at = getattr(subject, "accepted_at", None)
    if accepted_at is None:
        return "Proposed"
    status = f"Accepted ({date_format(timezone.localtime(accepted_at), 'j F Y')})"
    newer = superseded_by(subject)
    if newer is None:
        return status
    # Superseded first: a reader must not stop at "Accepted".
    when = date_format(timezone.localtime(newer.accepted_at), "j F Y")
    return f"Superseded by “{newer.name}” (accepted {when}); {status[0].lower()}{status[1:]}"


def memo_context(
    assessment: Assessment | Milestone,
    evaluation: Evaluation,
    sign_offs: list[SignOff] | None = None,
) -> dict[str, Any]:
    """What the memo templates read; `assessment` may be a milestone (it reads like one)."""
    result = evaluation.result
    assert result is not None, "a memo needs a complete assessment"
    answered_at = assessment.answers_changed_at or assessment.created_at
    if sign_offs is None:
        sign_offs = memo_sign_offs(assessment)
    return {
        "project": assessment.project,
        "assessment": assessment,
        "milestone": assessment if is_milestone(assessment) else None,
        "memo_status": memo_status(assessment),
        "sign_offs": sign_offs,
        "imported_sign_offs": any(s.imported for s in sign_offs),
        "report": present_report(
            result, evaluation.rubric, evaluation.answers, assessment.note_values
        ),
        "numbers": numbers_view(assessment, evaluation),
        "memo_template": MEMO_TEMPLATES[evaluation.rubric.engine],
        "memo_date": timezone.localtime(answered_at).date(),
        "answers_changed_at": answered_at,
        "key_answer_ids": KEY_ANSWER_IDS,
    }


@cache
def memo_sources_digest() -> str:
    """The digest of every file in MEMO_SOURCES (read once per process)."""
    digest = hashlib.sha256()
    for root, pattern in MEMO_SOURCES:
        for path in sorted(root.glob(pattern)):
            digest.update(str(path.relative_to(APP_DIR.parent)).encode() + b"\0")
            digest.update(path.read_bytes())
    return digest.hexdigest()


def content_key(
    assessment: Assessment | Milestone,
    evaluation: Evaluation,
    sign_offs: list[SignOff] | None = None,
) -> str:
    """Everything the memo shows and every file it is made from, hashed (64 hex digits):
    same key, same PDF. A milestone's memo never shares a key with its assessment's, and a
    new response (or the owner's acceptance) makes a new memo."""
    project = assessment.project
    if sign_offs is None:
        sign_offs = memo_sign_offs(assessment)
    payload = {
        "answers": evaluation.answers,
        "rubric": assessment.rubric_version,
        "price_book": assessment.price_book,
        "assumptions": assessment.assumptions,
        "sources": memo_sources_digest(),
        "project": [project.name, project.description],
        "changed": (assessment.answers_changed_at or assessment.created_at).isoformat(),
        "notes": assessment.note_values,
        "sign_offs": [
            [s.pk, s.name, s.role, s.decision, s.comment, s.created_at.isoformat(), s.imported]
            for s in sign_offs
        ],
    }
    if is_milestone(assessment):
        payload["milestone"] = [assessment.pk, assessment.name, memo_status(assessment)]
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode("utf-8")).hexdigest()


def render_memo_pdf(context: dict[str, Any]) -> bytes:
    html = render_to_string(context.get("memo_template", MEMO_TEMPLATE), context)
    return HTML(string=html, base_url=STATIC_BASE, url_fetcher=StaticOnlyFetcher()).write_pdf()


# How stale a stored memo's last_served_at may get: refreshing it on every download would
# turn each download into a write, and the retention is counted in days.
MEMO_SERVED_RESOLUTION = timedelta(days=1)


def stored_memo(key: str) -> bytes | None:
    """The memo stored under `key`, if any (noting that it was served, at most once a day)."""
    found = RenderedMemo.objects.filter(key=key).values_list("pdf", "last_served_at").first()
    if found is None:
        return None
    pdf, last_served_at = found
    now = timezone.now()
    if now - last_served_at >= MEMO_SERVED_RESOLUTION:
        RenderedMemo.objects.filter(key=key).update(last_served_at=now)
    return bytes(pdf)


def render_and_store(
    key: str,
    assessment: Assessment | Milestone,
    evaluation: Evaluation,
    sign_offs: list[SignOff] | None = None,
) -> bytes:
    """Render the memo and store it under `key`. Another process storing the same memo at the
    same moment is no error: the key is unique, the second insert does nothing."""
    pdf = render_memo_pdf(memo_context(assessment, evaluation, sign_offs))
    now = timezone.now()
    memo = RenderedMemo(key=key, pdf=pdf, created_at=now, last_served_at=now)
    RenderedMemo.objects.bulk_create([memo], ignore_conflicts=True)
    prune_memos(now)
    return pdf


def prune_memos(now: datetime | None = None) -> None:
    """The retention policy: forget memos not served for MEMO_KEEP_DAYS, then all but the
    MEMO_KEEP_COUNT served most recently (a forgotten memo is rendered again if asked for)."""
    now = now or timezone.now()
    RenderedMemo.objects.filter(
        last_served_at__lt=now - timedelta(days=settings.MEMO_KEEP_DAYS)
    ).delete()
    surplus = RenderedMemo.objects.order_by("-last_served_at", "-pk").values_list("pk", flat=True)
    extra = list(surplus[settings.MEMO_KEEP_COUNT :])
    if extra:
        RenderedMemo.objects.filter(pk__in=extra).delete()


class RenderRefused(Exception):
    """Raised by memo_pdf's `before_render` to refuse rendering a memo that is not stored."""

    def __init__(self, wait: int):
        super().__init__(f"rendering refused for {wait} s")
        self.wait = wait  # seconds until a render may be asked for again


def memo_pdf(
    assessment: Assessment | Milestone,
    evaluation: Evaluation,
    *,
    before_render: Callable[[], None] = lambda: None,
    sign_offs: list[SignOff] | None = None,
) -> bytes:
    """The memo's bytes: the stored copy, or else rendered once per distinct content and files
    and stored. `before_render` runs only when a render is needed (the views take a render
    quota there) and may raise RenderRefused."""
    if sign_offs is None:
        sign_offs = memo_sign_offs(assessment)
    key = content_key(assessment, evaluation, sign_offs)
    pdf = stored_memo(key)
    if pdf is None:
        before_render()
        pdf = render_and_store(key, assessment, evaluation, sign_offs)
    return pdf


MAX_SLUG = 80


def memo_filename(assessment: Assessment | Milestone, on: date | None = None) -> str:
    """`<project-slug>-decision-memo-<date>.pdf`; a long name is cut at a word."""
    slug = slugify(assessment.project.name)
    if len(slug) > MAX_SLUG:
        slug = slug[: MAX_SLUG + 1].rsplit("-", 1)[0] if "-" in slug[:MAX_SLUG] else slug[:MAX_SLUG]
    slug = slug.strip("-") or "project"
    if is_milestone(assessment):  # two milestones' memos of one day must not share a name
        slug += "-" + (slugify(assessment.name)[:40].strip("-") or f"milestone-{assessment.pk}")
    return f"{slug}-decision-memo-{(on or timezone.localdate()).isoformat()}.pdf"
