"""Home and the example gallery."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from assessments.access import get_example_assessment
from assessments.examples import example_gallery
from assessments.views.reports import render_report


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "assessments/home.html", {"examples": example_gallery()})


@require_safe
def example_report(request: HttpRequest, key: str) -> HttpResponse:
    return render_report(request, get_example_assessment(key), mode="example")
