"""个人中心 and the member portal: what was disclosed to me (公开给我的), what my own
organizations published, and where I stand — my branch and its line of parents, the units I
belong to, the roles I hold and the organizations those roles are in.

Every list comes through `Disclosure.objects.newest_visible(user)` or `disclosed_to(user)`:
the audience keys of my branch, units and person, nothing else."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from dwgk.accounts.actions import current_membership
from dwgk.accounts.models import Affiliation, RoleGrant, User
from dwgk.accounts.policy import can_use_admin, platform_role
from dwgk.audience.keys import viewer_keys
from dwgk.audience.models import Cursor
from dwgk.disclosures.models import Disclosure, unread_ids
from dwgk.orgs.models import Organization
from dwgk.orgs.views import org_lines


@dataclass
class MyOrg:
    """An organization where I hold at least one role, with its line and my roles there."""

    org: Organization
    line: list[Organization]
    grants: list[RoleGrant] = field(default_factory=list)

    @property
    def covers_subtree(self) -> bool:
        return any(g.inherit for g in self.grants)


@login_required
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)
    membership = current_membership(user)
    affiliations = list(
        Affiliation.objects.filter(user=user, ended_on__isnull=True)
        .select_related("org")
        .order_by("org__path")
    )
    grants = list(
        RoleGrant.objects.current().filter(user=user).select_related("org").order_by("org__path")
    )
    orgs = [g.org for g in grants] + [a.org for a in affiliations]
    if membership is not None:
        orgs.append(membership.branch)
    lines = org_lines(orgs)

    my_orgs: dict[int, MyOrg] = {}
    for g in grants:
        entry = my_orgs.setdefault(g.org_id, MyOrg(g.org, lines[g.org_id]))
        entry.grants.append(g)
    newest, more = Disclosure.objects.newest_visible(user, FEED_PREVIEW)
    unread = unread_ids(user, newest)
    return render(
        request,
        "members/home.html",
        {
            "newest": [(i, o, i.pk in unread) for i, o in _with_orgs(newest)],
            "more": more is not None,
            "membership": membership,
            "branch_line": lines[membership.branch_id] if membership else [],
            "units": [(a, lines[a.org_id]) for a in affiliations],
            "grants": grants,
            "my_orgs": list(my_orgs.values()),
            "platform_role": platform_role(user),
            "can_use_admin": can_use_admin(user),
        },
    )


# --- 公开给我的: what was disclosed to me ---------------------------------------------------

FEED_PAGE = 20
FEED_PREVIEW = 8


@dataclass
class FeedFilters:
    """The filters of 公开给我的, read from the query string (bad values are ignored)."""

    org: Organization | None = None
    category: str = ""
    since: datetime.date | None = None
    until: datetime.date | None = None

    @classmethod
    def from_request(cls, request: HttpRequest) -> FeedFilters:
        org_id = request.GET.get("org", "")
        org = Organization.objects.filter(pk=int(org_id)).first() if org_id.isdigit() else None
        return cls(
            org=org,
            category=request.GET.get("category", "").strip()[:60],
            since=_date(request.GET.get("since", "")),
            until=_date(request.GET.get("until", "")),
        )

    @property
    def active(self) -> bool:
        return bool(self.org or self.category or self.since or self.until)

    def query(self) -> str:
        """The filters as a query-string prefix for the next-page link."""
        params = {
            "org": str(self.org.pk) if self.org else "",
            "category": self.category,
            "since": self.since.isoformat() if self.since else "",
            "until": self.until.isoformat() if self.until else "",
        }
        kept = {k: v for k, v in params.items() if v}
        return urlencode(kept) + "&" if kept else ""


def _date(value: str) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        return None


def disclosed_feed(
    user: Any, filters: FeedFilters, after: Cursor | None, limit: int = FEED_PAGE
) -> tuple[list[Disclosure], Cursor | None]:
    """One page of what was disclosed to `user`, newest first, and the next page's cursor.

    Unfiltered, the index-driven `newest_visible` (one top-N per audience key); filtered,
    the same visibility through `disclosed_to` with a keyset condition on (date, id)."""
    if not filters.active:
        return Disclosure.objects.newest_visible(user, limit, after=after)
    items = Disclosure.objects.disclosed_to(user)
    if filters.org is not None:
        items = items.filter(org=filters.org)
    if filters.category:
        items = items.filter(category=filters.category)
    if filters.since:
        items = items.filter(published_at__gte=_day_start(filters.since))
    if filters.until:
        items = items.filter(
            published_at__lt=_day_start(filters.until + datetime.timedelta(days=1))
        )
    if after is not None:
        items = items.filter(
            Q(published_at__lt=after.sort_at) | Q(published_at=after.sort_at, pk__lt=after.pk)
        )
    rows = list(items.order_by("-published_at", "-id")[: limit + 1])
    page = rows[:limit]
    more = len(rows) > limit and page[-1].published_at is not None
    cursor = Cursor(page[-1].published_at, page[-1].pk) if more else None  # type: ignore[arg-type]
    return page, cursor


def _day_start(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time()))


def _with_orgs(items: list[Disclosure]) -> list[tuple[Disclosure, Organization]]:
    orgs = Organization.objects.in_bulk({i.org_id for i in items})
    return [(i, orgs[i.org_id]) for i in items]


def _my_orgs(user: User) -> list[Organization]:
    """The organizations whose disclosures reach me as a member or in my unit: my branch,
    my units and every organization above them, nearest first."""
    keys = viewer_keys(user)
    ids = {int(k.split(":", 1)[1]) for k in keys if k.startswith(("members:", "unit:"))}
    return list(Organization.objects.filter(pk__in=ids).order_by("-path"))


@login_required
def feed(request: HttpRequest) -> HttpResponse:
    """公开给我的: everything disclosed to me across every audience, newest first, with
    filters by organization, category and time, unread items marked."""
    user = request.user
    assert isinstance(user, User)
    filters = FeedFilters.from_request(request)
    after = Cursor.decode(request.GET.get("after", "")) if request.GET.get("after") else None
    items, cursor = disclosed_feed(user, filters, after)
    unread = unread_ids(user, items)
    return render(
        request,
        "members/feed.html",
        {
            "rows": [(i, o, i.pk in unread) for i, o in _with_orgs(items)],
            "next_cursor": cursor.encode() if cursor else "",
            "filters": filters,
            "query": filters.query(),
            "orgs": _my_orgs(user),
            "first_page": after is None,
        },
    )


@login_required
def published(request: HttpRequest) -> HttpResponse:
    """What my own organizations (branch, units, those where I hold a role) published, as
    far as it was disclosed to me."""
    user = request.user
    assert isinstance(user, User)
    mine = {g.org_id for g in RoleGrant.objects.current().filter(user=user)}
    mine |= set(
        Affiliation.objects.filter(user=user, ended_on__isnull=True).values_list(
            "org_id", flat=True
        )
    )
    membership = current_membership(user)
    if membership is not None:
        mine.add(membership.branch_id)
    after = Cursor.decode(request.GET.get("after", "")) if request.GET.get("after") else None
    items = Disclosure.objects.disclosed_to(user).filter(org_id__in=mine)
    if after is not None:
        items = items.filter(
            Q(published_at__lt=after.sort_at) | Q(published_at=after.sort_at, pk__lt=after.pk)
        )
    rows = list(items.order_by("-published_at", "-id")[: FEED_PAGE + 1])
    page = rows[:FEED_PAGE]
    last = page[-1] if len(rows) > FEED_PAGE else None
    unread = unread_ids(user, page)
    return render(
        request,
        "members/published.html",
        {
            "rows": [(i, o, i.pk in unread) for i, o in _with_orgs(page)],
            "next_cursor": Cursor(last.published_at, last.pk).encode()  # type: ignore[arg-type]
            if last
            else "",
            "orgs": Organization.objects.filter(pk__in=mine).order_by("path"),
        },
    )
