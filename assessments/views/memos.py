"""The PDF decision memo downloads."""

from collections.abc import Callable

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from accounts.quotas import too_many
from assessments import limits
from assessments.access import get_assessment, get_example_assessment
from assessments.models import Assessment
from assessments.pdf import RenderRefused, memo_filename, memo_pdf
from assessments.services import evaluate_assessment

TOO_MANY_RENDERS = (
    "Too many PDF memos were made for you in a short time. Memos already made can still be "
    "downloaded; a new one can be made in {wait}."
)


def memo_response(
    request: HttpRequest, assessment: Assessment, quota_key: Callable[[HttpRequest], str]
) -> HttpResponse | None:
    """The memo as a download, or None while the assessment is incomplete. A memo already
    stored is sent as it is; rendering a new one takes one of the memo render quota of
    `quota_key(request)` (429 when it is used up)."""
    evaluation = evaluate_assessment(assessment)
    if evaluation.result is None:
        return None

    def take_render() -> None:
        wait = limits.memo_renders().take(quota_key(request))
        if wait:
            raise RenderRefused(wait)

    try:
        pdf = memo_pdf(assessment, evaluation, before_render=take_render)
    except RenderRefused as refused:
        return too_many(request, refused.wait, TOO_MANY_RENDERS)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{memo_filename(assessment)}"'
    return response


def _or_404(response: HttpResponse | None) -> HttpResponse:
    if response is None:
        raise Http404("The assessment is not complete yet")
    return response


@login_required
@require_GET
def memo(request: HttpRequest, pk: int) -> HttpResponse:
    assessment = get_assessment(request.user, pk)
    return _or_404(memo_response(request, assessment, limits.user_key))


@require_GET
def example_memo(request: HttpRequest, key: str) -> HttpResponse:
    assessment = get_example_assessment(key)
    return _or_404(memo_response(request, assessment, limits.address_key))
