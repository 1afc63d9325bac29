"""The platform's URLs plus the benchmark's baseline: a minimal view returning "ok".

The baseline goes through the very same server, workers and middleware (sessions,
security headers, CSRF, auth, axes …) as the pages it is compared with, so the ratio of a
page's throughput to the baseline's is what the page itself costs."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import path

from dwgk.urls import urlpatterns as platform_urlpatterns

BASELINE_PATH = "bench/ok/"


def baseline(request: HttpRequest) -> HttpResponse:
    """A fixed string: what the stack costs before any page does any work."""
    return HttpResponse("ok", content_type="text/plain")


def sized_baseline(request: HttpRequest, size: int) -> HttpResponse:
    """A fixed page of `size` bytes: the baseline with a public page's weight (sending and
    reading 40 KB costs the server and the load generator more than sending "ok")."""
    return HttpResponse(b"x" * min(size, 1_000_000), content_type="text/html; charset=utf-8")


urlpatterns = [
    path(BASELINE_PATH, baseline, name="bench-baseline"),
    path(f"{BASELINE_PATH}<int:size>/", sized_baseline, name="bench-baseline-sized"),
    *platform_urlpatterns,
]
