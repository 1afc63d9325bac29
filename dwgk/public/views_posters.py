"""The 公开栏 poster of an organization's month (CHAN-1; QJ 7–8): the page to choose the
month and size with a preview, the print-ready PDF, and the large-type page for 电子显示屏.

Everyone may open them, anonymous visitors included: what each person gets is what
`posters.poster_items` finds disclosed to them, so the poster a branch member prints also
carries the branch's party items, and the one a passer-by's display shows only society
items. The same URL therefore gives different people different content: it is cached
publicly only for anonymous visitors, and varies by cookie.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.http import content_disposition_header
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET

from dwgk.orgs.models import Organization
from dwgk.public.posters import (
    CURRENT,
    QR_CAPTION,
    SIZES,
    Period,
    PeriodError,
    board_title,
    poster_items,
    poster_pdf,
    qr_svg,
)

# The screen page's rotation (an electronic display shows one item after another).
MIN_SECONDS, MAX_SECONDS = 10, 600


def _org(org_pk: int) -> Organization:
    org: Organization = get_object_or_404(Organization, pk=org_pk)
    return org


def _bad_request(request: HttpRequest, org: Organization, message: str) -> HttpResponse:
    return render(request, "posters/error.html", {"org": org, "message": message}, status=400)


def _size(request: HttpRequest) -> str:
    size = request.GET.get("size", "A4").upper()
    if size not in SIZES:
        raise ValueError(f"纸张规格“{request.GET.get('size')}”无效，请选择 A4 或 A3。")
    return size


def _cache(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    # Only what anyone may read may sit in a shared cache (as views_sheet does).
    if request.user.is_authenticated:
        patch_cache_control(response, private=True, no_cache=True)
    else:
        patch_cache_control(response, public=True, max_age=300)
    patch_vary_headers(response, ("Cookie",))
    return response


@require_GET
def org_posters(request: HttpRequest, org_pk: int) -> HttpResponse:
    """Choose the month and paper size; preview the items and download the poster."""
    org = _org(org_pk)
    try:
        month = request.GET.get("month", "")
        period = Period.parse(month) if month else Period.current()
        size = _size(request)
    except ValueError as error:  # PeriodError or a bad size, each with its message
        return _bad_request(request, org, str(error))
    items = poster_items(request.user, org, period)
    context: dict[str, Any] = {
        "org": org,
        "period": period,
        "size": size,
        "sizes": SIZES,
        "items": items,
        "current_count": sum(1 for i in items if i.state == CURRENT),
        "board_title": board_title(org, period),
        "pdf_url": reverse("posters:pdf", args=[org.pk, period.slug]) + f"?size={size}",
        "screen_url": reverse("posters:screen", args=[org.pk, period.slug]),
        "preceding": period.preceding(),
        "following": period.following(),
    }
    return _cache(request, render(request, "posters/org.html", context))


@require_GET
def pdf(request: HttpRequest, org_pk: int, period: str) -> HttpResponse:
    """The print-ready poster, A4 or A3 (`?size=`), as a download."""
    org = _org(org_pk)
    try:
        month = Period.parse(period)
        size = _size(request)
    except ValueError as error:  # PeriodError or a bad size, each with its message
        return _bad_request(request, org, str(error))
    items = poster_items(request.user, org, month)
    data = poster_pdf(items, org, month, size, base_url=request.build_absolute_uri("/"))
    response = HttpResponse(data, content_type="application/pdf")
    filename = f"{org.name}党务公开栏{month.label}（{size}）.pdf"
    response["Content-Disposition"] = content_disposition_header(True, filename) or "attachment"
    return _cache(request, response)


@require_GET
def screen(request: HttpRequest, org_pk: int, period: str) -> HttpResponse:
    """The board in large type for an electronic display: every item a full screen. With
    `?rotate=<seconds>` one item is shown at a time and the page moves on to the next by
    itself (`<meta http-equiv="refresh">`: no script), starting over after the last, so a
    display left on it also picks up new items."""
    org = _org(org_pk)
    try:
        month = Period.parse(period)
    except PeriodError as error:
        return _bad_request(request, org, str(error))
    rotate = _int(request.GET.get("rotate"))
    if request.GET.get("rotate") and not (
        rotate is not None and MIN_SECONDS <= rotate <= MAX_SECONDS
    ):
        return _bad_request(request, org, f"轮播间隔应为{MIN_SECONDS}至{MAX_SECONDS}秒之间的整数。")
    items = poster_items(request.user, org, month)
    base_url = request.build_absolute_uri("/")
    entries = [
        # The SVG is segno's drawing of our own URL: only path data, no text of the item.
        {"item": item, "number": n, "qr": mark_safe(qr_svg(item.url(base_url)))}  # noqa: S308
        for n, item in enumerate(items, 1)
    ]
    refresh = ""
    shown_entries = entries
    if rotate is not None:
        at = _int(request.GET.get("n")) or 1
        at = (at - 1) % len(entries) + 1 if entries else 1
        shown_entries = entries[at - 1 : at]
        following = at % len(entries) + 1 if entries else 1
        here = reverse("posters:screen", args=[org.pk, month.slug])
        refresh = f"{rotate}; url={here}?rotate={rotate}&n={following}"
    context = {
        "org": org,
        "period": month,
        "board_title": board_title(org, month),
        "entries": shown_entries,
        "total": len(entries),
        "rotate": rotate,
        "refresh": refresh,
        "qr_caption": QR_CAPTION,
        "posters_url": reverse("posters:org", args=[org.pk]) + f"?month={month.slug}",
    }
    return _cache(request, render(request, "posters/screen.html", context))


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None
