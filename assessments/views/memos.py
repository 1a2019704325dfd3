"""The PDF decision memo downloads."""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from assessments.access import get_example_assessment, get_owned_assessment
from assessments.models import Assessment
from assessments.pdf import memo_filename, memo_pdf
from assessments.services import evaluate_assessment


def memo_response(assessment: Assessment) -> HttpResponse | None:
    """The memo as a download, or None while the assessment is incomplete."""
    evaluation = evaluate_assessment(assessment)
    if evaluation.result is None:
        return None
    response = HttpResponse(memo_pdf(assessment, evaluation), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{memo_filename(assessment)}"'
    return response


def _or_404(response: HttpResponse | None) -> HttpResponse:
    if response is None:
        raise Http404("The assessment is not complete yet")
    return response


@login_required
@require_GET
def memo(request: HttpRequest, pk: int) -> HttpResponse:
    return _or_404(memo_response(get_owned_assessment(request.user, pk)))


@require_GET
def example_memo(request: HttpRequest, key: str) -> HttpResponse:
    return _or_404(memo_response(get_example_assessment(key)))
