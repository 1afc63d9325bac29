"""Work queues ("my tasks") and notifications.

A Task is a piece of work waiting for whoever holds one of its roles at its organization
(or for one named person): review this item, approve that step, propose the monthly
disclosure. Domain actions open and close tasks as the state of their object changes, so a
queue is never out of step with the work. Notifications are in-app messages; the worker
mails them in digests, one mail per person per batch, never one per event.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dwgk.orgs.models import Organization

USER = settings.AUTH_USER_MODEL


class TaskQuerySet(models.QuerySet["Task"]):
    def open(self) -> TaskQuerySet:
        return self.filter(done_at__isnull=True)

    def for_user(self, user: Any) -> TaskQuerySet:
        """Tasks this user can take: named to them, or waiting for a role they hold at
        the task's organization (an inherited grant covers the grant organization's
        subtree). The person's current grants are read first (one small query, most
        people have none or a few), so that the task query is one indexed condition per
        grant instead of a correlated subquery run for every open task of the platform."""
        from dwgk.accounts.models import RoleGrant

        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        grants = (
            RoleGrant.objects.current()
            .filter(user=user)
            .order_by()
            .values_list("role", "org_id", "org__path", "inherit")
        )
        by_role = Q(pk__in=[])
        for role, org_id, org_path, inherit in grants:
            where = Q(org__path__startswith=org_path) if inherit else Q(org_id=org_id)
            by_role |= Q(roles__contains=f",{role},") & where
        return self.filter(Q(assignee=user) | (Q(assignee__isnull=True) & by_role))


class Task(models.Model):
    class Kind(models.TextChoices):
        PROPOSE = "propose", _("提出公开事项")
        REVISE = "revise", _("修改后重新提出")
        REVIEW = "review", _("审核")
        REFERRAL = "referral", _("登记保密部门意见")
        CONFIRM = "confirm", _("沟通会签")
        APPROVE = "approve", _("审批")
        PUBLISH = "publish", _("发布")
        SCOPE = "scope", _("审批公开范围调整")
        CATALOG_UPDATE = "catalog_update", _("目录外事项纳入目录")
        FEEDBACK = "feedback", _("处理意见")

    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices)
    title = models.CharField(_("事项"), max_length=255)
    url = models.CharField(_("链接"), max_length=255)
    org = models.ForeignKey(
        Organization, verbose_name=_("办理组织"), on_delete=models.PROTECT, related_name="+"
    )
    # ",reviewer,principal," — any holder of one of these roles at `org` may take it.
    roles = models.CharField(_("办理角色"), max_length=120, blank=True)
    assignee = models.ForeignKey(
        USER,
        verbose_name=_("办理人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # What the task is about: "disclosure:12", "catalog_entry:<lineage>:2026-12-04" …
    subject = models.CharField(_("对象"), max_length=80, db_index=True)
    due_at = models.DateTimeField(_("办理时限"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    done_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    overdue_warned_at = models.DateTimeField(_("逾期提醒时间"), null=True, blank=True)

    objects = TaskQuerySet.as_manager()

    class Meta:
        verbose_name = _("待办")
        verbose_name_plural = _("待办")
        ordering = ["due_at", "id"]
        indexes = [
            models.Index(fields=["done_at", "due_at"], name="task_open_due"),
            models.Index(fields=["org", "done_at"], name="task_org_open"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}：{self.title}"

    @property
    def is_overdue(self) -> bool:
        return self.done_at is None and self.due_at is not None and self.due_at < timezone.now()

    def role_list(self) -> list[str]:
        return [r for r in self.roles.split(",") if r]


class Notification(models.Model):
    user = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="notifications")
    text = models.CharField(_("内容"), max_length=300)
    url = models.CharField(_("链接"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("时间"), default=timezone.now)
    read_at = models.DateTimeField(_("已读时间"), null=True, blank=True)
    mailed_at = models.DateTimeField(_("邮件发送时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("通知")
        verbose_name_plural = _("通知")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "read_at"], name="notification_unread"),
            models.Index(fields=["mailed_at", "created_at"], name="notification_unmailed"),
        ]

    def __str__(self) -> str:
        return self.text
