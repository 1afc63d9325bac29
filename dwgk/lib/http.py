"""HTTP caching for the public pages (DESIGN-NOTES: the framework is the limit, so anonymous
pages must be cacheable) without ever letting a shared cache keep anything personal.

An anonymous GET answered 200 gets `Cache-Control: public, max-age=60` and an ETag
(`ConditionalGetMiddleware` turns a matching If-None-Match or If-Modified-Since into 304);
a response for a signed-in person, or one that carries a CSRF token (a form), is
`private, no-cache`: the browser may revalidate it, a proxy may not keep it.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable

from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.http import http_date

PUBLIC_MAX_AGE = 60  # seconds: a new disclosure reaches cached readers within a minute


def mark_cacheable(request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
    """Set the cache headers of one response to a GET, as described above."""
    if request.method not in ("GET", "HEAD") or response.status_code != 200:
        return response
    patch_vary_headers(response, ["Cookie"])
    personal = request.user.is_authenticated or request.META.get("CSRF_COOKIE_NEEDS_UPDATE")
    if personal:
        patch_cache_control(response, private=True, no_cache=True)
    else:
        patch_cache_control(response, public=True, max_age=PUBLIC_MAX_AGE)
    return response


def set_last_modified(response: HttpResponseBase, when: datetime.datetime | None) -> None:
    """Last-Modified from the newest thing the page shows (for If-Modified-Since)."""
    if when is not None:
        response["Last-Modified"] = http_date(when.timestamp())


class PrivateByDefaultMiddleware:
    """Whatever a signed-in person is answered is `private` unless the view said otherwise:
    a page nobody thought about caching must never land in a shared cache."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not response.has_header("Cache-Control"):
            patch_cache_control(response, private=True, no_cache=True)
            patch_vary_headers(response, ["Cookie"])
        return response
