"""Security headers that Django's SecurityMiddleware does not set."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse


class SecurityHeadersMiddleware:
    """Adds a strict Content-Security-Policy and a restrictive Permissions-Policy."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY)
        response.headers.setdefault(
            "Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()"
        )
        return response


def _now() -> int:
    return int(time.time())


class SessionRefreshMiddleware:
    """Keeps a session alive while it is used (SESSION_IDLE_MINUTES of inactivity sign a
    person out) without writing the session row on every request: the session is saved
    again, and its expiry moved forward, when the last save is SESSION_REFRESH_SECONDS
    old. Saving on every request (SESSION_SAVE_EVERY_REQUEST) cost three statements and a
    commit on every signed-in page; this costs them once a minute per person, and the idle
    timeout is exact to that minute."""

    STAMP = "_refreshed"

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if settings.SESSION_COOKIE_NAME in request.COOKIES:
            session = request.session
            now = _now()
            if (
                not session.is_empty()
                and now - session.get(self.STAMP, 0) >= settings.SESSION_REFRESH_SECONDS
            ):
                session[self.STAMP] = now  # modified: SessionMiddleware saves it
        return self.get_response(request)
