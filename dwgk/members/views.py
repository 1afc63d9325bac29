"""个人中心: where a signed-in person stands — their branch and its line of parents, the units
they belong to, the roles they hold and the organizations those roles are in."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from dwgk.accounts.actions import current_membership
from dwgk.accounts.models import Affiliation, RoleGrant, User
from dwgk.accounts.policy import can_use_admin, platform_role
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
    return render(
        request,
        "members/home.html",
        {
            "membership": membership,
            "branch_line": lines[membership.branch_id] if membership else [],
            "units": [(a, lines[a.org_id]) for a in affiliations],
            "grants": grants,
            "my_orgs": list(my_orgs.values()),
            "platform_role": platform_role(user),
            "can_use_admin": can_use_admin(user),
        },
    )
