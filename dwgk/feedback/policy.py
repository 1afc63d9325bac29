"""Who may do what with opinions (PROC-5). Visibility itself is `Opinion.objects.visible_to`.

The disclosure staff of the item's organization (`disclosures.policy.STAFF_ROLES`) see the
opinions with their submitters' identity; the office that proposes items — clerk,
coordinator, principal — handles them: records, assigns, answers, closes, rejects and
publishes. The assignee may answer what was assigned to them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dwgk.accounts.models import Role
from dwgk.disclosures.policy import any_role, staff_orgs_q
from dwgk.orgs.models import Organization, OrganizationQuerySet

if TYPE_CHECKING:
    from dwgk.feedback.models import Opinion

HANDLE_ROLES = (Role.CLERK, Role.COORDINATOR, Role.PRINCIPAL)


def staff_orgs(user: Any) -> OrganizationQuerySet | None:
    """The organizations whose opinions the user sees in full, or None."""
    q = staff_orgs_q(user)
    return None if q is None else Organization.objects.filter(q)


def is_handling_staff(user: Any, org_id: int) -> bool:
    orgs = staff_orgs(user)
    return orgs is not None and orgs.filter(pk=org_id).exists()


def can_handle_view(user: Any, op: Opinion) -> bool:
    """Sees the whole opinion, the submitter's identity included."""
    return is_handling_staff(user, op.org_id)


def can_handle(user: Any, org: Organization) -> bool:
    return any_role(user, HANDLE_ROLES, org)


def can_reply(user: Any, op: Opinion) -> bool:
    is_assignee = op.assignee_id is not None and getattr(user, "pk", None) == op.assignee_id
    return is_assignee or can_handle(user, op.org)
