from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from assessments.models import Project


def home(request: HttpRequest) -> HttpResponse:
    examples = Project.objects.examples().order_by("id")
    return render(request, "assessments/home.html", {"examples": examples})
