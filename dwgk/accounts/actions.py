"""Every change to a person's places and roles goes through one function here, called the
same way from views, the admin, imports, commands and tests. Each is atomic, checks the
state and the actor's right (actor None means the system itself, e.g. a management
command run by the operator), and writes the audit log."""

from __future__ import annotations

import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from dwgk.accounts import policy
from dwgk.accounts.models import Affiliation, Membership, PlatformRole, Role, RoleGrant, User
from dwgk.audit.models import record
from dwgk.lib.errors import ActionError, NotAllowed
from dwgk.orgs.models import Organization


def _require_manager(actor: Any, org: Organization) -> None:
    if actor is not None and not policy.can_manage_org(actor, org):
        raise NotAllowed(f"您无权管理“{org.name}”的人员。")


def _check_branch(branch: Organization) -> None:
    if not branch.is_active:
        raise ActionError(f"“{branch.name}”已撤销或合并，不能编入党员。")
    if not branch.org_type.holds_members:
        raise ActionError(f"“{branch.name}”不是党支部，党员只能编入党支部。")


def _require_account_manager(actor: Any) -> None:
    # Accounts are made by the system administrator or by an organization admin, who then
    # places the person inside their own subtree.
    if actor is None or policy.is_sysadmin(actor):
        return
    if not RoleGrant.objects.current().filter(user=actor, role=Role.ORG_ADMIN).exists():
        raise NotAllowed("您无权创建或修改账号。")


@transaction.atomic
def user_create(
    *,
    actor: Any,
    username: str,
    name: str,
    phone: str = "",
    email: str = "",
    password_hash: str | None = None,
    via: str = "",
) -> User:
    """Open an account. Without `password_hash` it gets no usable password: its holder
    sets one through the platform's own procedure."""
    _require_account_manager(actor)
    if not username.strip() or not name.strip():
        raise ActionError("登录名和姓名不能为空。")
    if User.objects.filter(username__iexact=username).exists():
        raise ActionError(f"登录名“{username}”已被使用。")
    user = User(username=username, name=name, phone=phone, email=email)
    if password_hash is None:
        user.set_unusable_password()
    else:
        user.password = password_hash
    user.save()
    record(actor, "user.create", user, user=username, via=via)
    return user


@transaction.atomic
def user_update(user: User, *, actor: Any, via: str = "", **changes: Any) -> User:
    """Change an account's name, phone, e-mail or whether it may sign in."""
    if actor is not None and not policy.can_change_person(actor, user):
        raise NotAllowed(f"您无权修改账号“{user.username}”。")
    allowed = {"name", "phone", "email", "is_active"}
    if not set(changes) <= allowed:
        raise ActionError("只能修改姓名、手机号码、电子邮箱和账号状态。")
    old = {key: getattr(user, key) for key in changes}
    for key, value in changes.items():
        setattr(user, key, value)
    user.save(update_fields=list(changes))
    record(actor, "user.update", user, user=user.username, old=old, new=changes, via=via)
    return user


def current_membership(user: User) -> Membership | None:
    return (
        Membership.objects.select_related("branch").filter(user=user, ended_on__isnull=True).first()
    )


@transaction.atomic
def member_join(
    user: User,
    branch: Organization,
    *,
    actor: Any,
    started_on: datetime.date | None = None,
    kind: str = Membership.Kind.FULL,
) -> Membership:
    """Enter a person into a branch as a party member (they must have no current branch)."""
    _require_manager(actor, branch)
    _check_branch(branch)
    User.objects.select_for_update().filter(pk=user.pk).first()
    if current_membership(user) is not None:
        raise ActionError(f"{user.name}已在其他党支部，请办理组织关系转接。")
    membership = Membership.objects.create(
        user=user, branch=branch, kind=kind, started_on=started_on or timezone.localdate()
    )
    record(actor, "membership.join", membership, org_id=branch.pk, branch=branch.code)
    return membership


@transaction.atomic
def member_transfer(
    user: User,
    to_branch: Organization,
    *,
    actor: Any,
    on: datetime.date | None = None,
    reason: str = Membership.EndReason.TRANSFER,
) -> Membership:
    """Move a member to another branch: the old row ends, a new one starts (history kept)."""
    User.objects.select_for_update().filter(pk=user.pk).first()
    current = current_membership(user)
    if current is None:
        raise ActionError(f"{user.name}目前没有所在党支部，无法转接。")
    if current.branch_id == to_branch.pk:
        raise ActionError(f"{user.name}已在“{to_branch.name}”。")
    if actor is not None and not (
        policy.can_manage_org(actor, current.branch) or policy.can_manage_org(actor, to_branch)
    ):
        raise NotAllowed("您无权办理该党员的组织关系转接。")
    _check_branch(to_branch)
    day = on or timezone.localdate()
    current.ended_on = day
    current.end_reason = reason
    current.save(update_fields=["ended_on", "end_reason"])
    new = Membership.objects.create(user=user, branch=to_branch, kind=current.kind, started_on=day)
    record(
        actor,
        "membership.transfer",
        new,
        org_id=to_branch.pk,
        from_branch=current.branch.code,
        to_branch=to_branch.code,
    )
    return new


@transaction.atomic
def member_leave(
    user: User,
    *,
    actor: Any,
    reason: str = Membership.EndReason.TRANSFER_OUT,
    on: datetime.date | None = None,
) -> Membership:
    current = current_membership(user)
    if current is None:
        raise ActionError(f"{user.name}目前没有所在党支部。")
    _require_manager(actor, current.branch)
    current.ended_on = on or timezone.localdate()
    current.end_reason = reason
    current.save(update_fields=["ended_on", "end_reason"])
    record(actor, "membership.leave", current, org_id=current.branch_id, reason=reason)
    return current


@transaction.atomic
def affiliate(
    user: User,
    org: Organization,
    *,
    actor: Any,
    kind: str = Affiliation.Kind.STAFF,
    started_on: datetime.date | None = None,
) -> Affiliation:
    """Record that a person belongs to a unit (staff, student, resident ...)."""
    _require_manager(actor, org)
    if not org.is_active:
        raise ActionError(f"“{org.name}”已撤销或合并。")
    if Affiliation.objects.filter(user=user, org=org, ended_on__isnull=True).exists():
        raise ActionError(f"{user.name}已隶属于“{org.name}”。")
    aff = Affiliation.objects.create(
        user=user, org=org, kind=kind, started_on=started_on or timezone.localdate()
    )
    record(actor, "affiliation.add", aff, org_id=org.pk)
    return aff


@transaction.atomic
def affiliation_end(aff: Affiliation, *, actor: Any, on: datetime.date | None = None) -> None:
    _require_manager(actor, aff.org)
    if aff.ended_on is not None:
        raise ActionError("该隶属关系已经结束。")
    aff.ended_on = on or timezone.localdate()
    aff.save(update_fields=["ended_on"])
    record(actor, "affiliation.end", aff, org_id=aff.org_id)


@transaction.atomic
def role_grant(
    user: User, org: Organization, role: str, *, actor: Any, inherit: bool = False
) -> RoleGrant:
    """Grant a role at an organization (ORG-3)."""
    if role not in Role.values:
        raise ActionError(f"未知的角色：{role}")
    if actor is not None and not policy.can_grant_roles(actor, org):
        raise NotAllowed(f"您无权在“{org.name}”授予角色。")
    if actor is not None and actor.pk == user.pk and not policy.is_secadmin(actor):
        raise NotAllowed("不能给自己授予角色。")
    if not org.is_active:
        raise ActionError(f"“{org.name}”已撤销或合并，不能授予角色。")
    if not user.is_active:
        raise ActionError(f"账号“{user.username}”已停用。")
    if RoleGrant.objects.current().filter(user=user, org=org, role=role).exists():
        raise ActionError(f"{user.name}已是“{org.name}”的{Role(role).label}。")
    grant = RoleGrant.objects.create(
        user=user, org=org, role=role, inherit=inherit, granted_by=actor if actor else None
    )
    record(
        actor, "role.grant", grant, org_id=org.pk, role=role, inherit=inherit, user=user.username
    )
    return grant


@transaction.atomic
def role_revoke(grant: RoleGrant, *, actor: Any) -> RoleGrant:
    grant = RoleGrant.objects.select_for_update().select_related("org", "user").get(pk=grant.pk)
    if actor is not None and not policy.can_grant_roles(actor, grant.org):
        raise NotAllowed(f"您无权撤销“{grant.org.name}”的角色。")
    if grant.revoked_at is not None:
        raise ActionError("该角色已经撤销。")
    grant.revoked_at = timezone.now()
    grant.revoked_by = actor if actor else None
    grant.save(update_fields=["revoked_at", "revoked_by"])
    record(
        actor, "role.revoke", grant, org_id=grant.org_id, role=grant.role, user=grant.user.username
    )
    return grant


@transaction.atomic
def platform_role_grant(user: User, kind: str, *, actor: Any) -> PlatformRole:
    """Make an account a system administrator, security administrator or auditor.

    三员分立: an account holds at most one of the three, and nobody grants one to themselves.
    Only the security administrator (or the operator at the command line) grants them.
    """
    if kind not in PlatformRole.Kind.values:
        raise ActionError(f"未知的平台角色：{kind}")
    if actor is not None and not policy.is_secadmin(actor):
        raise NotAllowed("只有安全管理员可以授予平台角色。")
    if actor is not None and actor.pk == user.pk:
        raise NotAllowed("不能给自己授予平台角色。")
    existing = PlatformRole.objects.filter(user=user).first()
    if existing is not None:
        raise ActionError(
            f"账号“{user.username}”已是{existing.get_kind_display()}，"
            "系统管理员、安全管理员和安全审计员不能由同一账号兼任。"
        )
    pr = PlatformRole.objects.create(user=user, kind=kind, granted_by=actor if actor else None)
    record(actor, "platform_role.grant", pr, kind=kind, user=user.username)
    return pr


@transaction.atomic
def platform_role_revoke(user: User, *, actor: Any) -> None:
    if actor is not None and not policy.is_secadmin(actor):
        raise NotAllowed("只有安全管理员可以撤销平台角色。")
    if actor is not None and actor.pk == user.pk:
        raise NotAllowed("不能撤销自己的平台角色。")
    pr = PlatformRole.objects.filter(user=user).first()
    if pr is None:
        raise ActionError(f"账号“{user.username}”没有平台角色。")
    kind = pr.kind
    # The row is removed (OneToOne); the audit entry keeps the history.
    pr.delete()
    record(actor, "platform_role.revoke", user, kind=kind, user=user.username)
