"""Sign-up and log-in, with failed attempts rate limited per address (and per username)."""

import hashlib

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.views import LoginView, PasswordChangeView
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from assessments import ratelimit
from assessments.forms import SignupForm

TOO_MANY = (
    "Too many attempts from your network. For your account's safety, please wait "
    "{minutes} minutes and try again."
)


def _too_many(request: HttpRequest, template: str, context: dict) -> HttpResponse:
    minutes = max(1, settings.AUTH_LOCKOUT_WINDOW // 60)
    context["lockout_message"] = TOO_MANY.format(minutes=minutes)
    response = render(request, template, context, status=429)
    response["Retry-After"] = str(settings.AUTH_LOCKOUT_WINDOW)
    return response


class RateLimitedLoginView(LoginView):
    """Locks out a username from one address after repeated failures, and an address that
    fails too often across usernames."""

    def _user_scope(self) -> str:
        username = self.request.POST.get("username", "")[:150].strip().lower()
        # Hashed: a username is user input and must not shape a cache key.
        return f"login-user:{hashlib.sha256(username.encode()).hexdigest()}"

    def _blocked(self) -> bool:
        window_limits = (
            (self._user_scope(), settings.LOGIN_FAILURE_LIMIT),
            ("login-ip", settings.LOGIN_IP_LIMIT),
        )
        return any(ratelimit.is_blocked(s, self.request, limit) for s, limit in window_limits)

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if self._blocked():
            return _too_many(request, self.template_name, self.get_context_data())
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form) -> HttpResponse:
        for scope in (self._user_scope(), "login-ip"):
            ratelimit.record_failure(scope, self.request, settings.AUTH_LOCKOUT_WINDOW)
        return super().form_invalid(form)

    def form_valid(self, form) -> HttpResponse:
        ratelimit.reset(self._user_scope(), self.request)
        return super().form_valid(form)


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("project_list")
    form = SignupForm(request.POST or None)
    template = "registration/signup.html"
    if request.method == "POST":
        if ratelimit.is_blocked("signup", request, settings.SIGNUP_LIMIT):
            return _too_many(request, template, {"form": SignupForm()})
        ratelimit.record_failure("signup", request, settings.AUTH_LOCKOUT_WINDOW)
        if form.is_valid():
            user = form.save()
            login(request, user)
            messages.success(request, "Welcome to Advisor. Create your first project.")
            return redirect("project_create")
    return render(request, template, {"form": form})


class RateLimitedPasswordChangeView(PasswordChangeView):
    """Guessing the old password with a stolen session is limited like signing in."""

    def _scope(self) -> str:
        return f"password-change:{self.request.user.pk}"

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if ratelimit.is_blocked(self._scope(), request, settings.LOGIN_FAILURE_LIMIT):
            return _too_many(request, self.template_name, self.get_context_data())
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form) -> HttpResponse:
        if "old_password" in form.errors:
            ratelimit.record_failure(self._scope(), self.request, settings.AUTH_LOCKOUT_WINDOW)
        return super().form_invalid(form)
