"""One function per change to the organization tree: create, rename, move, dissolve, merge.

Each is atomic, checks the state and the actor's right (actor None = the operator's own
command), records an OrgEvent where the history matters, and writes the audit log."""

from __future__ import annotations

import datetime
from typing import Any

from django.db import transaction
from django.db.models import Value
from django.db.models.functions import Concat, Substr
from django.utils import timezone

from dwgk.audit.models import record
from dwgk.lib.errors import ActionError, NotAllowed
from dwgk.orgs.models import Organization, OrgEvent, OrgType, path_segment, subtree_q


def _policy() -> Any:
    # accounts depends on orgs, not the other way round: import at call time.
    from dwgk.accounts import policy

    return policy


def _require_manager(actor: Any, org: Organization) -> None:
    if actor is not None and not _policy().can_manage_org(actor, org):
        raise NotAllowed(f"您无权管理“{org.name}”。")


@transaction.atomic
def org_create(
    *,
    actor: Any,
    name: str,
    code: str,
    org_type: OrgType,
    parent: Organization | None,
    short_name: str = "",
    sort_order: int = 0,
) -> Organization:
    """Create an organization under `parent` (a root only for the system administrator)."""
    if parent is None:
        if actor is not None and not _policy().is_sysadmin(actor):
            raise NotAllowed("只有系统管理员可以创建顶级组织。")
    else:
        _require_manager(actor, parent)
        if not parent.is_active:
            raise ActionError(f"上级组织“{parent.name}”已撤销或合并。")
    if Organization.objects.filter(code=code).exists():
        raise ActionError(f"组织编码“{code}”已被使用。")
    org = Organization.objects.create(
        name=name,
        short_name=short_name,
        code=code,
        org_type=org_type,
        parent=parent,
        sort_order=sort_order,
    )
    record(actor, "org.create", org, org_id=org.pk, parent=parent.code if parent else None)
    return org


@transaction.atomic
def org_rename(org: Organization, *, actor: Any, name: str, short_name: str = "") -> Organization:
    _require_manager(actor, org)
    old = org.name
    if not name.strip():
        raise ActionError("组织名称不能为空。")
    org.name = name.strip()
    org.short_name = short_name.strip()
    org.save(update_fields=["name", "short_name"])
    if old != org.name:
        OrgEvent.objects.create(
            org=org, kind=OrgEvent.Kind.RENAMED, actor=actor, old_name=old, new_name=org.name
        )
    record(actor, "org.rename", org, org_id=org.pk, old_name=old)
    return org


@transaction.atomic
def org_set_sort_order(org: Organization, sort_order: int, *, actor: Any) -> None:
    """Change where an organization is listed among its siblings (not part of its history)."""
    _require_manager(actor, org)
    old = org.sort_order
    Organization.objects.filter(pk=org.pk).update(sort_order=sort_order)
    org.sort_order = sort_order
    record(actor, "org.reorder", org, org_id=org.pk, old=old, new=sort_order)


def _lock(*orgs: Organization) -> dict[int, Organization]:
    """Lock rows in id order (no deadlocks between two moves) and re-read their paths."""
    rows = Organization.objects.select_for_update().filter(pk__in=[o.pk for o in orgs])
    return {o.pk: o for o in rows.order_by("pk")}


def _move_subtree(org: Organization, new_parent: Organization) -> None:
    old_prefix = org.path
    new_prefix = new_parent.path + path_segment(org.pk)
    Organization.objects.filter(subtree_q(old_prefix)).update(
        path=Concat(Value(new_prefix), Substr("path", len(old_prefix) + 1))
    )
    Organization.objects.filter(pk=org.pk).update(parent=new_parent)
    org.path, org.parent = new_prefix, new_parent


@transaction.atomic
def org_move(org: Organization, new_parent: Organization, *, actor: Any, note: str = "") -> None:
    """Put an organization (with its whole subtree) under a new parent.

    Cycles are impossible: the new parent may not lie in the organization's own subtree.
    """
    locked = _lock(org, new_parent)
    org_l, parent_l = locked[org.pk], locked[new_parent.pk]
    _require_manager(actor, org_l)
    _require_manager(actor, parent_l)
    if parent_l.path.startswith(org_l.path):
        raise ActionError("不能把组织调整到它自己或它的下级组织之下。")
    if not parent_l.is_active or not org_l.is_active:
        raise ActionError("已撤销或合并的组织不能调整隶属关系。")
    if org_l.parent_id == parent_l.pk:
        raise ActionError(f"“{org_l.name}”已在“{parent_l.name}”之下。")
    from_parent_id = org_l.parent_id
    _move_subtree(org_l, parent_l)
    org.path, org.parent = org_l.path, parent_l
    OrgEvent.objects.create(
        org=org_l,
        kind=OrgEvent.Kind.MOVED,
        actor=actor,
        from_parent_id=from_parent_id,
        to_parent=parent_l,
        note=note,
    )
    record(actor, "org.move", org_l, org_id=org_l.pk, to_parent=parent_l.code)


@transaction.atomic
def org_dissolve(
    org: Organization, *, actor: Any, note: str = "", on: datetime.date | None = None
) -> None:
    """Dissolve (撤销) an organization that no longer has members, people or sub-organizations."""
    from dwgk.accounts.models import Affiliation, Membership, RoleGrant

    org = _lock(org)[org.pk]
    _require_manager(actor, org)
    if not org.is_active:
        raise ActionError(f"“{org.name}”已撤销或合并。")
    problems = []
    if Organization.objects.filter(parent=org, status=Organization.Status.ACTIVE).exists():
        problems.append("仍有下级组织")
    if Membership.objects.filter(branch=org, ended_on__isnull=True).exists():
        problems.append("仍有党员，请先办理组织关系转接")
    if Affiliation.objects.filter(org=org, ended_on__isnull=True).exists():
        problems.append("仍有隶属人员")
    if problems:
        raise ActionError(f"“{org.name}”不能撤销：" + "；".join(problems) + "。")
    RoleGrant.objects.current().filter(org=org).update(revoked_at=timezone.now(), revoked_by=actor)
    org.status = Organization.Status.DISSOLVED
    org.ended_on = on or timezone.localdate()
    org.save(update_fields=["status", "ended_on"])
    OrgEvent.objects.create(org=org, kind=OrgEvent.Kind.DISSOLVED, actor=actor, note=note)
    record(actor, "org.dissolve", org, org_id=org.pk, note=note)


@transaction.atomic
def org_merge(
    org: Organization,
    into: Organization,
    *,
    actor: Any,
    note: str = "",
    on: datetime.date | None = None,
) -> None:
    """Merge `org` into `into`: its sub-organizations move under `into`, its members and
    affiliated people move to `into`, its roles end; `org` is kept, marked as merged."""
    from dwgk.accounts.models import Affiliation, Membership, RoleGrant

    locked = _lock(org, into)
    org_l, into_l = locked[org.pk], locked[into.pk]
    _require_manager(actor, org_l)
    _require_manager(actor, into_l)
    if org_l.pk == into_l.pk or into_l.path.startswith(org_l.path):
        raise ActionError("不能把组织并入它自己或它的下级组织。")
    if not org_l.is_active or not into_l.is_active:
        raise ActionError("已撤销或合并的组织不能再合并。")
    day = on or timezone.localdate()
    members = Membership.objects.filter(branch=org_l, ended_on__isnull=True)
    if members.exists() and not into_l.org_type.holds_members:
        raise ActionError(f"“{into_l.name}”不是党支部，不能接收“{org_l.name}”的党员。")
    for child in Organization.objects.filter(parent=org_l, status=Organization.Status.ACTIVE):
        _move_subtree(child, into_l)
        OrgEvent.objects.create(
            org=child,
            kind=OrgEvent.Kind.MOVED,
            actor=actor,
            from_parent=org_l,
            to_parent=into_l,
            note=f"因“{org_l.name}”并入“{into_l.name}”",
        )
    for m in list(members):
        m.ended_on, m.end_reason = day, Membership.EndReason.MERGED
        m.save(update_fields=["ended_on", "end_reason"])
        Membership.objects.create(user=m.user, branch=into_l, kind=m.kind, started_on=day)
    for a in list(Affiliation.objects.filter(org=org_l, ended_on__isnull=True)):
        a.ended_on = day
        a.save(update_fields=["ended_on"])
        if not Affiliation.objects.filter(user=a.user, org=into_l, ended_on__isnull=True).exists():
            Affiliation.objects.create(user=a.user, org=into_l, kind=a.kind, started_on=day)
    RoleGrant.objects.current().filter(org=org_l).update(
        revoked_at=timezone.now(), revoked_by=actor
    )
    org_l.status = Organization.Status.MERGED
    org_l.merged_into = into_l
    org_l.ended_on = day
    org_l.save(update_fields=["status", "merged_into", "ended_on"])
    OrgEvent.objects.create(
        org=org_l, kind=OrgEvent.Kind.MERGED, actor=actor, to_parent=into_l, note=note
    )
    record(actor, "org.merge", org_l, org_id=org_l.pk, into=into_l.code)
