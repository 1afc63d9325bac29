"""The organization directory as a tree: one level at a time, so it stays fast with
100k organizations. The directory itself is public (names, types, the hierarchy and its
history); rosters are not — they follow `policy.can_view_roster`.

Every page does a bounded number of queries: children come one page at a time with their own
child counts, and lines of ancestors are read off the materialized path in one query.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from dwgk.accounts.models import Membership, RoleGrant
from dwgk.accounts.policy import can_manage_org, can_view_roster
from dwgk.orgs.models import Organization, OrganizationQuerySet

CHILDREN_PER_PAGE = 100
# The tree page opens the top level one step; a fragment shows at most this many children
# and links to the organization's own page for the rest.
CHILDREN_PREVIEW = 50
MAX_ROOTS = 20
SEARCH_LIMIT = 50


def with_child_counts(qs: OrganizationQuerySet) -> OrganizationQuerySet:
    """Annotate `child_count`: the active sub-organizations of each row (one GROUP BY)."""
    return qs.annotate(
        child_count=Count("children", filter=Q(children__status=Organization.Status.ACTIVE))
    )


def children_of(org: Organization) -> OrganizationQuerySet:
    return with_child_counts(
        Organization.objects.active().filter(parent=org).select_related("org_type")
    ).order_by("sort_order", "path")


def org_lines(orgs: Iterable[Organization]) -> dict[int, list[Organization]]:
    """For each organization, its line from the root down to itself — all in one query."""
    orgs = list(orgs)
    ids = {i for org in orgs for i in org.ancestor_ids}
    by_id = Organization.objects.only("id", "name", "short_name", "path", "status").in_bulk(ids)
    return {org.pk: [by_id[i] for i in org.ancestor_ids if i in by_id] for org in orgs}


def tree(request: HttpRequest) -> HttpResponse:
    """组织机构: the top level opened one step, or the matches of a name search."""
    q = request.GET.get("q", "").strip()[:60]
    if q:
        matches = list(
            Organization.objects.filter(
                Q(name__icontains=q) | Q(short_name__icontains=q) | Q(code__iexact=q)
            )
            .select_related("org_type")
            .order_by("path")[: SEARCH_LIMIT + 1]
        )
        more = len(matches) > SEARCH_LIMIT
        matches = matches[:SEARCH_LIMIT]
        lines = org_lines(matches)
        results = [(org, lines[org.pk][:-1]) for org in matches]
        return render(request, "orgs/tree.html", {"q": q, "results": results, "more_results": more})
    roots = list(
        with_child_counts(
            Organization.objects.active().filter(parent__isnull=True).select_related("org_type")
        ).order_by("sort_order", "path")[:MAX_ROOTS]
    )
    branches = [(root, list(children_of(root)[:CHILDREN_PREVIEW])) for root in roots]
    return render(
        request, "orgs/tree.html", {"q": "", "branches": branches, "preview": CHILDREN_PREVIEW}
    )


def children(request: HttpRequest, pk: int) -> HttpResponse:
    """One level of the tree as an HTML fragment, fetched by tree.js when a node is opened."""
    org = get_object_or_404(Organization, pk=pk)
    kids = list(children_of(org)[: CHILDREN_PREVIEW + 1])
    return render(
        request,
        "orgs/_children.html",
        {"org": org, "children": kids[:CHILDREN_PREVIEW], "more": len(kids) > CHILDREN_PREVIEW},
    )


def detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One organization: where it sits, what it is, what is below it, and its history."""
    org = get_object_or_404(
        Organization.objects.select_related("org_type", "merged_into", "parent"), pk=pk
    )
    ancestors = list(Organization.objects.ancestors_of(org, include_self=False))
    show_ended = request.GET.get("ended") == "1"
    kids = with_child_counts(Organization.objects.filter(parent=org).select_related("org_type"))
    if not show_ended:
        kids = kids.active()
    page = Paginator(kids.order_by("sort_order", "path"), CHILDREN_PER_PAGE).get_page(
        request.GET.get("page")
    )
    ended_children = (
        Organization.objects.filter(parent=org).exclude(status=Organization.Status.ACTIVE).count()
    )
    roster = grants = None
    if can_view_roster(request.user, org):
        roster = list(
            Membership.objects.filter(branch=org, ended_on__isnull=True)
            .select_related("user")
            .order_by("kind", "user__name")
        )
        grants = list(
            RoleGrant.objects.current().filter(org=org).select_related("user").order_by("role")
        )
    events = org.events.select_related("from_parent", "to_parent")[:20]
    return render(
        request,
        "orgs/detail.html",
        {
            "org": org,
            "ancestors": ancestors,
            "page": page,
            "show_ended": show_ended,
            "ended_children": ended_children,
            "roster": roster,
            "grants": grants,
            "can_manage": can_manage_org(request.user, org),
            "events": events,
        },
    )
