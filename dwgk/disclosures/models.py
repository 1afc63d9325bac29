"""Disclosure items (公开事项) and everything the procedure records about them
(PROC-1 … PROC-8, MECH-1 … MECH-8, TIME-1, SCOPE-2).

An item belongs to one organization and fulfils one entry of its catalog, or is "out of
catalog" with a reason (PROC-7). Its content has numbered revisions: every content change
makes a new `Revision` snapshot, and reviews, co-confirmations and approvals each name the
revision they were given for, so a change after approval invalidates the approval. Every
step is a function in `disclosures.actions`, driven by the transition table there; each
writes the item's hash-chained `LogEntry` and the audit log.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import uuid
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connections, models, router
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from dwgk.audience.models import AudiencedModel, AudienceKeyBase, AudienceQuerySet
from dwgk.catalog.models import CatalogEntry
from dwgk.orgs.models import Organization

USER = settings.AUTH_USER_MODEL

# The content of an item: what a revision snapshots and what editing may change.
CONTENT_FIELDS = (
    "title",
    "doc_number",
    "category",
    "body",
    "audience",
    "channels",
    "timing_kind",
    "publish_at",
    "expire_at",
    "stage",
    "next_stage_at",
    "background",
    "significance",
    "key_points",
    "hot_spots",
    "response_plan",
    "co_units",
)
# The text fields the pre-screen reads (with the attachments' text) and may redact.
SCREENED_FIELDS = ("title", "body", "background", "significance", "key_points")


class DisclosureQuerySet(AudienceQuerySet["Disclosure"]):
    def visible_to(self, user: Any) -> DisclosureQuerySet:
        """Published items to their audience; every item, in any state, to the people who
        work on it: the disclosure staff of its organization and of the organization above
        (which approves escalated items and supervises), and of its co-units (PROC-8).
        THE visibility rule for disclosure items."""
        from dwgk.disclosures.policy import staff_orgs_q

        audience = super().visible_to(user)
        staff_orgs = staff_orgs_q(user)
        if staff_orgs is None:
            return audience  # type: ignore[return-value]
        orgs = Organization.objects.filter(staff_orgs)
        staff = (
            Q(org__in=orgs)
            | Q(org__parent__in=orgs)
            | Q(pk__in=CoConfirmation.objects.filter(org__in=orgs).values("disclosure"))
        )
        return self.filter(Q(pk__in=audience.values("pk")) | staff)

    def disclosed_to(self, user: Any) -> DisclosureQuerySet:
        """Only what was disclosed to this person as its audience: the reader's view that
        the public site, the member portal, feeds, posters and search show. The audience
        half of `visible_to`, without the staff's view of work in progress."""
        return super().visible_to(user)  # type: ignore[return-value]

    def published(self) -> DisclosureQuerySet:
        """Items that were disclosed (whatever became of them since)."""
        return self.filter(published_at__isnull=False)


ENTRY_OR_OUT_OF_CATALOG = models.CheckConstraint(
    condition=Q(out_of_catalog=True, entry__isnull=True)
    | Q(out_of_catalog=False, entry__isnull=False),
    name="disclosure_entry_or_out_of_catalog",
)


def _entry_or_out_of_catalog(out_of_catalog: Any, entry_id: Any) -> bool:
    """ENTRY_OR_OUT_OF_CATALOG's condition on one row's values, in Python."""
    if out_of_catalog is None:
        return True  # NULL passes a CHECK (it is the NOT NULL column that refuses it)
    return entry_id is None if out_of_catalog else entry_id is not None


def _existing_foreign_keys(instance: models.Model, exclude: set[str]) -> set[str]:
    """The names of the instance's foreign keys (not in `exclude`) whose value is a row
    that exists, found by one query (plain SQL: building it with the ORM cost more than
    running it); a value that cannot be read or is not found is left out, for Django's own
    field validation to report."""
    using = instance._state.db or router.db_for_write(type(instance), instance=instance)
    connection = connections[using]
    quote = connection.ops.quote_name
    checked: list[tuple[models.ForeignKey[Any, Any], Any]] = []
    parts, params = [], []
    for field in instance._meta.concrete_fields:
        if not isinstance(field, models.ForeignKey) or field.name in exclude:
            continue
        raw = getattr(instance, field.attname)
        if raw is None or field.get_limit_choices_to():
            continue  # nothing to look up, or a filter only Django's own check applies
        try:
            value = field.to_python(raw)
        except ValidationError:
            continue
        target = field.target_field
        parts.append(
            f"SELECT {len(checked)} FROM {quote(target.model._meta.db_table)} "  # noqa: S608 — names quoted, values params
            f"WHERE {quote(target.column)} = %s"
        )
        params.append(target.get_db_prep_value(value, connection))
        checked.append((field, value))
    if not parts:
        return set()
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), params)
        found = {n for (n,) in cursor.fetchall()}
    for n in found:
        field, value = checked[n]
        setattr(instance, field.attname, value)
    return {checked[n][0].name for n in found}


class Disclosure(AudiencedModel):
    class Status(models.TextChoices):
        DRAFT = "draft", _("草稿")
        SUBMITTED = "submitted", _("已提出，待审核")
        REVIEWING = "reviewing", _("审核中")
        REFERRED = "referred", _("待保密部门确定密级")
        CONFIRMING = "confirming", _("沟通会签中")
        APPROVING = "approving", _("审批中")
        APPROVED = "approved", _("已批准，待发布")
        SCHEDULED = "scheduled", _("已定时，待发布")
        PUBLISHED = "published", _("已公开")
        EXPIRED = "expired", _("已过公开期限")
        CLOSED = "closed", _("已结束")
        WITHDRAWN = "withdrawn", _("已撤回")
        RETURNED = "returned", _("退回修改")
        REJECTED = "rejected", _("不予公开")
        ARCHIVED = "archived", _("已归档")

    # Content may be edited here; in REVIEWING only by the reviewer's redaction.
    EDITABLE = (Status.DRAFT, Status.RETURNED)
    # The item has been disclosed and stays visible to its audience, marked as it is now.
    DISCLOSED = (Status.PUBLISHED, Status.EXPIRED, Status.CLOSED, Status.WITHDRAWN)

    class TimingKind(models.TextChoices):
        # TIME-1, the same kinds as catalog.timing.KINDS
        LONG_TERM = "long_term", _("长期公开")
        PERIODIC = "periodic", _("定期公开")
        PHASED = "phased", _("分期公开")
        IMMEDIATE = "immediate", _("即时公开")
        DELAYED = "delayed", _("延期公开")

    org = models.ForeignKey(
        Organization, verbose_name=_("党组织"), on_delete=models.PROTECT, related_name="+"
    )
    entry = models.ForeignKey(
        CatalogEntry,
        verbose_name=_("对应目录条目"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    out_of_catalog = models.BooleanField(_("目录外事项"), default=False)
    out_of_catalog_reason = models.TextField(_("目录外公开理由"), blank=True)

    title = models.CharField(_("标题"), max_length=200)
    doc_number = models.CharField(_("文号"), max_length=80, blank=True)
    category = models.CharField(_("内容类别"), max_length=60, blank=True)
    body = models.TextField(_("正文"), blank=True)
    channels = models.JSONField(_("公开方式"), default=list, blank=True)
    timing_kind = models.CharField(
        _("公开时间类型"), max_length=12, choices=TimingKind.choices, default="immediate"
    )
    publish_at = models.DateTimeField(_("拟发布时间"), null=True, blank=True)
    expire_at = models.DateTimeField(_("公开截止时间"), null=True, blank=True)
    stage = models.CharField(_("阶段"), max_length=60, blank=True)
    series = models.ForeignKey(
        "self",
        verbose_name=_("分期公开的首期"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="stages",
    )
    next_stage_at = models.DateTimeField(_("下一阶段预计时间"), null=True, blank=True)
    # MECH-4 policy interpretation
    background = models.TextField(_("出台背景"), blank=True)
    significance = models.TextField(_("重要意义"), blank=True)
    key_points = models.TextField(_("主要内容和要点"), blank=True)
    # MECH-6 opinion analysis
    hot_spots = models.TextField(_("预判舆情热点"), blank=True)
    response_plan = models.TextField(_("应对预案"), blank=True)
    # PROC-8: ids of the organizations the item must be confirmed with before it goes out.
    co_units = models.JSONField(_("沟通会签单位"), default=list, blank=True)

    status = models.CharField(
        _("状态"), max_length=12, choices=Status.choices, default=Status.DRAFT, db_index=True
    )
    revision = models.PositiveIntegerField(_("内容版本"), default=1)
    route = models.JSONField(_("审批程序"), default=list, blank=True)
    step = models.PositiveSmallIntegerField(_("当前审批环节"), default=0)

    author = models.ForeignKey(
        USER, verbose_name=_("承办人"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)
    submitted_at = models.DateTimeField(_("提出时间"), null=True, blank=True)
    approved_at = models.DateTimeField(_("批准时间"), null=True, blank=True)
    delay_reason = models.TextField(_("延期公开理由"), blank=True)
    delay_consent_by = models.ForeignKey(
        USER,
        verbose_name=_("同意延期"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    delay_consent_at = models.DateTimeField(_("同意延期时间"), null=True, blank=True)
    index_no = models.CharField(_("索引号"), max_length=80, null=True, blank=True, unique=True)
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True)
    published_revision = models.PositiveIntegerField(_("发布的内容版本"), null=True, blank=True)
    ended_at = models.DateTimeField(_("过期或结束时间"), null=True, blank=True)
    withdrawn_at = models.DateTimeField(_("撤回时间"), null=True, blank=True)
    correction_notice = models.TextField(_("更正说明"), blank=True)
    archived_at = models.DateTimeField(_("归档时间"), null=True, blank=True)
    # Set on published items of out-of-catalog origin until the clerk has dealt with the
    # proposed catalog update (PROC-7: "then the catalog is updated").
    catalog_update_pending = models.BooleanField(_("待纳入目录"), default=False)

    objects = DisclosureQuerySet.as_manager()

    class Meta:
        verbose_name = _("公开事项")
        verbose_name_plural = _("公开事项")
        ordering = ["-published_at", "-id"]
        indexes = [
            models.Index(fields=["status", "publish_at"], name="disclosure_due"),
            models.Index(fields=["status", "expire_at"], name="disclosure_expiry"),
            models.Index(fields=["org", "published_at"], name="disclosure_org_feed"),
        ]
        constraints = [ENTRY_OR_OUT_OF_CATALOG]

    def __str__(self) -> str:
        return self.title

    def clean_fields(self, exclude: Any = None) -> None:
        """Django's field validation, with every foreign key's existence checked by one
        query for all of them instead of one query each (a missing one is then left to
        Django, which reports it as it always does)."""
        exclude = set(exclude or ())
        super().clean_fields(exclude=exclude | _existing_foreign_keys(self, exclude))

    def validate_constraints(self, exclude: Any = None) -> None:
        """Django's constraint validation, except that the entry-or-out-of-catalog check,
        which reads two fields of this row, is decided here instead of by a query."""
        exclude = set(exclude or ())
        errors: dict[str, Any] = {}
        for model_class, constraints in self.get_constraints():
            for constraint in constraints:
                try:
                    if constraint.name == ENTRY_OR_OUT_OF_CATALOG.name:
                        if not exclude & {"entry", "out_of_catalog"} and not (
                            _entry_or_out_of_catalog(self.out_of_catalog, self.entry_id)
                        ):
                            raise ValidationError(
                                constraint.get_violation_error_message(),
                                code=constraint.violation_error_code,
                            )
                    else:
                        constraint.validate(model_class, self, exclude=exclude)  # type: ignore[attr-defined]
                except ValidationError as error:
                    errors = error.update_error_dict(errors)
        if errors:
            raise ValidationError(errors)

    def audience_sort_value(self) -> datetime.datetime | None:
        if self.status in self.DISCLOSED or (
            self.status == self.Status.ARCHIVED and self.published_at is not None
        ):
            return self.published_at
        return None

    @property
    def is_disclosed(self) -> bool:
        return self.audience_sort_value() is not None

    @property
    def is_taken_down(self) -> bool:
        """Withdrawn (MECH-7): only its title and correction notice are shown, to the same
        audience — also after it was archived, when its status no longer says withdrawn."""
        return self.withdrawn_at is not None or self.status == self.Status.WITHDRAWN

    @property
    def is_editable(self) -> bool:
        return self.status in self.EDITABLE

    def current_step(self) -> dict[str, Any] | None:
        route: list[dict[str, Any]] = list(self.route or [])
        return route[self.step] if self.step < len(route) else None

    @property
    def is_escalated(self) -> bool:
        """The item waits in the upper-level organization's queue."""
        step = self.current_step()
        return (
            self.status == self.Status.APPROVING and step is not None and step["kind"] == "parent"
        )

    def content(self) -> dict[str, Any]:
        """The revision-defining content as plain JSON values."""
        data: dict[str, Any] = {}
        for name in CONTENT_FIELDS:
            value = getattr(self, name)
            if isinstance(value, datetime.datetime):
                value = value.isoformat()
            data[name] = value
        # .all() then filtering in Python: uses a prefetch (the worker's), one query otherwise.
        data["attachments"] = [
            {"name": a.name, "sha256": a.sha256, "withheld": a.withheld}
            for a in sorted(self.attachments.all(), key=lambda a: a.pk)
            if not a.removed
        ]
        return data


class DisclosureAudience(AudienceKeyBase):
    obj = models.ForeignKey(Disclosure, on_delete=models.CASCADE, related_name="audience_keys")

    class Meta:
        indexes = [models.Index(fields=["key", "sort_at", "obj"], name="disclosure_aud_feed")]
        constraints = [models.UniqueConstraint(fields=["obj", "key"], name="disclosure_aud_uniq")]


def attachment_path(instance: Attachment, filename: str) -> str:
    # Never the uploader's name: a stored file is found by its row, not by guessing.
    return f"attachments/{datetime.date.today():%Y/%m}/{uuid.uuid4().hex}"


class Attachment(models.Model):
    """A file attached to an item, accepted by its content (lib.files.sniff). A withheld
    attachment (one the reviewer found personal or classified content in) stays for the
    record and is never served to the item's audience."""

    disclosure = models.ForeignKey(
        Disclosure, verbose_name=_("公开事项"), on_delete=models.PROTECT, related_name="attachments"
    )
    name = models.CharField(_("文件名"), max_length=200)
    kind = models.CharField(_("文件类型"), max_length=16)
    size = models.PositiveIntegerField(_("大小（字节）"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    file = models.FileField(_("文件"), upload_to=attachment_path, max_length=200)
    text = models.TextField(_("提取的文字"), blank=True)
    withheld = models.BooleanField(_("不予公开"), default=False)
    # Removed by the author before review: kept for the record, no longer part of the item.
    removed = models.BooleanField(_("已移除"), default=False)
    uploaded_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(_("上传时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("附件")
        verbose_name_plural = _("附件")
        # By the column, not the relation: "disclosure" would join the items table to sort
        # by their order on every `item.attachments.all()` (each step reads them twice).
        ordering = ["disclosure_id", "id"]

    def __str__(self) -> str:
        return self.name


class Revision(models.Model):
    """A snapshot of the item's content, one per content change, kept for the archive."""

    disclosure = models.ForeignKey(Disclosure, on_delete=models.PROTECT, related_name="revisions")
    number = models.PositiveIntegerField(_("版本"))
    content = models.JSONField(_("内容"))
    note = models.CharField(_("说明"), max_length=200, blank=True)
    by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(_("时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("内容版本")
        verbose_name_plural = _("内容版本")
        ordering = ["disclosure", "number"]
        constraints = [
            models.UniqueConstraint(fields=["disclosure", "number"], name="revision_number_once")
        ]

    def __str__(self) -> str:
        return f"{self.disclosure} 第{self.number}版"


RISK_ASPECTS = {
    # MECH-2 (SX 5b; BJ 23(2))
    "political": "政治安全风险",
    "stability": "社会稳定风险",
    "opinion": "舆情风险",
    "legality": "合法性",
    "rationality": "合理性",
    "feasibility": "可行性",
    "controllability": "可控性",
}
RISK_LEVELS = {"low": "低", "medium": "中", "high": "高"}


class Review(models.Model):
    """The reviewer's written opinion (PROC-2, MECH-1) and risk assessment (MECH-2)."""

    class Outcome(models.TextChoices):
        PASSED = "passed", _("审核通过")
        RETURNED = "returned", _("退回修改")
        REFERRED = "referred", _("报保密部门确定密级")
        CLEARED = "cleared", _("保密部门确认可以公开")
        REJECTED = "rejected", _("不予公开")

    disclosure = models.ForeignKey(Disclosure, on_delete=models.PROTECT, related_name="reviews")
    revision = models.PositiveIntegerField(_("审核的内容版本"))
    reviewer = models.ForeignKey(
        USER, verbose_name=_("审核人"), on_delete=models.PROTECT, related_name="+"
    )
    outcome = models.CharField(_("审核结论"), max_length=10, choices=Outcome.choices)
    confidentiality = models.TextField(_("保密审查意见"), blank=True)
    necessity = models.TextField(_("必要性意见"), blank=True)
    accuracy = models.TextField(_("准确性意见"), blank=True)
    normativity = models.TextField(_("规范性意见"), blank=True)
    risks = models.JSONField(_("风险评估"), default=dict, blank=True)
    prevention_plan = models.TextField(_("风险防范预案"), blank=True)
    findings = models.JSONField(_("预检结果"), default=dict, blank=True)
    comment = models.TextField(_("其他意见"), blank=True)
    at = models.DateTimeField(_("审核时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("审核意见")
        verbose_name_plural = _("审核意见")
        ordering = ["disclosure", "at", "id"]

    def __str__(self) -> str:
        return f"{self.disclosure} {self.get_outcome_display()}"

    def risk_rows(self) -> list[tuple[str, str, str]]:
        rows = []
        for code, label in RISK_ASPECTS.items():
            value = (self.risks or {}).get(code) or {}
            rows.append((label, RISK_LEVELS.get(value.get("level", ""), ""), value.get("note", "")))
        return rows


class CoConfirmation(models.Model):
    """A co-unit's answer (PROC-8; BJ 23(8)), one per co-unit and round (revision)."""

    class Answer(models.TextChoices):
        PENDING = "pending", _("待确认")
        AGREED = "agreed", _("同意")
        DISAGREED = "disagreed", _("不同意")

    disclosure = models.ForeignKey(
        Disclosure, on_delete=models.PROTECT, related_name="co_confirmations"
    )
    org = models.ForeignKey(
        Organization, verbose_name=_("会签单位"), on_delete=models.PROTECT, related_name="+"
    )
    revision = models.PositiveIntegerField(_("内容版本"))
    answer = models.CharField(
        _("意见"), max_length=10, choices=Answer.choices, default=Answer.PENDING
    )
    comment = models.TextField(_("说明"), blank=True)
    by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(_("答复时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("沟通会签")
        verbose_name_plural = _("沟通会签")
        ordering = ["disclosure", "revision", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["disclosure", "org", "revision"], name="co_confirmation_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.org} {self.get_answer_display()}"


class Approval(models.Model):
    """One decision on one approval step of one revision (PROC-3). An approving decision
    counts only for the revision it names; the unique constraint makes two approvers
    acting at once on the same step end with one decision, never two."""

    class Decision(models.TextChoices):
        APPROVED = "approved", _("同意")
        RETURNED = "returned", _("退回修改")
        REJECTED = "rejected", _("不同意公开")

    class Form(models.TextChoices):
        SIGNED = "signed", _("签批")
        COLLECTIVE = "collective", _("集体研究决定")

    disclosure = models.ForeignKey(Disclosure, on_delete=models.PROTECT, related_name="approvals")
    revision = models.PositiveIntegerField(_("批准的内容版本"))
    content_sha256 = models.CharField(_("批准内容的摘要"), max_length=64)
    step = models.PositiveSmallIntegerField(_("审批环节"))
    step_label = models.CharField(_("环节"), max_length=120)
    decision = models.CharField(_("决定"), max_length=10, choices=Decision.choices)
    form = models.CharField(_("形式"), max_length=12, choices=Form.choices)
    by = models.ForeignKey(
        USER, verbose_name=_("审批人"), on_delete=models.PROTECT, related_name="+"
    )
    acting_org = models.ForeignKey(
        Organization, verbose_name=_("审批组织"), on_delete=models.PROTECT, related_name="+"
    )
    meeting = models.CharField(_("会议名称"), max_length=120, blank=True)
    meeting_date = models.DateField(_("会议日期"), null=True, blank=True)
    minutes = models.TextField(_("会议记录摘要"), blank=True)
    comment = models.TextField(_("意见"), blank=True)
    at = models.DateTimeField(_("时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("审批记录")
        verbose_name_plural = _("审批记录")
        ordering = ["disclosure", "at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["disclosure", "revision", "step"],
                condition=Q(decision="approved"),
                name="approval_once_per_step",
            )
        ]

    def __str__(self) -> str:
        return f"{self.step_label} {self.get_decision_display()}"


class ScopeChange(models.Model):
    """Widening a disclosed item's audience (SCOPE-2 先党内后党外), with its own approval."""

    class Status(models.TextChoices):
        PENDING = "pending", _("待批准")
        APPROVED = "approved", _("已批准")
        REFUSED = "refused", _("未批准")

    disclosure = models.ForeignKey(
        Disclosure, on_delete=models.PROTECT, related_name="scope_changes"
    )
    old_audience = models.JSONField(_("原公开范围"))
    new_audience = models.JSONField(_("新公开范围"))
    reason = models.TextField(_("理由"))
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    proposed_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    proposed_at = models.DateTimeField(_("提出时间"), auto_now_add=True)
    decided_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(_("批准时间"), null=True, blank=True)
    comment = models.TextField(_("意见"), blank=True)

    class Meta:
        verbose_name = _("公开范围调整")
        verbose_name_plural = _("公开范围调整")
        ordering = ["disclosure", "proposed_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["disclosure"], condition=Q(status="pending"), name="scope_change_one_open"
            )
        ]

    def __str__(self) -> str:
        return f"{self.disclosure} {self.get_status_display()}"


class IndexCounter(models.Model):
    """The last serial of an organization's 索引号 in a year."""

    org = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["org", "year"], name="index_counter_once")]

    def __str__(self) -> str:
        return f"{self.org_id}/{self.year}/{self.last}"


def canonical_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


# What each logged step is called on the item page and in the archived record.
ACTION_LABELS = {
    "create": "起草",
    "edit": "修改内容",
    "edit_after_submission": "提出后修改（重新审核）",
    "attachment_add": "上传附件",
    "attachment_remove": "移除附件",
    "attachment_withhold": "附件不予公开",
    "submit": "提出",
    "start_review": "开始审核",
    "redact": "脱敏",
    "pass_review": "审核通过",
    "refer": "报保密部门确定密级",
    "referral_answer": "登记保密部门答复",
    "return": "退回修改",
    "reject": "不予公开",
    "confirm": "沟通会签",
    "approve": "审批同意",
    "schedule": "定时发布",
    "delay": "延期公开",
    "publish": "发布",
    "expire": "公开期限届满",
    "close": "结束",
    "withdraw": "紧急撤回",
    "correct": "发布更正说明",
    "archive": "归档",
    "widen_propose": "提出扩大公开范围",
    "widen_decide": "审批公开范围调整",
    "catalog_update": "目录外事项纳入目录",
}


class LogEntryQuerySet(models.QuerySet["LogEntry"]):
    def update(self, **kwargs: Any) -> int:
        raise ValueError("log entries cannot be changed")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise ValueError("log entries cannot be deleted")


class LogEntry(models.Model):
    """The item's own history, hash-chained: each entry's hash covers its content and the
    previous entry's hash, so changing, removing or reordering any entry breaks the chain
    from there on (`manage.py verify_disclosure_log`). Append-only, like the audit log."""

    disclosure = models.ForeignKey(Disclosure, on_delete=models.PROTECT, related_name="log")
    seq = models.PositiveIntegerField()
    at = models.DateTimeField()
    actor = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_label = models.CharField(max_length=150)
    action = models.CharField(max_length=48)
    status = models.CharField(max_length=12)
    revision = models.PositiveIntegerField()
    data = models.JSONField(default=dict)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    objects = LogEntryQuerySet.as_manager()

    class Meta:
        verbose_name = _("事项记录")
        verbose_name_plural = _("事项记录")
        ordering = ["disclosure", "seq"]
        constraints = [models.UniqueConstraint(fields=["disclosure", "seq"], name="log_seq_once")]

    def __str__(self) -> str:
        return f"{self.disclosure_id}#{self.seq} {self.action}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise ValueError("log entries cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise ValueError("log entries cannot be deleted")

    @property
    def label(self) -> str:
        return ACTION_LABELS.get(self.action, self.action)

    def compute_hash(self) -> str:
        payload = canonical_json(
            {
                "disclosure": self.disclosure_id,
                "seq": self.seq,
                "at": self.at.isoformat(),
                "actor": self.actor_id,
                "actor_label": self.actor_label,
                "action": self.action,
                "status": self.status,
                "revision": self.revision,
                "data": self.data,
                "prev": self.prev_hash,
            }
        )
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()


GENESIS = "0" * 64


class Reading(models.Model):
    """That a person has opened a disclosed item's page: the unread marks of 公开给我的."""

    user = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="+")
    disclosure = models.ForeignKey(Disclosure, on_delete=models.CASCADE, related_name="+")
    read_at = models.DateTimeField(_("阅读时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("阅读记录")
        verbose_name_plural = _("阅读记录")
        constraints = [
            models.UniqueConstraint(fields=["user", "disclosure"], name="reading_once"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} read {self.disclosure_id}"


def unread_ids(user: Any, items: list[Disclosure]) -> set[int]:
    """Which of these items the person has not opened yet (one query)."""
    if not user.is_authenticated or not items:
        return set()
    ids = {i.pk for i in items}
    seen = set(
        Reading.objects.filter(user=user, disclosure_id__in=ids).values_list(
            "disclosure_id", flat=True
        )
    )
    return ids - seen


def mark_read(user: Any, item: Disclosure) -> None:
    """Remember that the person opened a disclosed item (idempotent, never raises on a race)."""
    if user.is_authenticated and item.is_disclosed:
        Reading.objects.get_or_create(user=user, disclosure=item)
