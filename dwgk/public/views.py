"""The public disclosure site (CHAN-2): the front page, each organization's disclosure
column (公开专栏) and the search.

Everything listed here comes through `Disclosure.objects.disclosed_to(user)` or
`newest_visible(user)`: an anonymous visitor gets what was disclosed to society, a signed-in
person also what was disclosed to their branch, units and themselves. Staff find work in
progress in their own screens, never here. Anonymous answers are cacheable
(`dwgk.public.pagecache`).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.paginator import Paginator
from django.db.models import Count, Max, Q
from django.db.models.functions import TruncMonth
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme

from dwgk.audience.models import Cursor
from dwgk.catalog.models import CatalogVersion
from dwgk.disclosures import policy as disclosure_policy
from dwgk.disclosures.models import Disclosure
from dwgk.feedback import policy as feedback_policy
from dwgk.lib.context_processors import LARGE_TYPE_COOKIE
from dwgk.lib.http import set_last_modified
from dwgk.orgs.models import Organization
from dwgk.orgs.views import MAX_ROOTS, children_of, with_child_counts
from dwgk.public.pagecache import public_page
from dwgk.search.backend import QueryError, get_backend

NEWEST = 15
PER_PAGE = 20
COUNT_LIMIT = 1000  # search counts stop here: "1000 项以上"
MONTH_FORMAT = "%Y-%m"


def _newest_published(items: list[Disclosure]) -> datetime.datetime | None:
    stamps = [i.published_at for i in items if i.published_at is not None]
    return max(stamps) if stamps else None


@public_page
def home(request: HttpRequest) -> HttpResponse:
    """The newest disclosures to society and the organization directory. The same page for
    everybody, so that it can be cached: what is disclosed to me is in 个人中心."""
    items, _ = Disclosure.objects.newest_visible(AnonymousUser(), NEWEST)
    orgs = {o.pk: o for o in Organization.objects.filter(pk__in={i.org_id for i in items})}
    roots = with_child_counts(
        Organization.objects.active().filter(parent__isnull=True).select_related("org_type")
    ).order_by("sort_order", "path")[:MAX_ROOTS]
    response = render(
        request,
        "public/home.html",
        {
            "items": [(i, orgs[i.org_id]) for i in items],
            "roots": roots,
            "org_count": Organization.objects.active().count(),
        },
    )
    set_last_modified(response, _newest_published(items))
    return response


@dataclass
class Month:
    key: str  # YYYY-MM
    label: str
    count: int


def _month(value: str) -> tuple[datetime.datetime, datetime.datetime] | None:
    """The [start, end) of a month written YYYY-MM, in the site's time zone."""
    try:
        start = datetime.datetime.strptime(value, MONTH_FORMAT)
    except ValueError:
        return None
    start = timezone.make_aware(start)
    end = (
        start.replace(year=start.year + 1, month=1)
        if start.month == 12
        else start.replace(month=start.month + 1)
    )
    return start, end


@dataclass
class Facets:
    """What an organization disclosed to the visitor, counted by category × month (one
    aggregate over its visible items), from which the column's category list, months,
    yearly figures, page count and Last-Modified are all read."""

    groups: list[tuple[str, datetime.datetime | None, int, int]]  # category, month, n, withdrawn
    last_updated: datetime.datetime | None

    def categories(self) -> list[tuple[str, int]]:
        counts: dict[str, int] = {}
        for category, _, n, _ in self.groups:
            if category:
                counts[category] = counts.get(category, 0) + n
        return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))

    def months(self) -> list[Month]:
        counts: dict[datetime.datetime, int] = {}
        for _, month, n, _ in self.groups:
            if month is not None:
                counts[month] = counts.get(month, 0) + n
        return [
            Month(m.strftime(MONTH_FORMAT), f"{m.year}年{m.month}月", n)
            for m, n in sorted(counts.items(), reverse=True)
        ]

    def years(self) -> list[tuple[int | None, int, int]]:
        counts: dict[int | None, list[int]] = {}
        for _, month, n, withdrawn in self.groups:
            year = counts.setdefault(month.year if month else None, [0, 0])
            year[0] += n
            year[1] += withdrawn
        return [(y, n, w) for y, (n, w) in sorted(counts.items(), key=lambda kv: -(kv[0] or 0))]

    def count(self, category: str, span: tuple[datetime.datetime, datetime.datetime] | None) -> int:
        """How many items the list shows with these filters."""
        return sum(
            n
            for c, month, n, _ in self.groups
            if (not category or c == category) and (span is None or month == span[0])
        )


def _facets(items: Any) -> Facets:
    groups = []
    last = None
    rows = (
        items.order_by()
        .annotate(m=TruncMonth("published_at"))
        .values_list("category", "m")
        .annotate(
            n=Count("id"),
            withdrawn=Count("id", filter=Q(withdrawn_at__isnull=False)),
            last=Max("updated_at"),
        )
    )
    for category, month, n, withdrawn, updated in rows:
        groups.append((category, month, n, withdrawn))
        if updated is not None and (last is None or updated > last):
            last = updated
    return Facets(groups, last)


class CountedPaginator(Paginator):  # type: ignore[type-arg]
    """A paginator told its count (already known from the facets) instead of asking."""

    def __init__(self, object_list: Any, per_page: int, *, count: int) -> None:
        super().__init__(object_list, per_page)
        self._known_count = count

    @property
    def count(self) -> int:
        return self._known_count


@public_page
def org_column(request: HttpRequest, pk: int) -> HttpResponse:
    """An organization's disclosure column: its published catalog, what it disclosed to the
    visitor by category and by month, and its yearly figures."""
    org = get_object_or_404(Organization.objects.select_related("parent", "org_type"), pk=pk)
    user = request.user
    items = Disclosure.objects.disclosed_to(user).filter(org=org)
    facets = _facets(items)
    category = request.GET.get("category", "")
    month = request.GET.get("month", "")
    shown = items
    if category:
        shown = shown.filter(category=category)
    span = _month(month) if month else None
    if span is not None:
        shown = shown.filter(published_at__gte=span[0], published_at__lt=span[1])
    elif month:
        month = ""
    page = CountedPaginator(
        shown.order_by("-published_at", "-id"), PER_PAGE, count=facets.count(category, span)
    ).get_page(request.GET.get("page"))
    catalog = (
        CatalogVersion.objects.visible_to(user)
        .filter(catalog__org=org, status=CatalogVersion.Status.PUBLISHED)
        .first()
    )
    response = render(
        request,
        "public/org.html",
        {
            "org": org,
            "ancestors": list(Organization.objects.ancestors_of(org, include_self=False)),
            "children": list(children_of(org).active()[:60]),
            "catalog": catalog,
            "page": page,
            "categories": facets.categories(),
            "months": facets.months()[:24],
            "years": facets.years(),
            "category": category,
            "month": month,
            "filtered": bool(category or month),
            "query": _query(category=category, month=month),
            "staff": disclosure_policy.works_on_org(user, org),
            "handles_feedback": feedback_policy.can_handle(user, org),
        },
    )
    set_last_modified(response, facets.last_updated)
    return response


def _query(**params: str) -> str:
    """The filters as a query string prefix for page links ("category=…&")."""
    kept = {k: v for k, v in params.items() if v}
    return urlencode(kept) + "&" if kept else ""


def text_size(request: HttpRequest) -> HttpResponse:
    """Switch large type on or off (a year-long cookie) and go back where the reader was."""
    back = request.GET.get("next", "/")
    if not url_has_allowed_host_and_scheme(back, {request.get_host()}, request.is_secure()):
        back = "/"
    response = redirect(back)
    if request.GET.get("large") == "1":
        response.set_cookie(
            LARGE_TYPE_COOKIE,
            "1",
            max_age=365 * 24 * 3600,
            samesite="Lax",
            httponly=True,
            secure=settings.SESSION_COOKIE_SECURE,
        )
    else:
        response.delete_cookie(LARGE_TYPE_COOKIE, samesite="Lax")
    return response


@public_page
def search(request: HttpRequest) -> HttpResponse:
    """Chinese full-text search over what was disclosed to the searcher, newest first."""
    q = request.GET.get("q", "").strip()[:100]
    org = None
    if request.GET.get("org", "").isdigit():
        org = Organization.objects.filter(pk=int(request.GET["org"])).first()
    after = Cursor.decode(request.GET.get("after", "")) if request.GET.get("after") else None
    context: dict[str, Any] = {"q": q, "org": org, "results": [], "error": ""}
    status = 200
    if q:
        backend = get_backend()
        try:
            page = backend.search(request.user, q, org=org, limit=PER_PAGE, after=after)
            total = backend.count(request.user, q, org=org, limit=COUNT_LIMIT)
            context.update(
                results=page.results,
                next_cursor=page.next_cursor.encode() if page.next_cursor else "",
                total=min(total, COUNT_LIMIT),
                capped=total > COUNT_LIMIT,
                first_page=after is None,
            )
        except QueryError as error:
            context["error"] = str(error)
            status = 400
    return render(request, "public/search.html", context, status=status)
