"""The rendered body of a report, remembered per process by everything it shows.

The body (verdict, rationale, matrix, chart, flips, warnings, next steps, answers) is most
of a report page's rendering time, and it is a function of content only: the answers, the
rubric, the assessment's id and timestamps, whether edit links are shown and the time zone
dates are written in. Nothing from the request (user, CSRF token, CSP nonce) is in it, so
one rendering serves every later view of the same content, by its owner, through a share
link or as a worked example. A changed answer changes the key, so an edited report is never
served stale; entries of old content simply age out of the LRU.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import SafeString

from assessments.models import Assessment
from assessments.presenters import present_report
from assessments.rubric import Rubric
from assessments.services import Evaluation

REPORT_BODY_TEMPLATE = "assessments/report.html#report_body"
# The body's template by the engine of the rubric the assessment was scored with.
REPORT_BODY_TEMPLATES = {
    "weights": REPORT_BODY_TEMPLATE,  # v1
    "lanes": "assessments/report_v2.html#report_body",  # v2: two lanes, one ladder
}
# A body is 20-40 KB of HTML: 128 of them stay under 5 MB per worker.
REPORT_BODY_CACHE_SIZE = 128

# Each entry keeps its rubric, so the rubric's id in the key cannot be reused meanwhile.
_bodies: OrderedDict[tuple[Any, ...], tuple[Rubric, SafeString]] = OrderedDict()
_bodies_lock = threading.Lock()


def report_body_key(
    assessment: Assessment, evaluation: Evaluation, *, is_owner: bool
) -> tuple[Any, ...]:
    return (
        assessment.pk,
        is_owner,
        evaluation.rubric.version,
        id(evaluation.rubric),
        repr(sorted(evaluation.answers.items())),
        assessment.created_at,
        assessment.answers_changed_at,
        timezone.get_current_timezone_name(),
    )


def render_report_body(
    assessment: Assessment, evaluation: Evaluation, *, is_owner: bool
) -> SafeString:
    """The report body of a complete, valid evaluation (evaluation.result is set)."""
    # With DEBUG on, templates are re-read on every render: so must the body be.
    if settings.DEBUG:
        return _render(assessment, evaluation, is_owner=is_owner)
    key = report_body_key(assessment, evaluation, is_owner=is_owner)
    with _bodies_lock:
        found = _bodies.get(key)
        if found is not None and found[0] is evaluation.rubric:
            _bodies.move_to_end(key)
            return found[1]
    body = _render(assessment, evaluation, is_owner=is_owner)
    with _bodies_lock:
        _bodies[key] = (evaluation.rubric, body)
        while len(_bodies) > REPORT_BODY_CACHE_SIZE:
            _bodies.popitem(last=False)
    return body


def clear_report_bodies() -> None:
    with _bodies_lock:
        _bodies.clear()


def _render(assessment: Assessment, evaluation: Evaluation, *, is_owner: bool) -> SafeString:
    if evaluation.result is None:
        raise ValueError("only a complete, valid evaluation has a report body")
    context = {
        "assessment": assessment,
        "is_owner": is_owner,
        "report": present_report(evaluation.result, evaluation.rubric, evaluation.answers),
    }
    template = REPORT_BODY_TEMPLATES[evaluation.rubric.engine]
    return SafeString(render_to_string(template, context))
