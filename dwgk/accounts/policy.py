"""Who may do what with organizations, people and roles.

Each question has two forms where lists need it: "may this user do X to this object" and
"the queryset of objects this user may do X to". Visibility of disclosed content is not
decided here but in `dwgk.audience` (`visible_to`).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from dwgk.accounts.models import Affiliation, Membership, PlatformRole, Role, RoleGrant, User
from dwgk.orgs.models import Organization, OrganizationQuerySet, subtree_q


def platform_role(user: Any) -> str | None:
    """The user's platform role (sysadmin / secadmin / auditor), if any."""
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    try:
        kind: str = user.platform_role.kind
    except PlatformRole.DoesNotExist:
        return None
    return kind


def is_sysadmin(user: Any) -> bool:
    return platform_role(user) == PlatformRole.Kind.SYSADMIN


def is_secadmin(user: Any) -> bool:
    return platform_role(user) == PlatformRole.Kind.SECADMIN


def is_auditor(user: Any) -> bool:
    return platform_role(user) == PlatformRole.Kind.AUDITOR


def has_role(user: Any, role: str, org: Organization) -> bool:
    """Whether the user holds `role` at `org`, directly or inherited from an ancestor."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    return RoleGrant.objects.covering(org).filter(user=user, role=role).exists()


def orgs_with_roles_q(user: Any, roles: tuple[str, ...]) -> Q | None:
    """A Q over Organization for where the user holds any of `roles` (inherited grants
    cover their subtree), or None when they hold none."""
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    grants = (
        RoleGrant.objects.current()
        .filter(user=user, role__in=roles)
        .select_related("org")
        .order_by()
    )
    q = Q(pk__in=[])
    found = False
    for grant in grants:
        found = True
        q |= subtree_q(grant.org.path) if grant.inherit else Q(pk=grant.org_id)
    return q if found else None


def orgs_with_role(user: Any, role: str) -> OrganizationQuerySet:
    """Every organization where the user holds `role`, inherited grants expanded."""
    if user is None or not user.is_authenticated or not user.is_active:
        return Organization.objects.none()
    q = Q(pk__in=[])
    for grant in RoleGrant.objects.current().filter(user=user, role=role).select_related("org"):
        q |= subtree_q(grant.org.path) if grant.inherit else Q(pk=grant.org_id)
    return Organization.objects.filter(q)


def managed_orgs(user: Any) -> OrganizationQuerySet:
    """Organizations the user administers: all for the system administrator, otherwise
    those covered by their organization-admin grants."""
    if is_sysadmin(user):
        return Organization.objects.all()
    return orgs_with_role(user, Role.ORG_ADMIN)


def can_manage_org(user: Any, org: Organization) -> bool:
    return is_sysadmin(user) or has_role(user, Role.ORG_ADMIN, org)


def can_grant_roles(user: Any, org: Organization) -> bool:
    """Roles at `org` are granted by the security administrator or the org's admin."""
    return is_secadmin(user) or has_role(user, Role.ORG_ADMIN, org)


def role_grantable_orgs(user: Any) -> OrganizationQuerySet:
    if is_secadmin(user):
        return Organization.objects.all()
    return orgs_with_role(user, Role.ORG_ADMIN)


def can_use_admin(user: Any) -> bool:
    """The administration site is for the three platform roles and organization admins."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    if platform_role(user) is not None:
        return True
    return RoleGrant.objects.current().filter(user=user, role=Role.ORG_ADMIN).exists()


def can_view_roster(user: Any, org: Organization) -> bool:
    """Names of an organization's members are for its admins and its principal leader."""
    if is_sysadmin(user):
        return True
    return has_role(user, Role.ORG_ADMIN, org) or has_role(user, Role.PRINCIPAL, org)


def people_in(orgs: QuerySet[Organization]) -> QuerySet[User]:
    """People with a current membership, affiliation or role in any of `orgs`."""
    return User.objects.filter(
        Q(pk__in=Membership.objects.filter(ended_on__isnull=True, branch__in=orgs).values("user"))
        | Q(pk__in=Affiliation.objects.filter(ended_on__isnull=True, org__in=orgs).values("user"))
        | Q(pk__in=RoleGrant.objects.current().filter(org__in=orgs).values("user"))
    )


def managed_people(user: Any) -> QuerySet[User]:
    """The accounts a user administers: all for the system administrator, otherwise the
    people placed in the subtrees they are organization admin of."""
    if is_sysadmin(user):
        return User.objects.all()
    return people_in(managed_orgs(user))


def visible_people(user: Any) -> QuerySet[User]:
    """Managed people, plus everyone for the security administrator (to grant roles)."""
    if is_secadmin(user):
        return User.objects.all()
    return managed_people(user)


def manages_people(user: Any) -> bool:
    return is_sysadmin(user) or managed_orgs(user).exists()


def has_platform_role(person: User) -> bool:
    return PlatformRole.objects.filter(user=person).exists()


def can_change_person(actor: Any, person: User) -> bool:
    """The three platform accounts are kept by the security administrator alone (so the
    system administrator cannot, say, switch off the auditor); other accounts by the
    system administrator and the organization admins of the person's places."""
    if has_platform_role(person):
        return is_secadmin(actor) and bool(actor.pk != person.pk)
    if is_sysadmin(actor):
        return True
    managed = managed_orgs(actor)
    # Nor may an organization admin switch off someone who administers organizations
    # beyond her own reach (a higher-level admin who happens to be a member here).
    wider = RoleGrant.objects.current().filter(user=person, role=Role.ORG_ADMIN)
    if wider.exclude(org__in=managed).exists():
        return False
    return people_in(managed).filter(pk=person.pk).exists()
