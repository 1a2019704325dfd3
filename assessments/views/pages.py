"""Home, the example gallery and sign-up."""

from django.contrib import messages
from django.contrib.auth import login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_safe

from assessments.access import get_example_assessment
from assessments.examples import example_gallery
from assessments.forms import SignupForm
from assessments.views.reports import render_report


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "assessments/home.html", {"examples": example_gallery()})


@require_safe
def example_report(request: HttpRequest, key: str) -> HttpResponse:
    return render_report(request, get_example_assessment(key), mode="example")


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("project_list")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user)
        messages.success(request, "Welcome to Advisor. Create your first project.")
        return redirect("project_create")
    return render(request, "registration/signup.html", {"form": form})
