"""The organization directory as a tree: one level at a time, so it stays fast with
100k organizations. The directory itself is public; rosters are not."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from dwgk.accounts.models import Membership
from dwgk.accounts.policy import can_manage_org, can_view_roster
from dwgk.orgs.models import Organization

CHILDREN_PER_PAGE = 100


def _with_child_counts(qs: object) -> object:
    return qs.annotate(  # type: ignore[attr-defined]
        child_count=Count("children", filter=Q(children__status=Organization.Status.ACTIVE))
    )


def tree(request: HttpRequest) -> HttpResponse:
    roots = _with_child_counts(
        Organization.objects.active().filter(parent__isnull=True).select_related("org_type")
    )
    return render(request, "orgs/tree.html", {"roots": roots})


def detail(request: HttpRequest, pk: int) -> HttpResponse:
    org = get_object_or_404(Organization.objects.select_related("org_type", "merged_into"), pk=pk)
    ancestors = list(Organization.objects.ancestors_of(org, include_self=False))
    children = _with_child_counts(
        Organization.objects.active().filter(parent=org).select_related("org_type")
    ).order_by("sort_order", "path")  # type: ignore[attr-defined]
    page = Paginator(children, CHILDREN_PER_PAGE).get_page(request.GET.get("page"))
    roster = None
    if can_view_roster(request.user, org):
        roster = (
            Membership.objects.filter(branch=org, ended_on__isnull=True)
            .select_related("user")
            .order_by("user__name")
        )
    return render(
        request,
        "orgs/detail.html",
        {
            "org": org,
            "ancestors": ancestors,
            "page": page,
            "roster": roster,
            "can_manage": can_manage_org(request.user, org),
            "events": org.events.all()[:20],
        },
    )
