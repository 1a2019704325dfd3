"""The PDF decision memo downloads."""

from collections.abc import Callable

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from accounts.quotas import too_many
from assessments import limits
from assessments.access import get_assessment, get_example_assessment, get_milestone
from assessments.models import Assessment, Milestone, SignOff
from assessments.pdf import RenderRefused, is_milestone, memo_filename, memo_pdf
from assessments.services import evaluate_assessment

TOO_MANY_RENDERS = (
    "Too many PDF memos were made for you in a short time. Memos already made can still be "
    "downloaded; a new one can be made in {wait}."
)


def memo_response(
    request: HttpRequest,
    assessment: Assessment | Milestone,
    quota_key: Callable[[HttpRequest], str],
    sign_offs: list[SignOff] | None = None,
) -> HttpResponse | None:
    """The memo of an assessment or a milestone as a download, or None while it is
    incomplete. A memo already stored is sent as it is; rendering a new one takes one of the
    memo render quota of `quota_key(request)` (429 when it is used up). `sign_offs`: the
    responses its sign-off block lists, if not all of those to what it shows."""
    evaluation = evaluate_assessment(assessment)
    if evaluation.result is None:
        return None

    def take_render() -> None:
        wait = limits.memo_renders().take(quota_key(request))
        if wait:
            raise RenderRefused(wait)

    try:
        pdf = memo_pdf(assessment, evaluation, before_render=take_render, sign_offs=sign_offs)
    except RenderRefused as refused:
        return too_many(request, refused.wait, TOO_MANY_RENDERS)
    response = HttpResponse(pdf, content_type="application/pdf")
    # A milestone's memo is dated as the milestone: it is the decision as it stood then.
    on = timezone.localtime(assessment.created_at).date() if is_milestone(assessment) else None
    filename = memo_filename(assessment, on)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
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


@login_required
@require_GET
def milestone_memo(request: HttpRequest, pk: int) -> HttpResponse:
    """A milestone's memo: its report as it stood, with the responses given to it."""
    milestone = get_milestone(request.user, pk)
    return _or_404(memo_response(request, milestone, limits.user_key))
