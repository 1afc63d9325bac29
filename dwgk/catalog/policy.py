"""Who may work on which catalog (CAT-3, CAT-6)."""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from dwgk.accounts.models import Role
from dwgk.accounts.policy import has_role, orgs_with_roles_q
from dwgk.catalog.rulesets import current_ruleset
from dwgk.orgs.models import Organization

# Roles whose holders work on their organization's catalog and see all of its versions.
STAFF_ROLES = (
    Role.PRINCIPAL,
    Role.CLERK,
    Role.COORDINATOR,
    Role.REVIEWER,
    Role.APPROVER,
    Role.SUPERVISOR,
)
EDIT_ROLES = (Role.PRINCIPAL, Role.CLERK)
PARENT_REVIEW_ROLES = (Role.PRINCIPAL, Role.CLERK, Role.COORDINATOR)


def catalog_staff_orgs_q(user: Any) -> Q | None:
    """A Q over Organization for where the user is catalog staff, or None."""
    return orgs_with_roles_q(user, STAFF_ROLES)


def _any_role(user: Any, roles: tuple[str, ...], org: Organization) -> bool:
    return any(has_role(user, role, org) for role in roles)


def can_edit(user: Any, org: Organization) -> bool:
    """The clerk (or the principal) compiles the catalog. Where the rule-set has the upper
    organization set its subordinates' catalogs (QJ 6(1)), the parent's staff may too."""
    if _any_role(user, EDIT_ROLES, org):
        return True
    parent = org.parent
    return bool(
        parent is not None
        and current_ruleset().parent_sets_catalog
        and _any_role(user, EDIT_ROLES, parent)
    )


def can_adopt(user: Any, org: Organization) -> bool:
    """Adoption is the organization's decision, recorded by its principal leader (NM 14)."""
    return has_role(user, Role.PRINCIPAL, org)


def can_file(user: Any, org: Organization) -> bool:
    return _any_role(user, EDIT_ROLES, org)


def can_review_filing(user: Any, org: Organization) -> bool:
    """The upper-level organization acknowledges or returns a filed catalog (CAT-3)."""
    return org.parent is not None and _any_role(user, PARENT_REVIEW_ROLES, org.parent)


def can_publish(user: Any, org: Organization) -> bool:
    return _any_role(user, EDIT_ROLES, org)


def can_comment(user: Any, org: Organization) -> bool:
    """Guidance (CAT-6): the parent's staff and supervisors above may comment."""
    if org.parent is not None and _any_role(user, PARENT_REVIEW_ROLES, org.parent):
        return True
    return has_role(user, Role.SUPERVISOR, org) or _any_role(user, EDIT_ROLES, org)


def can_decide_entry_state(user: Any, org: Organization) -> bool:
    """Withholding, changing, revoking or ending an entry needs the catalog-setting
    organization's approval (QJ 9(2)): the parent's principal; the org's own for a root."""
    setter = org.parent or org
    return has_role(user, Role.PRINCIPAL, setter)
