from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from dwgk.accounts.actions import current_membership
from dwgk.accounts.models import Affiliation, RoleGrant, User
from dwgk.accounts.policy import can_use_admin, platform_role
from dwgk.orgs.models import Organization


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """个人中心: where I stand — my branch and its line of parents, my units, my roles."""
    user = request.user
    assert isinstance(user, User)
    membership = current_membership(user)
    branch_line = list(Organization.objects.ancestors_of(membership.branch)) if membership else []
    affiliations = Affiliation.objects.filter(user=user, ended_on__isnull=True).select_related(
        "org"
    )
    grants = RoleGrant.objects.current().filter(user=user).select_related("org")
    return render(
        request,
        "members/home.html",
        {
            "membership": membership,
            "branch_line": branch_line,
            "affiliations": affiliations,
            "grants": grants,
            "platform_role": platform_role(user),
            "can_use_admin": can_use_admin(user),
        },
    )
