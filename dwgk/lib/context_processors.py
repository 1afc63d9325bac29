from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest

LARGE_TYPE_COOKIE = "dwgk_large_type"


def site(request: HttpRequest) -> dict[str, object]:
    return {
        "SITE_NAME": settings.SITE_NAME,
        # Large type for older readers (a cookie the footer link sets; works without JS).
        "LARGE_TYPE": request.COOKIES.get(LARGE_TYPE_COOKIE) == "1",
    }
