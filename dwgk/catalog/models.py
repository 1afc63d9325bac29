"""The disclosure catalog (党务公开目录, CAT-1 … CAT-7).

Each organization has one Catalog, made of numbered versions. A version is edited while it is
a draft (or was returned), adopted by the organization, filed with the upper-level
organization, acknowledged or returned by it, then published to its own audience (CAT-5).
Adjusting the catalog starts a new draft copied from the latest version; older versions stay
readable, and any two can be compared entry by entry (`lineage` follows an entry across
versions). Every step is a function in `catalog.actions`.
"""

from __future__ import annotations

import datetime
import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from dwgk.audience.keys import Audience
from dwgk.audience.models import AudiencedModel, AudienceKeyBase, AudienceQuerySet
from dwgk.catalog.approval import Step, describe_route, route_from_json
from dwgk.catalog.channels import describe_channels
from dwgk.catalog.timing import Timing
from dwgk.orgs.models import Organization


class Catalog(models.Model):
    org = models.OneToOneField(
        Organization, verbose_name=_("党组织"), on_delete=models.PROTECT, related_name="catalog"
    )
    ruleset = models.CharField(_("依据的实施细则"), max_length=20)
    created_at = models.DateTimeField(_("建立时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("党务公开目录")
        verbose_name_plural = _("党务公开目录")

    def __str__(self) -> str:
        return f"{self.org.name}党务公开目录"

    def latest_version(self) -> CatalogVersion | None:
        return self.versions.order_by("-number").first()

    def published_version(self) -> CatalogVersion | None:
        return self.versions.filter(status=CatalogVersion.Status.PUBLISHED).first()


class CatalogVersionQuerySet(AudienceQuerySet["CatalogVersion"]):
    def visible_to(self, user: Any) -> CatalogVersionQuerySet:
        """Published versions to their audience (CAT-5); every version to the people who
        work on the catalog: its organization's disclosure staff and the staff of the
        upper-level organization it is filed with. The one visibility rule for catalogs."""
        from dwgk.catalog.policy import catalog_staff_orgs_q

        audience = super().visible_to(user)
        staff_orgs = catalog_staff_orgs_q(user)
        if not staff_orgs:
            return audience  # type: ignore[return-value]
        orgs = Organization.objects.filter(staff_orgs)
        staff = Q(catalog__org__in=orgs) | Q(catalog__org__parent__in=orgs)
        return self.filter(Q(pk__in=audience.values("pk")) | staff)


class CatalogVersion(AudiencedModel):
    class Status(models.TextChoices):
        DRAFT = "draft", _("草稿")
        ADOPTED = "adopted", _("已审议通过")
        FILED = "filed", _("已报上级备案")
        RETURNED = "returned", _("上级退回修改")
        ACKNOWLEDGED = "acknowledged", _("上级已确认备案")
        PUBLISHED = "published", _("已公开")
        SUPERSEDED = "superseded", _("已被新版本替代")

    EDITABLE = (Status.DRAFT, Status.RETURNED)

    catalog = models.ForeignKey(
        Catalog, verbose_name=_("目录"), on_delete=models.PROTECT, related_name="versions"
    )
    number = models.PositiveIntegerField(_("版本号"))
    status = models.CharField(
        _("状态"), max_length=16, choices=Status.choices, default=Status.DRAFT, db_index=True
    )
    based_on = models.ForeignKey(
        "self",
        verbose_name=_("调整自"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    change_note = models.TextField(_("调整说明"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    adopted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    adopted_at = models.DateTimeField(_("审议通过记录时间"), null=True, blank=True)
    adopted_on = models.DateField(_("审议日期"), null=True, blank=True)
    adopted_meeting = models.CharField(_("审议会议"), max_length=120, blank=True)
    leader_name = models.CharField(_("负责人"), max_length=60, blank=True)
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    filed_at = models.DateTimeField(_("报备时间"), null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField(_("上级处理时间"), null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    published_at = models.DateTimeField(_("公开时间"), null=True, blank=True)
    superseded_at = models.DateTimeField(_("替代时间"), null=True, blank=True)

    objects = CatalogVersionQuerySet.as_manager()

    class Meta:
        verbose_name = _("目录版本")
        verbose_name_plural = _("目录版本")
        ordering = ["catalog", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["catalog", "number"], name="catalog_version_number"),
            # One version in the works and one published at a time.
            models.UniqueConstraint(
                fields=["catalog"],
                condition=Q(status__in=["draft", "adopted", "filed", "returned", "acknowledged"]),
                name="catalog_one_open_version",
            ),
            models.UniqueConstraint(
                fields=["catalog"], condition=Q(status="published"), name="catalog_one_published"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.catalog}（第{self.number}版）"

    @property
    def org(self) -> Organization:
        return self.catalog.org

    @property
    def is_editable(self) -> bool:
        return self.status in self.EDITABLE

    def audience_sort_value(self) -> datetime.datetime | None:
        if self.status in (self.Status.PUBLISHED, self.Status.SUPERSEDED):
            return self.published_at
        return None


class CatalogVersionAudience(AudienceKeyBase):
    obj = models.ForeignKey(CatalogVersion, on_delete=models.CASCADE, related_name="audience_keys")

    class Meta:
        indexes = [models.Index(fields=["key", "sort_at", "obj"], name="catalog_aud_feed")]
        constraints = [models.UniqueConstraint(fields=["obj", "key"], name="catalog_aud_uniq")]


class CatalogEntry(models.Model):
    """One row of the 目录表 (CAT-1), plus the structure behind its columns."""

    class State(models.TextChoices):
        # CAT-7 (QJ 9(2)): set only with the catalog-setting organization's approval, and
        # shown with a public explanation.
        ACTIVE = "active", _("正常")
        WITHHELD = "withheld", _("暂缓公开")
        CHANGED = "changed", _("已变更")
        REVOKED = "revoked", _("已撤销")
        ENDED = "ended", _("已终止")

    version = models.ForeignKey(
        CatalogVersion, verbose_name=_("目录版本"), on_delete=models.CASCADE, related_name="entries"
    )
    position = models.PositiveIntegerField(_("序号"))
    lineage = models.UUIDField(_("条目标识"), default=uuid.uuid4, db_index=True)
    content = models.TextField(_("公开内容"))
    category = models.CharField(_("内容类别"), max_length=60, blank=True)
    basis = models.CharField(_("依据条款"), max_length=120, blank=True)
    audience = models.JSONField(_("公开范围"), default=dict, blank=True)
    audience_note = models.CharField(_("公开范围说明"), max_length=200, blank=True)
    approval = models.JSONField(_("审批程序"), default=list, blank=True)
    channels = models.JSONField(_("公开方式"), default=list, blank=True)
    timing = models.JSONField(_("公开时间"), default=dict, blank=True)
    responsible = models.CharField(_("责任主体"), max_length=200, blank=True)
    co_units = models.CharField(_("协同单位或人员"), max_length=200, blank=True)
    remarks = models.TextField(_("备注"), blank=True)
    state = models.CharField(
        _("条目状态"), max_length=12, choices=State.choices, default=State.ACTIVE
    )
    state_note = models.TextField(_("状态说明（公开）"), blank=True)

    class Meta:
        verbose_name = _("目录条目")
        verbose_name_plural = _("目录条目")
        ordering = ["version", "position"]
        constraints = [
            models.UniqueConstraint(fields=["version", "lineage"], name="entry_lineage_once"),
        ]

    def __str__(self) -> str:
        return self.content[:40]

    def get_audience(self) -> Audience:
        return Audience.from_json(self.audience)

    def get_timing(self) -> Timing:
        return Timing.from_json(self.timing)

    def get_route(self) -> list[Step]:
        return route_from_json(self.approval)

    # The nine columns of the 目录表, as people read them.
    def audience_text(self) -> str:
        return self.audience_note or self.get_audience().describe()

    def approval_text(self) -> str:
        return describe_route(self.get_route())

    def channels_text(self) -> str:
        return describe_channels(list(self.channels))

    def start_text(self) -> str:
        return self.get_timing().describe_start()

    def duration_text(self) -> str:
        return self.get_timing().duration.describe()


class CatalogEvent(models.Model):
    """The catalog's own history: adoption, filing, the parent's acknowledgment or return
    with comments (CAT-3, CAT-6), entry exceptions (CAT-7), and plain comments."""

    class Kind(models.TextChoices):
        CREATED = "created", _("建立草稿")
        ADOPTED = "adopted", _("审议通过")
        FILED = "filed", _("报上级备案")
        RETURNED = "returned", _("退回修改")
        ACKNOWLEDGED = "acknowledged", _("确认备案")
        PUBLISHED = "published", _("公开目录")
        COMMENT = "comment", _("意见")
        ENTRY_STATE = "entry_state", _("条目状态变更")

    version = models.ForeignKey(
        CatalogVersion, verbose_name=_("目录版本"), on_delete=models.PROTECT, related_name="events"
    )
    kind = models.CharField(_("事项"), max_length=16, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_org = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField(_("时间"), auto_now_add=True)
    text = models.TextField(_("内容"), blank=True)

    class Meta:
        verbose_name = _("目录处理记录")
        verbose_name_plural = _("目录处理记录")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.version} {self.get_kind_display()}"
