"""Organizations (ORG-1, ORG-2): types as data and a hierarchy kept as a materialized path.

`path` is the concatenation of the ids of every ancestor and the organization itself, each
zero-padded to PATH_WIDTH digits. It doubles as the cached ancestor list: the ancestors'
ids are read off the path without a query, and a subtree is one index range scan
(`path >= P AND path < P+1`) on SQLite and PostgreSQL alike. Digits only, so the ordering
is the same under every collation.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

PATH_WIDTH = 8
MAX_DEPTH = 30


def path_segment(pk: int) -> str:
    return str(pk).zfill(PATH_WIDTH)


def path_ids(path: str) -> list[int]:
    """The ids a path is made of, root first."""
    return [int(path[i : i + PATH_WIDTH]) for i in range(0, len(path), PATH_WIDTH)]


def path_upper_bound(path: str) -> str:
    """The smallest digit string of the same length that sorts after every extension of path."""
    return str(int(path) + 1).zfill(len(path))


def subtree_q(path: str, prefix: str = "") -> Q:
    """A Q for the rows whose `<prefix>path` lies in the subtree rooted at `path`."""
    return Q(**{f"{prefix}path__gte": path, f"{prefix}path__lt": path_upper_bound(path)})


class OrgType(models.Model):
    """An organization type from ORG-1, loaded from data/org_types.toml on `migrate`."""

    class Category(models.TextChoices):
        LOCAL_COMMITTEE = "local_committee", _("地方党委")
        GRASSROOTS = "grassroots", _("党的基层组织")
        DISCIPLINE = "discipline", _("纪律检查机关")
        WORK_ORGAN = "work_organ", _("党的工作机关")
        DISPATCHED = "dispatched", _("党委派出机关")
        LEADING_GROUP = "leading_group", _("党组")
        INSTITUTION = "institution", _("党委直属事业单位")

    class Level(models.IntegerChoices):
        PROVINCE = 1, _("省级")
        CITY = 2, _("地市级")
        COUNTY = 3, _("县级")
        TOWNSHIP = 4, _("乡镇（街道）级")
        GRASSROOTS = 5, _("基层")

    code = models.SlugField(_("类型代码"), max_length=40, unique=True)
    name = models.CharField(_("类型名称"), max_length=60)
    category = models.CharField(_("类别"), max_length=20, choices=Category.choices)
    level = models.PositiveSmallIntegerField(_("层级"), choices=Level.choices)
    holds_members = models.BooleanField(_("可直接编入党员"), default=False)
    template = models.CharField(_("目录模板"), max_length=40)
    basis = models.CharField(_("依据条款"), max_length=120, blank=True)
    sort_order = models.PositiveSmallIntegerField(_("排序"), default=0)

    class Meta:
        verbose_name = _("组织类型")
        verbose_name_plural = _("组织类型")
        ordering = ["sort_order", "code"]

    def __str__(self) -> str:
        return self.name


class OrganizationQuerySet(models.QuerySet["Organization"]):
    def active(self) -> OrganizationQuerySet:
        return self.filter(status=Organization.Status.ACTIVE)

    def subtree_of(self, org: Organization) -> OrganizationQuerySet:
        """The organization and everything below it."""
        return self.filter(subtree_q(org.path))

    def subtrees_of(self, orgs: list[Organization]) -> OrganizationQuerySet:
        q = Q(pk__in=[])
        for org in orgs:
            q |= subtree_q(org.path)
        return self.filter(q)

    def ancestors_of(self, org: Organization, include_self: bool = True) -> OrganizationQuerySet:
        ids = org.ancestor_ids if include_self else org.ancestor_ids[:-1]
        return self.filter(pk__in=ids).order_by("path")


class Organization(models.Model):
    """A party organization: a node of the one hierarchy (ORG-2).

    Never hard-deleted once anything refers to it (every reference is PROTECT);
    it is dissolved or merged instead, with an OrgEvent kept for each change.
    """

    class Status(models.TextChoices):
        ACTIVE = "active", _("正常")
        DISSOLVED = "dissolved", _("已撤销")
        MERGED = "merged", _("已合并")

    name = models.CharField(_("组织名称"), max_length=120)
    short_name = models.CharField(_("简称"), max_length=60, blank=True)
    code = models.CharField(
        _("组织编码"),
        max_length=40,
        unique=True,
        help_text=_("本平台内唯一，用于索引号和名册导入，例如 MZ-SW。"),
    )
    org_type = models.ForeignKey(
        OrgType, verbose_name=_("组织类型"), on_delete=models.PROTECT, related_name="+"
    )
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级组织"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    path = models.CharField(
        _("路径"), max_length=PATH_WIDTH * MAX_DEPTH, db_index=True, editable=False
    )
    status = models.CharField(
        _("状态"), max_length=12, choices=Status.choices, default=Status.ACTIVE, db_index=True
    )
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("并入组织"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    ended_on = models.DateField(_("撤销/合并日期"), null=True, blank=True)
    sort_order = models.IntegerField(_("排序"), default=0)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    objects = OrganizationQuerySet.as_manager()

    class Meta:
        verbose_name = _("党组织")
        verbose_name_plural = _("党组织")
        ordering = ["path"]
        indexes = [models.Index(fields=["parent", "sort_order"], name="org_children_idx")]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        """New organizations get their path here; moves go through `orgs.actions.org_move`."""
        if self.pk is not None:
            super().save(*args, **kwargs)
            return
        if self.parent is not None and self.parent.depth >= MAX_DEPTH:
            raise ValueError("organization hierarchy too deep")
        self.path = ""
        super().save(*args, **kwargs)
        prefix = self.parent.path if self.parent is not None else ""
        self.path = prefix + path_segment(self.pk)
        Organization.objects.filter(pk=self.pk).update(path=self.path)

    @property
    def ancestor_ids(self) -> list[int]:
        """Ids from the root down to and including this organization."""
        return path_ids(self.path)

    @property
    def depth(self) -> int:
        return len(self.path) // PATH_WIDTH

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE

    @property
    def display_name(self) -> str:
        return self.short_name or self.name

    def is_in_subtree_of(self, other: Organization) -> bool:
        return self.path.startswith(other.path)


class OrgEvent(models.Model):
    """History of an organization: moves, renames, dissolution, merging."""

    class Kind(models.TextChoices):
        MOVED = "moved", _("调整隶属关系")
        RENAMED = "renamed", _("更名")
        DISSOLVED = "dissolved", _("撤销")
        MERGED = "merged", _("合并")

    org = models.ForeignKey(
        Organization, verbose_name=_("组织"), on_delete=models.PROTECT, related_name="events"
    )
    kind = models.CharField(_("事项"), max_length=12, choices=Kind.choices)
    at = models.DateTimeField(_("时间"), auto_now_add=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    from_parent = models.ForeignKey(
        Organization,
        verbose_name=_("原上级组织"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    to_parent = models.ForeignKey(
        Organization,
        verbose_name=_("新上级组织"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    old_name = models.CharField(_("原名称"), max_length=120, blank=True)
    new_name = models.CharField(_("新名称"), max_length=120, blank=True)
    note = models.TextField(_("说明"), blank=True)

    class Meta:
        verbose_name = _("组织沿革")
        verbose_name_plural = _("组织沿革")
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.org} {self.get_kind_display()}"
