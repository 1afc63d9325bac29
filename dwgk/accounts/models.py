"""People and their places (ORG-3, ORG-4): accounts, party membership, affiliation with a
unit, roles per organization, and the three separated platform roles (三员分立)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from dwgk.orgs.models import Organization


class User(AbstractUser):
    """One account per person. Chinese names are not split into first and last."""

    name = models.CharField(_("姓名"), max_length=60)
    phone = models.CharField(_("手机号码"), max_length=20, blank=True)
    first_name = None  # type: ignore[assignment]
    last_name = None  # type: ignore[assignment]

    REQUIRED_FIELDS = ["name"]

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")

    def __str__(self) -> str:
        return self.name or self.username

    def get_full_name(self) -> str:
        return self.name

    def get_short_name(self) -> str:
        return self.name


class Membership(models.Model):
    """A party member's place in one branch. One current row per person; transfers end the
    current row and open a new one, so the history stays."""

    class Kind(models.TextChoices):
        FULL = "full", _("正式党员")
        PROBATIONARY = "probationary", _("预备党员")

    class EndReason(models.TextChoices):
        TRANSFER = "transfer", _("组织关系转接")
        TRANSFER_OUT = "transfer_out", _("转出本平台范围")
        MERGED = "merged", _("组织合并")
        LEFT = "left", _("出党、停止党籍或去世")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("党员"),
        on_delete=models.PROTECT,
        related_name="memberships",
    )
    branch = models.ForeignKey(
        Organization,
        verbose_name=_("所在党支部"),
        on_delete=models.PROTECT,
        related_name="memberships",
    )
    kind = models.CharField(_("党员类别"), max_length=16, choices=Kind.choices, default=Kind.FULL)
    started_on = models.DateField(_("转入日期"))
    ended_on = models.DateField(_("转出日期"), null=True, blank=True)
    end_reason = models.CharField(
        _("转出原因"), max_length=16, choices=EndReason.choices, blank=True
    )

    class Meta:
        verbose_name = _("党员组织关系")
        verbose_name_plural = _("党员组织关系")
        ordering = ["-started_on", "-id"]
        constraints = [
            # ORG-4: a party member belongs to exactly one branch at a time.
            models.UniqueConstraint(
                fields=["user"], condition=Q(ended_on__isnull=True), name="one_current_branch"
            ),
        ]
        indexes = [models.Index(fields=["branch", "ended_on"], name="membership_branch_idx")]

    def __str__(self) -> str:
        return f"{self.user} @ {self.branch}"

    @property
    def is_current(self) -> bool:
        return self.ended_on is None


class Affiliation(models.Model):
    """A person's place in a unit (staff, students, residents — 群众), member or not."""

    class Kind(models.TextChoices):
        STAFF = "staff", _("职工")
        TEACHER = "teacher", _("教职工")
        STUDENT = "student", _("学生")
        MEDICAL = "medical", _("医务人员")
        RESIDENT = "resident", _("居民")
        VILLAGER = "villager", _("村民")
        OTHER = "other", _("其他")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("人员"),
        on_delete=models.PROTECT,
        related_name="affiliations",
    )
    org = models.ForeignKey(
        Organization,
        verbose_name=_("所在单位"),
        on_delete=models.PROTECT,
        related_name="affiliations",
    )
    kind = models.CharField(_("身份"), max_length=16, choices=Kind.choices, default=Kind.STAFF)
    started_on = models.DateField(_("开始日期"))
    ended_on = models.DateField(_("结束日期"), null=True, blank=True)

    class Meta:
        verbose_name = _("单位隶属")
        verbose_name_plural = _("单位隶属")
        ordering = ["-started_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "org"],
                condition=Q(ended_on__isnull=True),
                name="one_current_affiliation_per_unit",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.org}"


class Role(models.TextChoices):
    """Roles granted per organization (ORG-3)."""

    PRINCIPAL = "principal", _("主要负责人（第一责任人）")
    CLERK = "clerk", _("党务公开工作人员")
    REVIEWER = "reviewer", _("保密审查人")
    APPROVER = "approver", _("审批人")
    COORDINATOR = "coordinator", _("办公室统筹协调")
    SPOKESPERSON = "spokesperson", _("新闻发言人")
    SUPERVISOR = "supervisor", _("监督员")
    ORG_ADMIN = "org_admin", _("组织管理员")


class RoleGrantQuerySet(models.QuerySet["RoleGrant"]):
    def current(self) -> RoleGrantQuerySet:
        return self.filter(revoked_at__isnull=True)

    def covering(self, org: Organization) -> RoleGrantQuerySet:
        """Current grants that apply at `org`: made there, or inherited from an ancestor."""
        return self.current().filter(Q(org=org) | Q(inherit=True, org_id__in=org.ancestor_ids[:-1]))


class RoleGrant(models.Model):
    """A role held by a person in an organization, optionally inherited down its subtree."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("人员"),
        on_delete=models.PROTECT,
        related_name="role_grants",
    )
    org = models.ForeignKey(
        Organization, verbose_name=_("组织"), on_delete=models.PROTECT, related_name="role_grants"
    )
    role = models.CharField(_("角色"), max_length=16, choices=Role.choices)
    inherit = models.BooleanField(
        _("适用于下级组织"), default=False, help_text=_("勾选后，该角色在所有下级组织中同样有效。")
    )
    granted_at = models.DateTimeField(_("授予时间"), auto_now_add=True)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("授予人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    revoked_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("撤销人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    objects = RoleGrantQuerySet.as_manager()

    class Meta:
        verbose_name = _("组织角色")
        verbose_name_plural = _("组织角色")
        ordering = ["org__path", "role"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "org", "role"],
                condition=Q(revoked_at__isnull=True),
                name="one_current_grant",
            ),
        ]
        indexes = [
            models.Index(fields=["user", "revoked_at"], name="grant_user_idx"),
            models.Index(fields=["org", "role", "revoked_at"], name="grant_org_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.org} · {self.get_role_display()}"

    @property
    def is_current(self) -> bool:
        return self.revoked_at is None


class PlatformRole(models.Model):
    """三员分立: system administrator, security administrator and auditor are separate
    people. One row per account at most (the OneToOne makes combining impossible)."""

    class Kind(models.TextChoices):
        SYSADMIN = "sysadmin", _("系统管理员")
        SECADMIN = "secadmin", _("安全管理员")
        AUDITOR = "auditor", _("安全审计员")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("账号"),
        on_delete=models.PROTECT,
        related_name="platform_role",
    )
    kind = models.CharField(_("平台角色"), max_length=12, choices=Kind.choices)
    granted_at = models.DateTimeField(_("授予时间"), auto_now_add=True)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("授予人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("平台角色（三员）")
        verbose_name_plural = _("平台角色（三员）")

    def __str__(self) -> str:
        return f"{self.user} · {self.get_kind_display()}"
