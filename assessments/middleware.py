from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import resolve_url


class HtmxLoginRedirectMiddleware:
    """An expired session during an HTMX request sends the whole page to the login form,
    instead of htmx following the redirect and swapping a login page into a status line."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            getattr(request, "htmx", False)
            and response.status_code == 302
            and response["Location"].startswith(resolve_url(settings.LOGIN_URL))
        ):
            redirect = HttpResponse(status=204)
            redirect["HX-Redirect"] = response["Location"]
            return redirect
        return response


class PrivatePagesMiddleware:
    """Nothing served to a signed-in user (their projects, reports, exports, memos) is kept by
    a browser's or proxy's cache: `Cache-Control: private, no-store`, unless the view said
    otherwise. Anonymous pages (home, examples, login) are left alone."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not response.has_header("Cache-Control"):
            response["Cache-Control"] = "private, no-store"
        return response


class RequestSizeLimitMiddleware:
    """Refuse a body over MAX_REQUEST_BYTES from its Content-Length, before anything reads it:
    the CSRF check and the session come later, so neither parses nor spools a huge upload,
    signed in or not. The largest legitimate body is an import file (ImportForm.MAX_BYTES)
    with its multipart envelope."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return HttpResponseBadRequest("The Content-Length header is not a number.")
        if length > settings.MAX_REQUEST_BYTES:
            megabytes = settings.MAX_REQUEST_BYTES / 1_000_000
            return HttpResponse(
                f"Too large: Advisor accepts requests of up to {megabytes:.1f} MB "
                "(an exported project file may be up to 1 MB). Nothing was read or saved.",
                status=413,
                content_type="text/plain; charset=utf-8",
            )
        return self.get_response(request)
