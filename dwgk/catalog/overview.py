"""The upper organization's view of its subordinates' catalogs (CAT-6 guidance; CAT-3 filing).

For the direct children of an organization, one query computes each child's catalog state
with correlated subqueries over the versions the viewer may see (the one visibility rule),
so the page costs the same handful of queries at 10 children or 10,000:

    未编制        no version yet
    草稿 / 已审议通过 / 已退回 / 已确认   a version in progress, by its status
    待确认        filed and waiting for this organization (the parent) to acknowledge or return
    已公开        published, and no version in progress
    逾期未调整    published, nothing in progress, and the published version is older than the
                 rule-set's `stale_days` (SUP-6: "no adjustment" is an accountability case)
"""

from __future__ import annotations

import datetime
from collections import Counter
from typing import Any

from django.db.models import Case, CharField, F, IntegerField, OuterRef, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from dwgk.accounts.policy import has_role
from dwgk.catalog import policy
from dwgk.catalog.models import CatalogVersion
from dwgk.catalog.rulesets import current_ruleset
from dwgk.orgs.models import Organization, OrganizationQuerySet

S = CatalogVersion.Status
OPEN = (S.DRAFT, S.ADOPTED, S.FILED, S.RETURNED, S.ACKNOWLEDGED)

NONE, STALE = "none", "stale"
# Display order and wording of the states.
STATES: dict[str, str] = {
    NONE: "未编制",
    S.DRAFT: "草稿",
    S.ADOPTED: "已审议通过",
    S.FILED: "待确认",
    S.RETURNED: "已退回",
    S.ACKNOWLEDGED: "已确认",
    S.PUBLISHED: "已公开",
    STALE: "逾期未调整",
}


def can_view_overview(user: Any, org: Organization) -> bool:
    """Rule of this page (not in policy.py, which it builds on): the catalog staff of the
    organization — who see its children's catalogs anyway through `visible_to`. That
    includes everyone who may acknowledge or return a child's filing
    (`policy.can_review_filing`: PARENT_REVIEW_ROLES ⊂ STAFF_ROLES at the parent)."""
    staff = policy.catalog_staff_orgs_q(user)
    if staff is None:
        return False
    return Organization.objects.filter(staff, pk=org.pk).exists()


def can_guide_children(user: Any, org: Organization) -> bool:
    """Whether the comment box is shown: the parent's side of `policy.can_comment` —
    the same roles that review a child's filing. The action checks again on each post."""
    return any(has_role(user, role, org) for role in policy.PARENT_REVIEW_ROLES)


def stale_before(now: datetime.datetime | None = None) -> datetime.datetime:
    return (now or timezone.now()) - datetime.timedelta(days=current_ruleset().stale_days)


def children_with_state(
    org: Organization, user: Any, now: datetime.datetime | None = None
) -> OrganizationQuerySet:
    """The active direct children of `org`, each annotated with its catalog `state` and the
    versions to link to: `open_pk`/`open_number` (in progress), `published_pk`/
    `published_number`/`published_at`, and `target_pk` (where a comment goes)."""
    versions = CatalogVersion.objects.visible_to(user).filter(catalog__org_id=OuterRef("pk"))
    open_versions = versions.filter(status__in=OPEN).order_by("-number")
    published = versions.filter(status=S.PUBLISHED).order_by("-number")
    return (
        Organization.objects.active()
        .filter(parent=org)
        .select_related("org_type")
        .annotate(
            open_pk=Subquery(open_versions.values("pk")[:1], output_field=IntegerField()),
            open_number=Subquery(open_versions.values("number")[:1]),
            open_status=Subquery(open_versions.values("status")[:1]),
            published_pk=Subquery(published.values("pk")[:1], output_field=IntegerField()),
            published_number=Subquery(published.values("number")[:1]),
            published_at=Subquery(published.values("published_at")[:1]),
        )
        .annotate(
            state=Case(
                When(open_status__isnull=False, then=F("open_status")),
                When(published_at__lt=stale_before(now), then=Value(STALE)),
                When(published_at__isnull=False, then=Value(S.PUBLISHED)),
                default=Value(NONE),
                output_field=CharField(),
            ),
            target_pk=Coalesce("open_pk", "published_pk"),
        )
        .order_by("sort_order", "path")
    )


def state_counts(children: OrganizationQuerySet) -> dict[str, int]:
    """How many children are in each state, every state listed (zeros included).

    One query reading one short column per child: portable where grouping by an expression
    that holds correlated subqueries is not (PostgreSQL), and cheap at thousands of rows."""
    column = "state"  # an annotation: the type checker's model of the fields cannot see it
    counts: Counter[str] = Counter(children.order_by().values_list(column, flat=True))
    return {state: counts.get(state, 0) for state in STATES}


def filter_state(children: OrganizationQuerySet, state: str) -> OrganizationQuerySet:
    if state not in STATES:
        return children
    return children.filter(**{"state": state})  # an annotation, as above
