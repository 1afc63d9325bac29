"""Who may do what with disclosure items (PROC-1 … PROC-8). Visibility itself is decided by
`Disclosure.objects.visible_to(user)`; these are the rights to act.

Roles, after the rules: the handling office proposes (PROC-1 "谁承办、谁提出": clerk,
coordinator, principal); the reviewer — or the principal, who answers for secrecy in a
small organization (CMU 11(2)) — reviews, but never their own item; approval follows the
route of the catalog entry (PROC-3); the principal consents to delays and withdraws in an
emergency (MECH-7); the spokesperson may add a correction notice (MECH-5).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from dwgk.accounts.models import Role
from dwgk.accounts.policy import has_role, orgs_with_roles_q
from dwgk.orgs.models import Organization

STAFF_ROLES = (
    Role.PRINCIPAL,
    Role.CLERK,
    Role.COORDINATOR,
    Role.REVIEWER,
    Role.APPROVER,
    Role.SUPERVISOR,
    Role.SPOKESPERSON,
)
PROPOSE_ROLES = (Role.CLERK, Role.COORDINATOR, Role.PRINCIPAL)
REVIEW_ROLES = (Role.REVIEWER, Role.PRINCIPAL)
CONFIRM_ROLES = (Role.PRINCIPAL, Role.CLERK, Role.COORDINATOR)
PUBLISH_ROLES = (Role.CLERK, Role.COORDINATOR, Role.PRINCIPAL)
# Who records a collective decision of the organization's leadership (the meeting's minutes).
RECORD_ROLES = (Role.PRINCIPAL, Role.CLERK)
PARENT_SIGN_ROLES = (Role.PRINCIPAL, Role.APPROVER)
WITHDRAW_ROLES = (Role.PRINCIPAL, Role.COORDINATOR)
CORRECT_ROLES = (Role.PRINCIPAL, Role.COORDINATOR, Role.CLERK, Role.SPOKESPERSON)


def staff_orgs_q(user: Any) -> Q | None:
    """A Q over Organization for where the user holds a disclosure staff role, or None."""
    return orgs_with_roles_q(user, STAFF_ROLES)


def works_on_org(user: Any, org: Organization) -> bool:
    """Works on this organization's items: disclosure staff of it or of its parent — the
    people `visible_to` shows its items to in every state."""
    staff = staff_orgs_q(user)
    if staff is None:
        return False
    ids = [org.pk] + ([org.parent_id] if org.parent_id else [])
    return Organization.objects.filter(staff, pk__in=ids).exists()


def any_role(user: Any, roles: tuple[str, ...], org: Organization | None) -> bool:
    return org is not None and any(has_role(user, role, org) for role in roles)


def can_propose(user: Any, org: Organization) -> bool:
    return any_role(user, PROPOSE_ROLES, org)


def can_edit(user: Any, item: Any) -> bool:
    return user == item.author or any_role(user, PROPOSE_ROLES, item.org)


def can_review(user: Any, item: Any) -> bool:
    # Four eyes: nobody reviews what they proposed.
    return user != item.author and any_role(user, REVIEW_ROLES, item.org)


def can_confirm(user: Any, org: Organization) -> bool:
    return any_role(user, CONFIRM_ROLES, org)


def step_org(item: Any, step: dict[str, Any]) -> Organization | None:
    """The organization that decides a route step: the item's own, or its parent."""
    org: Organization | None = item.org.parent if step["kind"] == "parent" else item.org
    return org


def can_sign(user: Any, item: Any, step: dict[str, Any]) -> bool:
    """May the user sign off this step personally?"""
    if step["kind"] == "role":
        return has_role(user, step["role"], item.org)
    if step["kind"] == "parent":
        return any_role(user, PARENT_SIGN_ROLES, item.org.parent)
    return False  # a collective decision is recorded, not signed


def can_record_collective(user: Any, item: Any, step: dict[str, Any]) -> bool:
    """May the user record a collective decision for this step? BJ 14(3): important items
    are decided by the principal leader *or* a collective decision of the leadership, so a
    collective decision also settles a step that names the principal."""
    if step["kind"] == "body" or (step["kind"] == "role" and step.get("role") == Role.PRINCIPAL):
        return any_role(user, RECORD_ROLES, item.org)
    if step["kind"] == "parent":
        return any_role(user, RECORD_ROLES, item.org.parent)
    return False


def can_act_on_step(user: Any, item: Any, step: dict[str, Any]) -> bool:
    return can_sign(user, item, step) or can_record_collective(user, item, step)


def can_publish(user: Any, item: Any) -> bool:
    return any_role(user, PUBLISH_ROLES, item.org)


def can_consent_delay(user: Any, item: Any) -> bool:
    """TIME-1 延期: with the organization's consent, given by its principal leader."""
    return has_role(user, Role.PRINCIPAL, item.org)


def can_withdraw(user: Any, item: Any) -> bool:
    return any_role(user, WITHDRAW_ROLES, item.org)


def can_correct(user: Any, item: Any) -> bool:
    return any_role(user, CORRECT_ROLES, item.org)


def can_archive(user: Any, item: Any) -> bool:
    return any_role(user, (Role.CLERK, Role.PRINCIPAL), item.org)


def can_decide_scope(user: Any, item: Any) -> bool:
    """Widening is approved like the item was: by the principal leader, and by the parent
    when the item's own route went up to it."""
    if any(step["kind"] == "parent" for step in item.route or []):
        return any_role(user, PARENT_SIGN_ROLES, item.org.parent)
    return has_role(user, Role.PRINCIPAL, item.org)


def is_staff(user: Any, item: Any) -> bool:
    """Sees the item's working record (reviews, drafts, withheld files): the same people
    `visible_to` lets see unpublished items."""
    q = staff_orgs_q(user)
    if q is None:
        return False
    orgs = Organization.objects.filter(q)
    return bool(
        orgs.filter(pk=item.org_id).exists()
        or (item.org.parent_id and orgs.filter(pk=item.org.parent_id).exists())
        or orgs.filter(pk__in=item.co_confirmations.values("org")).exists()
    )
