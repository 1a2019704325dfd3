import time
from collections.abc import Callable

from allauth.usersessions.models import UserSession
from django.conf import settings
from django.http import HttpRequest, HttpResponse

from accounts.lockouts import client_ip


class SessionIdleRefreshMiddleware:
    """Restart a signed-in session's idle clock at most once a minute, and note then in the
    user's session list (allauth's usersessions) that the session was seen.

    Saving the session on every request (SESSION_SAVE_EVERY_REQUEST), or allauth's activity
    tracking, would cost a database write per page; the idle timeout and "last seen" only
    need to be right to within a minute.
    """

    KEY = "_idle_refreshed_at"

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        session = getattr(request, "session", None)
        # Only sessions this request already read, and only signed-in ones: no extra query,
        # and no session is ever created for an anonymous visitor.
        if session is not None and session.accessed and "_auth_user_id" in session:
            now = int(time.time())
            if now - session.get(self.KEY, 0) >= settings.SESSION_REFRESH_SECONDS:
                session[self.KEY] = now  # marks it modified: saved with a new expiry
                self._seen(request)
        return response

    def _seen(self, request: HttpRequest) -> None:
        """Lists the session (one signed in before the list existed, too) with its address
        and browser now, so that "sign out other sessions" reaches it."""
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or client_ip(request) is None:
            return
        UserSession.objects.create_from_request(request, user=user, session=request.session)
